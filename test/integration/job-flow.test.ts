import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { isProcessAlive } from '../../src/runtime/proc.js';
import { SMALL_CLUSTER, startDaemon } from '../helpers/daemon.js';
import { untilFileExists, waitForLogLine, waitUntil } from '../helpers/wait.js';
import { ManualClock } from '../../src/backends/simulator/clock.js';
import { validateWithXmllint, xmllintReady } from '../helpers/xmllint.js';

const sh = (body: string) => `#!/bin/bash\n${body}\n`;

t.test('a job goes PENDING -> ALLOCATING -> RUNNING -> COMPLETING -> COMPLETED with every line in order', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const res = await d.api('POST', '/api/v1/jobs', {
    name: 'count',
    minimum_nodes: 2,
    script: sh('for i in $(seq 1 2000); do echo "line $i"; done\necho "to stderr" >&2'),
  });
  t.equal(res.status, 201, JSON.stringify(res.body));
  const id = res.body.job_id;
  const job = await d.waitForState(id, ['COMPLETED', 'FAILED']);
  t.equal(job.job_state, 'COMPLETED');
  t.equal(job.exit_code, 0);
  t.equal(job.node_count, 2);
  t.equal(job.nodes, 'node[01-02]');
  t.same(
    job.events.filter((e: any) => e.to_state).map((e: any) => e.to_state),
    ['PENDING', 'ALLOCATING', 'RUNNING', 'COMPLETING', 'COMPLETED'],
  );
  const logs = await d.api('GET', `/api/v1/jobs/${id}/logs?source=stdout&limit=5000`);
  t.same(
    logs.body.lines.map((l: any) => l.line),
    Array.from({ length: 2000 }, (_, i) => `line ${i + 1}`),
  );
  const err = await d.api('GET', `/api/v1/jobs/${id}/logs?source=stderr`);
  t.same(err.body.lines.map((l: any) => l.line), ['to stderr']);
  const all = await d.api('GET', `/api/v1/jobs/${id}/logs?limit=100000`);
  const seqs = all.body.lines.map((l: any) => l.seq);
  t.same(seqs, [...seqs].sort((a: number, b: number) => a - b), 'seq increases');
  t.ok(all.body.lines.some((l: any) => l.source === 'grm' && /RUNNING -> COMPLETING/.test(l.line)), 'GRM events are log lines');
});

t.test('the master runs with a clean environment describing its allocation', async (t) => {
  process.env.GRM_TEST_DAEMON_SECRET = 'must not leak';
  t.teardown(() => delete process.env.GRM_TEST_DAEMON_SECRET);
  const d = await startDaemon(t, SMALL_CLUSTER);
  const res = await d.api('POST', '/api/v1/jobs', {
    minimum_nodes: 3,
    tasks: 6,
    environment: { MY_VAR: 'hello', SLURM_JOB_ID: 'forged' },
    script: sh('env | sort\npwd'),
  });
  const id = res.body.job_id;
  await d.waitForState(id, ['COMPLETED']);
  const lines: string[] = (await d.api('GET', `/api/v1/jobs/${id}/logs?source=stdout`)).body.lines.map((l: any) => l.line);
  const env = new Map(lines.filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  t.equal(env.get('SLURM_JOB_ID'), String(id), 'the job cannot forge its allocation');
  t.equal(env.get('SLURM_JOB_NODELIST'), 'node[01-03]');
  t.equal(env.get('SLURM_JOB_NUM_NODES'), '3');
  t.equal(env.get('SLURM_NTASKS'), '6');
  t.equal(env.get('GRM_JOB_ID'), String(id));
  t.equal(env.get('GRM_PROJECT_XML'), path.join(d.dataDir, 'jobs', String(id), 'project.xml'));
  t.equal(env.get('GRM_RESOURCES_XML'), path.join(d.dataDir, 'jobs', String(id), 'resources.xml'));
  t.equal(env.get('MY_VAR'), 'hello');
  t.notOk(env.has('GRM_TEST_DAEMON_SECRET'), 'nothing of the daemon outside the allow-list');
  t.notOk(env.has('NODE_OPTIONS'), `no NODE_OPTIONS: ${env.get('NODE_OPTIONS')}`);
  t.ok(lines.includes(path.join(d.dataDir, 'jobs', String(id), 'work')), 'runs in its own working dir');
  const project = await d.api('GET', `/api/v1/jobs/${id}/files/project.xml`);
  t.equal(project.status, 200);
  const resources = await d.api('GET', `/api/v1/jobs/${id}/files/resources.xml`);
  if (xmllintReady(t)) {
    const p = validateWithXmllint(project.body, 'project');
    t.ok(p.ok, `project.xml valid: ${p.output}`);
    const r = validateWithXmllint(resources.body, 'resources');
    t.ok(r.ok, `resources.xml valid: ${r.output}`);
  }
  t.same([...resources.body.matchAll(/<ComputeNode Name="([^"]+)"/g)].map((m: RegExpMatchArray) => m[1]), ['node01', 'node02', 'node03']);
  const detail = (await d.api('GET', `/api/v1/jobs/${id}`)).body;
  const units = [...resources.body.matchAll(/<ComputingUnits>(\d+)<\/ComputingUnits>/g)].map((m: RegExpMatchArray) => Number(m[1]));
  t.same(units, detail.allocation.node_list.map((n: any) => n.cpus), 'ComputingUnits are the CPUs allocated on each node');
  t.equal(units.reduce((a: number, b: number) => a + b, 0), 6, '6 tasks of 1 CPU');
  t.same([...project.body.matchAll(/<ComputeNode Name="([^"]+)"/g)].map((m: RegExpMatchArray) => m[1]), ['node01', 'node02', 'node03']);
});

t.test('20 jobs of 2 exclusive nodes on 8 nodes: at most 4 run at once and all complete', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const ids: number[] = [];
  for (let i = 0; i < 20; i++) {
    const res = await d.api('POST', '/api/v1/jobs', { name: `j${i}`, minimum_nodes: 2, exclusive: true, script: sh('sleep 0.3; echo done') });
    t.equal(res.status, 201);
    ids.push(res.body.job_id);
  }
  const jobs = [];
  for (const id of ids) jobs.push(await d.waitForState(id, ['COMPLETED', 'FAILED', 'CANCELLED'], 60_000));
  t.ok(jobs.every((j) => j.job_state === 'COMPLETED'), 'all completed');
  // At no instant did more than 4 jobs (8 nodes / 2) hold nodes.
  const edges = jobs.flatMap((j) => [
    { at: Date.parse(j.start_time), d: 1 },
    { at: Date.parse(j.end_time), d: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.d - b.d);
  let now = 0;
  let peak = 0;
  for (const e of edges) peak = Math.max(peak, (now += e.d));
  t.ok(peak <= 4, `peak concurrency ${peak} <= 4`);
  t.ok(peak >= 2, `jobs did run side by side (peak ${peak})`);
  const queued = jobs.filter((j) => j.events.some((e: any) => /reason: (Resources|Priority)/.test(e.reason)));
  t.ok(queued.length > 0, 'waiting jobs showed a pending reason');
});

t.test('cancel of a running job kills its whole process tree', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const pidFile = path.join(d.dataDir, 'pids');
  const res = await d.api('POST', '/api/v1/jobs', {
    script: sh(`sleep 300 & echo $! >> ${pidFile}\n(sleep 301 & echo $! >> ${pidFile}; wait) &\necho $$ >> ${pidFile}\necho started\nwait`),
  });
  const id = res.body.job_id;
  await d.waitForState(id, ['RUNNING']);
  const deadline = Date.now() + 10_000;
  while ((!fs.existsSync(pidFile) || fs.readFileSync(pidFile, 'utf8').trim().split('\n').length < 3) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const pids = fs.readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
  t.equal(pids.length, 3);
  const del = await d.api('DELETE', `/api/v1/jobs/${id}`);
  t.equal(del.status, 200);
  const job = await d.waitForState(id, ['CANCELLED', 'FAILED', 'COMPLETED']);
  t.equal(job.job_state, 'CANCELLED');
  // Zombies (killed, not yet reaped by PID 1) count as gone.
  const alive = pids.filter((pid) => isProcessAlive(pid));
  t.same(alive, [], 'no process of the job survives');
  t.equal((await d.api('DELETE', `/api/v1/jobs/${id}`)).status, 409, 'cancelling an ended job is a conflict');
});

t.test('cancel of a pending job ends it without running anything', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const blocker = await d.api('POST', '/api/v1/jobs', { minimum_nodes: 8, exclusive: true, script: sh('sleep 30') });
  const waiting = await d.api('POST', '/api/v1/jobs', { minimum_nodes: 8, exclusive: true, script: sh('echo never') });
  await d.waitForState(blocker.body.job_id, ['RUNNING']);
  await d.api('DELETE', `/api/v1/jobs/${waiting.body.job_id}`);
  const job = await d.waitForState(waiting.body.job_id, ['CANCELLED']);
  t.equal(job.start_time, null);
  await d.api('DELETE', `/api/v1/jobs/${blocker.body.job_id}`);
  t.equal((await d.waitForState(blocker.body.job_id, ['CANCELLED'])).job_state, 'CANCELLED');
});

t.test('a failing script ends FAILED with its exit code', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const res = await d.api('POST', '/api/v1/jobs', { script: sh('echo about to fail\nexit 3') });
  const job = await d.waitForState(res.body.job_id, ['FAILED', 'COMPLETED']);
  t.equal(job.job_state, 'FAILED');
  t.equal(job.exit_code, 3);
  t.equal(job.state_reason, 'NonZeroExitCode');
});

t.test('a job over its time limit ends TIMEOUT and its processes are stopped', async (t) => {
  // The daemon's clock is the test's: the limit passes when the test moves time, exactly.
  const clock = new ManualClock(Date.now());
  const d = await startDaemon(t, SMALL_CLUSTER, { clock });
  const pidFile = path.join(d.dataDir, 'timeout.pid');
  const res = await d.api('POST', '/api/v1/jobs', { time_limit: 1, script: sh(`echo $$ > '${pidFile}'\necho start\nsleep 600`) });
  const id = res.body.job_id;
  await d.waitForState(id, ['RUNNING']);
  await waitForLogLine(d, id, 'start');
  const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  clock.advance(59_999);
  t.equal((await d.api('GET', `/api/v1/jobs/${id}`)).body.job_state, 'RUNNING', 'not a millisecond early');
  clock.advance(1);
  const job = await d.waitForState(id, ['TIMEOUT', 'FAILED', 'COMPLETED']);
  t.equal(job.job_state, 'TIMEOUT');
  t.equal(job.state_reason, 'TimeLimit');
  t.equal(Date.parse(job.end_time) - Date.parse(job.start_time), 60_000, 'ended at start + 1 minute, on the daemon clock');
  t.notOk(isProcessAlive(pid), "the master's script is stopped");
});

t.test('a request larger than the cluster is refused at submit and nothing is stored', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  for (const body of [{ minimum_nodes: 9 }, { memory_per_node: 64 * 1024 }, { cpus_per_task: 5 }, { tres_per_node: 'gres/gpu:1' }]) {
    const res = await d.api('POST', '/api/v1/jobs', { ...body, script: sh('true') });
    t.equal(res.status, 400, JSON.stringify(body));
    t.equal(res.body.error.code, 'E_NODE_CONFIG_UNAVAILABLE');
    t.match(res.body.error.message, /Requested node configuration is not available/);
  }
  const partition = await d.api('POST', '/api/v1/jobs', { partition: 'gpu', script: sh('true') });
  t.equal(partition.status, 400);
  t.match(partition.body.error.message, /invalid partition specified: gpu/);
  t.equal((await d.api('GET', '/api/v1/jobs')).body.total, 0);
});

t.test('bad input gets a 4xx naming the field, never a 500', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const cases: [unknown, RegExp][] = [
    ['{not json', /JSON/i],
    [{ script: sh('true'), minimum_nodes: 0 }, /minimum_nodes/],
    [{ script: sh('true'), minimum_nodes: 'two' }, /minimum_nodes/],
    [{ script: sh('true'), bogus: 1 }, /bogus|additional/],
    [{ minimum_nodes: 1 }, /script/],
    [{ script: 'echo no shebang' }, /#!/],
    [{ script: sh('true'), time_limit: -5 }, /time_limit/],
    [{ script: sh('true'), dependency: 'afterok:999' }, /999/],
  ];
  for (const [body, message] of cases) {
    const res = await d.api('POST', '/api/v1/jobs', body, typeof body === 'string' ? { 'content-type': 'application/json' } : {});
    t.ok(res.status >= 400 && res.status < 500, `${JSON.stringify(body)} -> ${res.status}`);
    t.match(res.body.error?.message ?? '', message, JSON.stringify(res.body));
  }
  t.equal((await d.api('GET', '/api/v1/jobs/abc')).status, 400);
  t.equal((await d.api('GET', '/api/v1/jobs/999')).status, 404);
  t.equal((await d.api('GET', '/api/v1/jobs?state=BOGUS')).status, 400);
  t.equal((await d.api('GET', '/api/v1/jobs/1/logs?after=-1')).status, 400);
  t.equal((await d.api('GET', '/api/v1/jobs')).body.total, 0, 'nothing stored');
});

t.test('dependencies hold a job until they are met', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const go = path.join(d.dataDir, 'go-first');
  const first = await d.api('POST', '/api/v1/jobs', { script: sh(untilFileExists(go)) });
  const second = await d.api('POST', '/api/v1/jobs', { dependency: `afterok:${first.body.job_id}`, script: sh('echo after') });
  await d.waitForState(first.body.job_id, ['RUNNING']);
  const held = (await d.api('GET', `/api/v1/jobs/${second.body.job_id}`)).body;
  t.equal(held.job_state, 'PENDING');
  t.equal(held.state_reason, 'Dependency');
  fs.writeFileSync(go, '');
  const done = await d.waitForState(second.body.job_id, ['COMPLETED']);
  t.ok(Date.parse(done.start_time) >= Date.parse((await d.api('GET', `/api/v1/jobs/${first.body.job_id}`)).body.end_time));
});

t.test('max concurrent masters holds further jobs with reason MaxMastersLimit', async (t) => {
  const d = await startDaemon(t, { ...SMALL_CLUSTER, maxConcurrentMasters: 1 });
  const go = path.join(d.dataDir, 'go-a');
  const a = await d.api('POST', '/api/v1/jobs', { script: sh(untilFileExists(go)) });
  const b = await d.api('POST', '/api/v1/jobs', { script: sh('true') });
  await d.waitForState(a.body.job_id, ['RUNNING']);
  await waitUntil('b to wait for a master slot', async () => (await d.api('GET', `/api/v1/jobs/${b.body.job_id}`)).body.state_reason === 'MaxMastersLimit');
  t.equal((await d.api('GET', `/api/v1/jobs/${b.body.job_id}`)).body.job_state, 'PENDING');
  fs.writeFileSync(go, '');
  t.equal((await d.waitForState(b.body.job_id, ['COMPLETED'])).job_state, 'COMPLETED');
});
