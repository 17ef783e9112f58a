import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { loadConfig } from '../../src/config/load-config.js';
import { clusterSpecFromConfig } from '../../src/config/cluster-from-config.js';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-config-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('defaults: 127.0.0.1:8080, ./var, simulator, batch partition of node[01-08] with 4 CPUs and 16 GiB', async (t) => {
  const cwd = tempDir(t);
  const c = loadConfig({ env: {}, cwd });
  t.equal(c.host, '127.0.0.1');
  t.equal(c.port, 8080);
  t.equal(c.dataDir, path.join(cwd, 'var'));
  t.equal(c.backend, 'simulator');
  const spec = clusterSpecFromConfig(c.cluster);
  t.equal(spec.nodes.length, 8);
  t.same(spec.nodes[0], { name: 'node01', cpus: 4, memoryMiB: 16384, gpus: 0 });
  t.equal(spec.nodes[7]!.name, 'node08');
  t.same(spec.partitions.map((p) => [p.name, p.default, p.maxTimeMinutes]), [['batch', true, null]]);
});

t.test('GRM_* variables override the file, which overrides defaults', async (t) => {
  const cwd = tempDir(t);
  fs.writeFileSync(path.join(cwd, 'grm.config.json'), JSON.stringify({ port: 9000, host: '127.0.0.2', maxConcurrentMasters: 3 }));
  const c = loadConfig({ env: { GRM_PORT: '9100', GRM_DATA_DIR: '/tmp/x', GRM_BACKEND: 'slurm' }, cwd });
  t.equal(c.port, 9100);
  t.equal(c.host, '127.0.0.2');
  t.equal(c.dataDir, '/tmp/x');
  t.equal(c.backend, 'slurm');
  t.equal(c.maxConcurrentMasters, 3);
});

t.test('GRM_CONFIG names a YAML file', async (t) => {
  const cwd = tempDir(t);
  fs.writeFileSync(
    path.join(cwd, 'site.yaml'),
    'cluster:\n  nodes:\n    - { names: "gpu[1-2]", cpus: 8, memory: 64G, gpus: 2, gpuType: a100 }\n  partitions:\n    - { name: gpu, nodes: "gpu[1-2]", maxTime: "1-00:00:00" }\n',
  );
  const c = loadConfig({ env: { GRM_CONFIG: 'site.yaml' }, cwd });
  const spec = clusterSpecFromConfig(c.cluster);
  t.same(spec.nodes.map((n) => [n.name, n.gpus, n.gpuType, n.memoryMiB]), [
    ['gpu1', 2, 'a100', 65536],
    ['gpu2', 2, 'a100', 65536],
  ]);
  t.equal(spec.partitions[0]!.maxTimeMinutes, 1440);
  t.equal(spec.partitions[0]!.default, true, 'the only partition becomes the default');
});

t.test('a wrong backend names the key and the allowed values', async (t) => {
  t.throws(() => loadConfig({ env: { GRM_BACKEND: 'pbs' }, cwd: tempDir(t) }), {
    code: 'E_CONFIG_INVALID',
    message: /backend: must be one of "simulator", "slurm" \(got "pbs"\)/,
  });
});

t.test('a non-numeric GRM_PORT is refused by name', async (t) => {
  t.throws(() => loadConfig({ env: { GRM_PORT: 'eighty' }, cwd: tempDir(t) }), { message: /GRM_PORT="eighty" must be an integer/ });
});

t.test('an out-of-range port names the bounds', async (t) => {
  t.throws(() => loadConfig({ env: { GRM_PORT: '70000' }, cwd: tempDir(t) }), { message: /port: must be an integer >= 0 and <= 65535 \(got 70000\)/ });
});

t.test('an unknown setting is refused', async (t) => {
  const cwd = tempDir(t);
  fs.writeFileSync(path.join(cwd, 'grm.config.json'), JSON.stringify({ prot: 80 }));
  t.throws(() => loadConfig({ env: {}, cwd }), { message: /prot: is not a known setting/ });
});

t.test('a config file that is not JSON says so', async (t) => {
  const cwd = tempDir(t);
  fs.writeFileSync(path.join(cwd, 'grm.config.json'), '{ port: ');
  t.throws(() => loadConfig({ env: {}, cwd }), { message: /is not valid JSON/ });
});

t.test('a missing GRM_CONFIG file says which', async (t) => {
  t.throws(() => loadConfig({ env: { GRM_CONFIG: 'nope.yaml' }, cwd: tempDir(t) }), { message: /cannot read config file .*nope\.yaml/ });
});

t.test('a partition naming undefined nodes is refused', async (t) => {
  const cwd = tempDir(t);
  fs.writeFileSync(
    path.join(cwd, 'grm.config.json'),
    JSON.stringify({ cluster: { nodes: [{ names: 'n[1-2]', cpus: 1, memory: 1024 }], partitions: [{ name: 'p', nodes: 'n[1-3]' }] } }),
  );
  t.throws(() => loadConfig({ env: {}, cwd }), { message: /cluster\.partitions\[0\]\.nodes: nodes n3 are not defined/ });
});

t.test('a bad hostlist, memory or time limit names the key', async (t) => {
  const write = (cwd: string, cluster: unknown) => fs.writeFileSync(path.join(cwd, 'grm.config.json'), JSON.stringify({ cluster }));
  let cwd = tempDir(t);
  write(cwd, { nodes: [{ names: 'n[3-1]', cpus: 1, memory: 1024 }], partitions: [{ name: 'p', nodes: 'n1' }] });
  t.throws(() => loadConfig({ env: {}, cwd }), { message: /cluster\.nodes\[0\]\.names/ });
  cwd = tempDir(t);
  write(cwd, { nodes: [{ names: 'n1', cpus: 1, memory: 1024 }], partitions: [{ name: 'p', nodes: 'n1', maxTime: 'forever' }] });
  t.throws(() => loadConfig({ env: {}, cwd }), { message: /cluster\.partitions\[0\]\.maxTime/ });
});

t.test('a bad cron expression names the key', async (t) => {
  const cwd = tempDir(t);
  fs.writeFileSync(path.join(cwd, 'grm.config.json'), JSON.stringify({ retention: { schedule: 'every night' } }));
  t.throws(() => loadConfig({ env: {}, cwd }), { message: /retention\.schedule: "every night" is not a cron expression/ });
});

t.test('a bad compss setting names the key', async (t) => {
  const cwd = tempDir(t);
  fs.writeFileSync(path.join(cwd, 'grm.config.json'), JSON.stringify({ compss: { installDir: 'relative/path' } }));
  t.throws(() => loadConfig({ env: {}, cwd }), { message: /compss\.installDir must be an absolute path/ });
});
