/**
 * deploy/k8s/base: the kustomize base rendered (its resources list, its labels), every object
 * validated against the Kubernetes OpenAPI schemas of kubernetes-models, and the pieces checked
 * to fit together and to fit the daemon: the ConfigMap's file passes GRM's own config loader,
 * the container's environment passes the daemon's binding rule (TLS beyond loopback), the TLS
 * files are where the Secret puts them, the store is on the claim, the user is the image's.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import t from 'tap';
import YAML from 'yaml';
import { checkBinding } from '../../src/config/binding.js';
import { loadConfig } from '../../src/config/load-config.js';
import { readAdminTokenFile } from '../../src/users/first-admin.js';
import { PROJECT_ROOT } from '../helpers/system.js';
import { all, parseDockerfile, words } from './dockerfile-stages.js';

const run = promisify(execFile);
const BASE = path.join(PROJECT_ROOT, 'deploy/k8s/base');

type Obj = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> } } & Record<string, any>;

/** What `kustomize build` makes of this base: its resources, in order, with `labels` added to metadata. */
function renderBase(dir: string): Obj[] {
  const k = YAML.parse(fs.readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as {
    kind: string;
    resources: string[];
    labels?: { pairs: Record<string, string>; includeSelectors?: boolean }[];
  };
  if (k.kind !== 'Kustomization') throw new Error('not a Kustomization');
  const known = new Set(['apiVersion', 'kind', 'resources', 'labels']);
  const unknown = Object.keys(k).filter((key) => !known.has(key));
  if (unknown.length) throw new Error(`this renderer does not handle ${unknown.join(', ')}: extend it`);
  return k.resources.flatMap((file) =>
    // YAML 1.1, as kubectl reads it: defaultMode 0440 is octal
    YAML.parseAllDocuments(fs.readFileSync(path.join(dir, file), 'utf8'), { version: '1.1' }).map((doc) => {
      const obj = doc.toJS() as Obj;
      for (const l of k.labels ?? []) {
        if (l.includeSelectors) throw new Error('labels.includeSelectors is not handled');
        obj.metadata.labels = { ...obj.metadata.labels, ...l.pairs };
      }
      return obj;
    }),
  );
}

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/StatefulSet': StatefulSet,
};

function validateObject(obj: Obj): void {
  const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
  if (!Model) throw new Error(`no schema wired for ${obj.apiVersion} ${obj.kind}`);
  new Model(obj).validate();
}

const objects = renderBase(BASE);
const byKind = (kind: string) => objects.filter((o) => o.kind === kind);
const sts = byKind('StatefulSet')[0]!;
const pod = sts?.spec.template.spec;
const container = pod?.containers[0];

t.test('the base renders a ConfigMap, a Secret, a Service and a StatefulSet, each valid against its schema', async (t) => {
  t.same(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort(), ['ConfigMap/grm-config', 'Secret/grm-admin-token', 'Secret/grm-tls', 'Service/grm', 'StatefulSet/grm']);
  for (const o of objects) {
    t.doesNotThrow(() => validateObject(o), `${o.kind} ${o.metadata.name}`);
    t.equal(o.metadata.labels?.['app.kubernetes.io/name'], 'grm', `${o.kind} carries the base's labels`);
  }
});

t.test('the schema check fails on a manifest that is not valid', async (t) => {
  const bad = structuredClone(sts);
  bad.spec.replicas = 'one';
  t.throws(() => validateObject(bad), /replicas/);
  const missing = structuredClone(sts);
  delete missing.spec.selector;
  t.throws(() => validateObject(missing), /selector/);
});

// kubectl is no dependency of the suite: where it is installed, its kustomize must agree.
const kubectl = await run('kubectl', ['kustomize', BASE]).catch(() => null);
t.test('the same objects as kubectl kustomize renders', { skip: kubectl ? false : 'kubectl is not installed' }, async (t) => {
  if (!kubectl) return;
  const theirs = YAML.parseAllDocuments(kubectl.stdout, { version: '1.1' }).map((d) => d.toJS() as Obj);
  const key = (o: Obj) => `${o.kind}/${o.metadata.name}`;
  const sorted = (list: Obj[]) => [...list].sort((a, b) => key(a).localeCompare(key(b)));
  t.strictSame(sorted(objects), sorted(theirs));
});

t.test('StatefulSet: one replica, the store on a PersistentVolumeClaim, probes on /api/v1/health, requests, non-root', async (t) => {
  t.equal(sts.spec.replicas, 1, 'one daemon owns the store');
  const claim = sts.spec.volumeClaimTemplates[0];
  t.match(claim.spec.resources.requests.storage, /^\d+Gi$/);
  const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));
  const mountOf = (name: string) => container.volumeMounts.find((m: { name: string }) => m.name === name)?.mountPath;
  t.equal(mountOf(claim.metadata.name), env.GRM_DATA_DIR, 'GRM_DATA_DIR is the claim');

  for (const probe of ['livenessProbe', 'readinessProbe']) {
    const p = container[probe].httpGet;
    t.same([p.path, p.scheme], ['/api/v1/health', 'HTTPS'], `${probe}: GET /api/v1/health over https (no token needed)`);
    t.ok(container.ports.some((port: { name: string; containerPort: number }) => port.name === p.port && String(port.containerPort) === env.GRM_PORT), `${probe} on the daemon's port`);
  }
  t.ok(container.resources.requests.cpu && container.resources.requests.memory, 'cpu and memory requests');

  t.equal(pod.securityContext.runAsNonRoot, true);
  const dockerfile = parseDockerfile('docker/Dockerfile').stages.find((s) => s.name === 'grm')!;
  const uid = /useradd [^\n]*--uid (\d+)/.exec(all(dockerfile, 'RUN').map((i) => words(i).join(' ')).join('\n'))?.[1];
  t.equal(String(pod.securityContext.runAsUser), uid, "runAsUser is the image's grm user");
  t.equal(container.securityContext.allowPrivilegeEscalation, false);
  const tls = pod.volumes.find((v: { name: string }) => v.name === 'tls');
  t.equal(tls.secret.defaultMode, 0o440, "the TLS files: readable by the pod's group (fsGroup), nobody else");
  t.equal(pod.securityContext.fsGroup, pod.securityContext.runAsGroup);
  t.same(container.securityContext.capabilities.drop, ['ALL']);
});

t.test("the daemon's view: the ConfigMap's file loads, the environment passes the binding rule, TLS files come from the Secret", async (t) => {
  const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value])) as Record<string, string>;
  const mount = (volume: string) => container.volumeMounts.find((m: { name: string }) => m.name === volume).mountPath as string;
  const volume = (name: string) => pod.volumes.find((v: { name: string }) => v.name === name);

  const configMap = byKind('ConfigMap').find((c) => c.metadata.name === volume('config').configMap.name)!;
  t.ok(configMap, 'the config volume names the base ConfigMap');
  t.equal(path.dirname(env.GRM_CONFIG!), mount('config'));
  const configText = configMap.data[path.basename(env.GRM_CONFIG!)];
  t.type(configText, 'string', 'GRM_CONFIG is a key of the ConfigMap');

  const secret = byKind('Secret').find((s) => s.metadata.name === volume('tls').secret.secretName)!;
  t.ok(secret, 'the tls volume names the base Secret');
  for (const key of [env.GRM_TLS_KEY!, env.GRM_TLS_CERT!]) {
    t.equal(path.dirname(key), mount('tls'), `${key} is in the tls volume`);
    t.ok(path.basename(key) in secret.stringData, `${path.basename(key)} is a key of the Secret`);
  }

  const tokenSecret = byKind('Secret').find((s) => s.metadata.name === volume('admin-token').secret.secretName)!;
  t.equal(path.dirname(env.GRM_ADMIN_TOKEN_FILE!), mount('admin-token'), '...in the admin-token volume...');
  const placeholder = tokenSecret.stringData[path.basename(env.GRM_ADMIN_TOKEN_FILE!)];
  t.type(placeholder, 'string', '...a key of the Secret grm-admin-token');
  t.equal(volume('admin-token').secret.defaultMode, 0o440);

  // The config as the daemon in the pod would load it (paths moved into a temp dir).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-k8s-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'grm.config.yaml'), configText);
  const config = loadConfig({ env: { ...env, GRM_CONFIG: path.join(dir, 'grm.config.yaml'), GRM_DATA_DIR: path.join(dir, 'data') }, cwd: dir });
  t.equal(config.host, '0.0.0.0');
  t.equal(config.port, Number(env.GRM_PORT));
  t.equal(config.auth.adminTokenFile, env.GRM_ADMIN_TOKEN_FILE, 'the first admin token comes from a file...');
  t.doesNotThrow(() => checkBinding(config), 'beyond loopback with TLS: allowed');
  t.throws(() => checkBinding({ ...config, tls: { key: '', cert: '' } }), /refusing to listen on 0\.0\.0\.0/, 'and refused without it');
  fs.writeFileSync(path.join(dir, 'token'), placeholder);
  t.throws(() => readAdminTokenFile(path.join(dir, 'token')), /does not hold a GRM token/, "the Secret's placeholder stops the daemon until replaced");
});

t.test('Service: selects the pods on the https port', async (t) => {
  const svc = byKind('Service')[0]!;
  t.equal(sts.spec.serviceName, svc.metadata.name, "the StatefulSet's governing service");
  for (const [k, v] of Object.entries(svc.spec.selector as Record<string, string>)) {
    t.equal(sts.spec.template.metadata.labels[k], v, `pods carry ${k}=${v}`);
  }
  t.equal(svc.spec.ports[0].targetPort, 'https');
});
