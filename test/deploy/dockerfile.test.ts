/**
 * The images (docker/), checked without a Docker engine: the Dockerfiles parsed (stages, user,
 * healthcheck, entrypoint, what each stage installs and copies), and the daemon started with
 * the grm image's own environment, to see it refuse to serve without TLS and its healthcheck
 * script tell a healthy daemon from a gone one.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import readline from 'node:readline';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import '../helpers/no-spawn-hook.js';
import { PROJECT_ROOT } from '../helpers/system.js';
import { all, copySources, env, healthcheck, parseDockerfile, words, type Stage } from './dockerfile-stages.js';

const run = promisify(execFile);
const GRM = path.join(PROJECT_ROOT, 'bin/grm.js');
const HEALTHCHECK = path.join(PROJECT_ROOT, 'docker/healthcheck.mjs');

const grmFile = parseDockerfile('docker/Dockerfile');
const slurmFile = parseDockerfile('docker/slurm.Dockerfile');
const stage = (name: string): Stage => {
  const found = grmFile.stages.find((s) => s.name === name);
  if (!found) throw new Error(`docker/Dockerfile has no stage ${name}`);
  return found;
};
const runText = (s: Stage) => all(s, 'RUN').map((i) => words(i).join(' '));

/** The user a stage ends as, and whether the stage itself creates it. */
function finalUser(s: Stage): string | undefined {
  return all(s, 'USER').map((i) => words(i)[0]).at(-1);
}

function checkRuntimeStage(t: Test, s: Stage, dataDir: string): void {
  const user = finalUser(s);
  t.ok(user, `${s.name} sets USER`);
  t.notOk(['root', '0', '0:0'].includes(user ?? 'root'), `${s.name} runs as ${user}, not root`);
  t.match(runText(s).join('\n'), new RegExp(`useradd [^\\n]*\\b${user}\\b`), `${s.name} creates its user ${user}`);

  const checks = all(s, 'HEALTHCHECK');
  t.equal(checks.length, 1, `${s.name} has one HEALTHCHECK`);
  const hc = healthcheck(checks[0]!);
  t.same(hc.command.slice(0, 1), ['node'], 'the healthcheck runs node');
  t.equal(hc.command[1], '/opt/grm/docker/healthcheck.mjs', 'on healthcheck.mjs');
  t.ok(hc.flags.interval && hc.flags.timeout, 'with an interval and a timeout');

  const entrypoint = words(all(s, 'ENTRYPOINT').at(-1)!);
  t.same(entrypoint.slice(0, 2), ['/usr/bin/tini', '--'], `${s.name}: tini is PID 1`);
  t.match(runText(s).join('\n'), /apt-get install [^\n]*\btini\b/, `${s.name} installs tini`);

  t.same(all(s, 'VOLUME').flatMap(words), [dataDir], `${s.name}: the data dir is a volume`);
  const e = env(s);
  t.equal(e.GRM_DATA_DIR, dataDir, 'GRM_DATA_DIR is that volume');
  t.equal(e.GRM_HOST, '0.0.0.0', 'the daemon listens beyond loopback...');
  t.ok(e.GRM_TLS_KEY && e.GRM_TLS_CERT, '...so TLS files are named');
  t.same(all(s, 'EXPOSE').flatMap(words), [e.GRM_PORT], 'EXPOSE is GRM_PORT');
}

t.test('docker/Dockerfile: multi-stage, build with dev deps, run with production deps only', async (t) => {
  t.same(
    grmFile.stages.map((s) => s.name),
    ['build', 'deps', 'grm-compss', 'grm'],
    'stages in order; the default target (last) is grm',
  );
  t.match(stage('grm').image, /^node:20-/, 'the daemon stage is on Node.js 20');
  t.match(stage('build').image, /^node:20-/);

  const build = runText(stage('build')).join('\n');
  t.match(build, /npm ci(?! [^\n]*--omit=dev)/, 'build: npm ci with the dev dependencies');
  t.match(build, /npm run build/, 'build: npm run build (tsc and the C supervisor)');
  t.match(runText(stage('deps')).join('\n'), /npm ci [^\n]*--omit=dev/, 'deps: production dependencies only');

  const grm = stage('grm');
  t.same(runText(grm).filter((r) => /\bnpm\b/.test(r)), [], 'the run stage installs no package itself');
  const copies = all(grm, 'COPY').map(copySources);
  t.same(
    copies.filter((c) => c.from !== null).map((c) => `${c.from}:${c.sources.join(',')}`),
    ['deps:/opt/grm/node_modules', 'build:/src/dist'],
    'node_modules from deps (production only), dist/ (with the C supervisor) from build',
  );
  t.notOk(
    copies.some((c) => c.from === null && c.sources.some((s) => /^(src|node_modules|dist)\b/.test(s))),
    'no sources, node_modules or local dist/ from the build context',
  );
  t.match(grmFile.text, /dist\/native\/grm-supervisor|build-supervisor\.mjs/, 'the supervisor is built in the build stage');
  checkRuntimeStage(t, grm, '/var/lib/grm');
});

t.test('docker/Dockerfile grm-compss: GRM on BSC\'s COMPSs image, same rules', async (t) => {
  const s = stage('grm-compss');
  t.match(s.image, /^compss\/compss:\d+\.\d+$/, 'FROM a published compss/compss tag');
  t.match(runText(s).join('\n'), /npm ci [^\n]*--omit=dev/, 'production dependencies only');
  t.match(runText(s).join('\n'), /apt-get install [^\n]*\bslurm-client\b[^\n]*\bmunge\b/, "SLURM's client and munge for GRM_BACKEND=slurm");
  t.same(words(all(s, 'ENTRYPOINT')[0]!).slice(2, 4), ['/opt/grm/scripts/slurm-node.sh', 'client'], 'munged beside the daemon');
  checkRuntimeStage(t, s, '/var/lib/grm');
});

t.test('docker/slurm.Dockerfile: one stage, munge and slurm, scripts/slurm-node.sh as entrypoint', async (t) => {
  t.equal(slurmFile.stages.length, 1);
  const s = slurmFile.stages[0]!;
  t.match(s.image, /^debian:bookworm/, "Debian's slurm-wlm 22.05, as the test cluster");
  t.match(runText(s).join('\n'), /apt-get install [^\n]*\bslurm-wlm\b[^\n]*\bmunge\b[^\n]*\btini\b/);
  t.same(words(all(s, 'ENTRYPOINT')[0]!), ['/usr/bin/tini', '--', '/opt/grm-slurm/slurm-node.sh']);
  t.same(words(all(s, 'CMD')[0]!), ['slurmd'], 'slurmd unless the command says slurmctld');
  t.same(all(s, 'COPY').map(copySources)[0]?.sources, ['scripts/slurm-lib.sh', 'scripts/slurm-node.sh'], 'the shared script and the entrypoint');
  t.match(runText(s).join('\n'), /useradd [^\n]*--uid 10001/, "GRM's uid exists on the nodes (holder jobs run as it)");
});

t.test('every COPY from the build context names a file of the repository that its .dockerignore lets through', async (t) => {
  for (const [file, parsed] of [['docker/Dockerfile', grmFile], ['docker/slurm.Dockerfile', slurmFile]] as const) {
    const allowed = fs
      .readFileSync(path.join(PROJECT_ROOT, `${file}.dockerignore`), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1).replace(/\/$/, ''));
    const sources = parsed.stages.flatMap((s) => all(s, 'COPY').map(copySources)).filter((c) => c.from === null).flatMap((c) => c.sources);
    t.ok(sources.length > 0, `${file} copies from the context`);
    for (const source of sources) {
      t.ok(fs.existsSync(path.join(PROJECT_ROOT, source)), `${file}: ${source} exists`);
      t.ok(allowed.some((a) => source === a || source.startsWith(`${a}/`)), `${file}: ${source} is not ignored`);
    }
  }
});

function tempDir(t: Test, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The grm stage's ENV, with its paths moved into `root` (the test cannot write /var/lib, /etc). */
function imageEnv(root: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e = env(stage('grm'));
  const moved = Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v.startsWith('/') ? path.join(root, v) : v]));
  return { PATH: process.env.PATH ?? '', ...moved, GRM_PORT: '0', ...extra };
}

t.test("the image's environment: no TLS files mounted, the daemon refuses to start and writes nothing", async (t) => {
  const root = tempDir(t, 'grm-image-');
  const e = imageEnv(root);
  fs.mkdirSync(e.GRM_DATA_DIR!, { recursive: true });
  const out = await run(process.execPath, [GRM, 'daemon'], { env: e }).then(
    () => ({ code: 0, stderr: '' }),
    (err: { code: number; stderr: string }) => err,
  );
  t.equal(out.code, 1, 'exit status 1');
  t.match(out.stderr, /cannot read tls\.key .*key\.pem: ENOENT/, 'names the missing key');
  t.same(fs.readdirSync(e.GRM_DATA_DIR!), [], 'no store, no token');
});

t.test("the image's environment with TLS mounted: serves https with auth on; healthcheck.mjs says healthy, then not once it is gone", async (t) => {
  const root = tempDir(t, 'grm-image-');
  const e = imageEnv(root);
  fs.mkdirSync(path.dirname(e.GRM_TLS_KEY!), { recursive: true });
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=grm', '-keyout', e.GRM_TLS_KEY!, '-out', e.GRM_TLS_CERT!,
  ]);
  const child = spawn(process.execPath, [GRM, 'daemon'], { env: { ...e, GRM_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const startLine = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const msg = line.startsWith('{') ? ((JSON.parse(line) as { msg?: string }).msg ?? '') : '';
      if (msg.startsWith('GRM ')) resolve(msg);
    });
    child.once('exit', () => reject(new Error(`daemon exited before listening: ${stderr}`)));
  });
  t.match(startLine, /listening on https:\/\/0\.0\.0\.0:\d+ /);
  const port = /:(\d+) /.exec(startLine)![1]!;
  const probe = () =>
    run(process.execPath, [HEALTHCHECK], { env: { PATH: e.PATH, GRM_PORT: port, GRM_TLS_CERT: e.GRM_TLS_CERT } }).then(
      () => 0,
      (err: { code: number }) => err.code,
    );
  t.equal(await probe(), 0, 'healthy while the daemon serves');
  const status = await new Promise<number>((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port: Number(port), path: '/api/v1/jobs', ca: fs.readFileSync(e.GRM_TLS_CERT!), servername: 'grm', checkServerIdentity: () => undefined }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
  t.equal(status, 401, 'authentication is on: no token, no jobs');
  t.ok(fs.existsSync(path.join(e.GRM_DATA_DIR!, 'admin.token')), 'the first admin token is in the data volume');
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'SIGTERM stops it cleanly');
  t.equal(await probe(), 1, 'unhealthy once the daemon is gone');
});
