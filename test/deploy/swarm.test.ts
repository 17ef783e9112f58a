/**
 * deploy/swarm/stack.yml: valid against the Compose Specification's JSON schema (vendored in
 * deploy/swarm/schema/), and laid out as the DeepHealth deployment was: slurmctld, slurmd
 * workers and grm, two attachable overlay networks with their subnets as variables, grm and
 * slurmctld on both, the munge key and slurm.conf as swarm secrets and configs, one slurmd
 * service for each node of slurm.conf.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import t from 'tap';
import YAML from 'yaml';
import { PROJECT_ROOT } from '../helpers/system.js';
import { env, parseDockerfile } from './dockerfile-stages.js';

const SWARM = path.join(PROJECT_ROOT, 'deploy/swarm');

interface Service {
  image?: string;
  command?: string[];
  hostname?: string;
  networks?: string[];
  secrets?: { source: string; target: string }[];
  configs?: { source: string; target: string }[];
  environment?: Record<string, string>;
  ports?: { target: number; published: string }[];
}
interface Stack {
  services: Record<string, Service>;
  networks: Record<string, { driver: string; attachable: boolean; ipam: { config: { subnet: string }[] } }>;
  secrets: Record<string, { file: string }>;
  configs: Record<string, { file: string }>;
}

/** As docker stack deploy reads it: YAML 1.1 (0400 is octal), merge keys (<<). */
function loadStack(text: string): Stack {
  return YAML.parse(text, { version: '1.1', merge: true }) as Stack;
}

const schema = JSON.parse(fs.readFileSync(path.join(SWARM, 'schema/compose-spec.json'), 'utf8')) as Record<string, unknown>;
// the file names its draft by an https URL ajv does not know; the draft-07 meta-schema is ajv's default
delete schema.$schema;
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
const errorsOf = (doc: unknown): string[] =>
  validate(doc) ? [] : (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath} ${e.message}`);

const stackText = fs.readFileSync(path.join(SWARM, 'stack.yml'), 'utf8');
const stack = loadStack(stackText);

t.test('stack.yml is valid against the Compose Specification schema', async (t) => {
  t.same(errorsOf(stack), []);
});

t.test('the schema check fails on a stack file that is not valid', async (t) => {
  const bad = loadStack(stackText) as unknown as Record<string, Record<string, Record<string, unknown>>>;
  bad.services!.grm!.netwroks = ['slurm_overlay'];
  bad.services!.slurmctld!.secrets = 'munge_key' as unknown as Record<string, unknown>;
  const errors = errorsOf(bad);
  t.match(errors.join('\n'), /must NOT have additional properties/, 'a misspelt key');
  t.match(errors.join('\n'), /slurmctld\/secrets must be array/, 'a wrong type');
});

t.test('two attachable overlay networks, subnets as variables; grm and slurmctld on both', async (t) => {
  t.same(Object.keys(stack.networks).sort(), ['compss_overlay', 'slurm_overlay']);
  for (const [name, variable] of [['slurm_overlay', 'SLURM_SUBNET'], ['compss_overlay', 'COMPSS_SUBNET']] as const) {
    const n = stack.networks[name]!;
    t.equal(n.driver, 'overlay', `${name} is an overlay`);
    t.equal(n.attachable, true, `${name} is attachable`);
    t.match(n.ipam.config[0]!.subnet, new RegExp(`^\\$\\{${variable}:-\\d+\\.\\d+\\.\\d+\\.\\d+/\\d+\\}$`), `${name}'s subnet is \${${variable}} with a default`);
  }
  t.not(stack.networks.slurm_overlay!.ipam.config[0]!.subnet.split(':-')[1], stack.networks.compss_overlay!.ipam.config[0]!.subnet.split(':-')[1], 'distinct default subnets');
  for (const s of ['grm', 'slurmctld']) t.same([...(stack.services[s]!.networks ?? [])].sort(), ['compss_overlay', 'slurm_overlay'], `${s} on both`);
});

t.test('slurmctld and one slurmd per node of slurm.conf, each running slurm-node.sh with its role', async (t) => {
  const conf = fs.readFileSync(path.join(SWARM, 'slurm.conf'), 'utf8');
  t.match(conf, /^SlurmctldHost=slurmctld$/m, 'the controller is the slurmctld service');
  const nodeLine = /^NodeName=(\S+)-\[(\d+)-(\d+)\]/m.exec(conf);
  t.ok(nodeLine, 'slurm.conf has a node range');
  const [, prefix, first, last] = nodeLine!;
  const nodes = Array.from({ length: Number(last) - Number(first) + 1 }, (_, i) => `${prefix}-${Number(first) + i}`);
  t.ok(nodes.length >= 2, `${nodes.length} slurmd workers`);
  const slurmds = Object.keys(stack.services).filter((s) => s.startsWith('slurmd')).sort();
  t.same(slurmds, nodes, 'a service per NodeName');
  for (const n of nodes) {
    t.same(stack.services[n]!.command, ['slurmd', n], `${n} runs slurmd as node ${n}`);
    t.equal(stack.services[n]!.hostname, n);
  }
  t.same(stack.services.slurmctld!.command, ['slurmctld']);
  t.match(stack.services.grm!.image, /grm-compss/, 'grm: the COMPSs stage of docker/Dockerfile');
  t.equal(stack.services.grm!.environment?.GRM_BACKEND, 'slurm');
});

t.test('the munge key is a secret and slurm.conf a config, given to every SLURM party', async (t) => {
  t.ok(stack.secrets.munge_key, 'secret munge_key');
  t.equal(stack.configs.slurm_conf?.file, './slurm.conf');
  t.ok(fs.existsSync(path.join(SWARM, stack.configs.slurm_conf!.file)), 'slurm.conf exists beside the stack file');
  t.match(fs.readFileSync(path.join(SWARM, '.gitignore'), 'utf8'), /^munge\.key$/m, 'the munge key made by the README steps is never committed');
  for (const [name, s] of Object.entries(stack.services)) {
    t.same(
      s.secrets?.find((x) => x.source === 'munge_key')?.target,
      'munge.key',
      `${name} gets the key at /run/secrets/munge.key (MUNGE_KEY_FILE of slurm-node.sh)`,
    );
    t.equal(s.configs?.find((x) => x.source === 'slurm_conf')?.target, '/etc/slurm/slurm.conf', `${name} gets slurm.conf`);
  }
});

t.test("grm: TLS and the first admin's token as secrets the daemon reads", async (t) => {
  const grm = stack.services.grm!;
  const target = (source: string) => grm.secrets?.find((x) => x.source === source)?.target;
  t.equal(grm.environment?.GRM_ADMIN_TOKEN_FILE, `/run/secrets/${target('grm_admin_token')}`, 'GRM_ADMIN_TOKEN_FILE is the secret');
  const image = env(parseDockerfile('docker/Dockerfile').stages.find((s) => s.name === 'grm-compss')!);
  t.equal(target('grm_tls_key'), image.GRM_TLS_KEY, "at the grm-compss image's GRM_TLS_KEY");
  t.equal(grm.configs?.find((x) => x.source === 'grm_tls_cert')?.target, image.GRM_TLS_CERT, "at the image's GRM_TLS_CERT");
  t.equal(stack.services.grm!.ports?.[0]?.target, Number(image.GRM_PORT), "the published port is the image's GRM_PORT");
  const ignored = fs.readFileSync(path.join(SWARM, '.gitignore'), 'utf8');
  for (const file of [stack.secrets.grm_admin_token!.file, stack.secrets.grm_tls_key!.file]) {
    t.ok(ignored.split('\n').some((l) => l && file.replace(/^\.\//, '').startsWith(l)), `${file} is never committed`);
  }
});

t.test('README walks from docker swarm init to grm sbatch', async (t) => {
  const text = fs.readFileSync(path.join(SWARM, 'README.md'), 'utf8');
  const readme = text.slice(text.indexOf('```sh'));
  const steps = ['docker swarm init', 'docker build -f docker/slurm.Dockerfile', 'docker stack deploy -c deploy/swarm/stack.yml', 'grm sbatch'];
  const at = steps.map((s) => readme.indexOf(s));
  t.notOk(at.includes(-1), 'every step is there');
  t.same([...at].sort((a, b) => a - b), at, 'in that order');
});
