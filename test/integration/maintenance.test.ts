import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SimulatorBackend } from '../../src/backends/simulator/simulator-backend.js';
import { clusterSpecFromConfig } from '../../src/config/cluster-from-config.js';
import t from 'tap';
import { validateConfig } from '../../src/config/load-config.js';
import { createDaemon } from '../../src/daemon.js';
import { SMALL_CLUSTER, startDaemon } from '../helpers/daemon.js';

const sh = (body: string) => `#!/bin/bash\n${body}\n`;

t.test('retention removes the logs and folders of old ended jobs, never of active ones', async (t) => {
  const d = await startDaemon(t, { ...SMALL_CLUSTER, retention: { maxAgeDays: 1, maxTotalMiB: 0 } });
  const old = (await d.api('POST', '/api/v1/jobs', { script: sh('echo old') })).body.job_id;
  await d.waitForState(old, ['COMPLETED']);
  const running = (await d.api('POST', '/api/v1/jobs', { script: sh('echo live; sleep 30') })).body.job_id;
  await d.waitForState(running, ['RUNNING']);
  const jobsDir = path.join(d.dataDir, 'jobs');
  t.ok(fs.existsSync(path.join(jobsDir, String(old))));

  t.same(d.daemon.maintenance.retention(Date.now()).jobs, [], 'nothing is old yet');
  const report = d.daemon.maintenance.retention(Date.now() + 2 * 86_400_000);
  t.same(report.jobs, [old]);
  t.ok(report.linesDeleted > 0 && report.bytesFreed > 0, JSON.stringify(report));
  t.notOk(fs.existsSync(path.join(jobsDir, String(old))), 'old job folder removed');
  t.equal((await d.api('GET', `/api/v1/jobs/${old}/logs`)).body.lines.length, 0);
  t.ok(fs.existsSync(path.join(jobsDir, String(running))), 'the running job keeps its folder');
  t.equal((await d.api('GET', `/api/v1/jobs/${old}`)).body.job_state, 'COMPLETED', 'the job and its history stay');
});

t.test('retention over a size cap removes the oldest ended jobs first', async (t) => {
  const d = await startDaemon(t, { ...SMALL_CLUSTER, retention: { maxAgeDays: 0, maxTotalMiB: 1 } });
  const ids: number[] = [];
  for (let i = 0; i < 3; i++) {
    // ~600 KB of output each: three of them exceed 1 MiB
    const id = (await d.api('POST', '/api/v1/jobs', { script: sh('head -c 450000 /dev/zero | tr "\\0" "x" | fold -w 100') })).body.job_id;
    await d.waitForState(id, ['COMPLETED']);
    ids.push(id);
  }
  const report = d.daemon.maintenance.retention();
  t.ok(report.jobs.length >= 1, JSON.stringify(report));
  t.equal(report.jobs[0], ids[0], 'oldest first');
  t.notOk(report.jobs.includes(ids[2]!), 'the newest stays');
});

t.test('reconciliation releases allocations no live job owns', async (t) => {
  // A backend that already holds an allocation when the daemon starts, as after a crash
  // between "nodes granted" and "job recorded".
  const backend = new SimulatorBackend(clusterSpecFromConfig(validateConfig(SMALL_CLUSTER).cluster));
  await backend.start();
  const orphan = await backend.allocate({
    jobId: 77, name: 'orphan', user: 'x', partition: 'batch', minNodes: 1, maxNodes: 1, tasks: 1, cpusPerTask: 1,
    gpusPerNode: 0, timeLimitMinutes: null, exclusive: false, nice: 0, submitTime: Date.now(),
  });
  await backend.settle();
  t.ok((await backend.list()).some((a) => a.backendId === orphan && a.state === 'RUNNING'));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-reconcile-'));
  const daemon = await createDaemon(validateConfig({ dataDir, logLevel: 'silent', port: 0, ...SMALL_CLUSTER }), { backend, schedules: false });
  t.teardown(async () => {
    await daemon.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const report = await daemon.maintenance.reconcile();
  t.same(report.releasedOrphans, [orphan]);
  t.notOk((await backend.list()).some((a) => a.backendId === orphan && a.state !== 'ENDED'));
  t.equal((await backend.nodes()).filter((n) => n.state !== 'idle').length, 0, 'every node idle again');
});

t.test('a daemon restart while a job runs loses no line and doubles none', async (t) => {
  const first = await startDaemon(t, SMALL_CLUSTER);
  const dataDir = first.dataDir;
  const id = (await first.api('POST', '/api/v1/jobs', { script: sh('for i in $(seq 1 40); do echo "n $i"; sleep 0.05; done') })).body.job_id;
  await first.waitForState(id, ['RUNNING']);
  for (let i = 0; i < 200 && !(await first.api('GET', `/api/v1/jobs/${id}/logs?source=stdout`)).body.lines.length; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  // Stop the daemon as a crash would leave things: the master keeps running and writing.
  const runningMasters = first.daemon.runner.runningJobIds();
  t.same(runningMasters, [id]);
  await first.daemon.stop();

  const config = validateConfig({ host: '127.0.0.1', port: 0, dataDir, logLevel: 'silent', logs: { flushIntervalMs: 20, pollIntervalMs: 50 }, ...SMALL_CLUSTER });
  const second = await createDaemon(config, { schedules: false });
  t.teardown(() => second.stop());
  const url = await second.listen();
  const nodes: any = await (await fetch(`${url}/api/v1/nodes`, { headers: { authorization: `Bearer ${first.token}` } })).json();
  t.same(nodes.nodes.find((n: any) => n.name === 'node01').jobs, [id], 'the restarted simulator still knows the running job holds node01');
  let job: any;
  for (let i = 0; i < 200; i++) {
    job = await (await fetch(`${url}/api/v1/jobs/${id}`, { headers: { authorization: `Bearer ${first.token}` } })).json();
    if (job.job_state === 'COMPLETED' || job.job_state === 'FAILED') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  t.equal(job.job_state, 'COMPLETED', JSON.stringify(job.events));
  const logs: any = await (await fetch(`${url}/api/v1/jobs/${id}/logs?source=stdout`, { headers: { authorization: `Bearer ${first.token}` } })).json();
  t.same(logs.lines.map((l: any) => l.line), Array.from({ length: 40 }, (_, i) => `n ${i + 1}`));
  t.ok(job.events.some((e: any) => /reattached/.test(e.reason)), 'the new daemon reattached the master');
});

t.test('a job that ends while the daemon is down is recorded with its exit code and every line', async (t) => {
  const first = await startDaemon(t, SMALL_CLUSTER);
  const dataDir = first.dataDir;
  const id = (await first.api('POST', '/api/v1/jobs', { script: sh('for i in $(seq 1 20); do echo "m $i"; sleep 0.05; done; exit 4') })).body.job_id;
  await first.waitForState(id, ['RUNNING']);
  await first.daemon.stop();
  // The master finishes on its own while no daemon runs.
  const exitFile = path.join(dataDir, 'jobs', String(id), 'exit.json');
  for (let i = 0; i < 200 && !fs.existsSync(exitFile); i++) await new Promise((r) => setTimeout(r, 50));
  t.ok(fs.existsSync(exitFile), 'the supervisor recorded the exit status without a daemon');

  const config = validateConfig({ host: '127.0.0.1', port: 0, dataDir, logLevel: 'silent', logs: { flushIntervalMs: 20, pollIntervalMs: 50 }, ...SMALL_CLUSTER });
  const second = await createDaemon(config, { schedules: false });
  t.teardown(() => second.stop());
  const url = await second.listen();
  let job: any;
  for (let i = 0; i < 200; i++) {
    job = await (await fetch(`${url}/api/v1/jobs/${id}`, { headers: { authorization: `Bearer ${first.token}` } })).json();
    if (['COMPLETED', 'FAILED'].includes(job.job_state)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  t.equal(job.job_state, 'FAILED');
  t.equal(job.exit_code, 4);
  const logs: any = await (await fetch(`${url}/api/v1/jobs/${id}/logs?source=stdout`, { headers: { authorization: `Bearer ${first.token}` } })).json();
  t.same(logs.lines.map((l: any) => l.line), Array.from({ length: 20 }, (_, i) => `m ${i + 1}`));
  const nodes: any = await (await fetch(`${url}/api/v1/nodes`, { headers: { authorization: `Bearer ${first.token}` } })).json();
  t.ok(nodes.nodes.every((n: any) => n.state === 'idle'), 'its nodes were released');
});
