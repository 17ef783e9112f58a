/**
 * Issue 18, item 2: kill -9 of a job's supervisor (not of its master). Nobody can record the
 * master's exit any more, so the job ends FAILED with reason MasterLost, its whole process
 * group is ended and its nodes are free again; the same when the supervisor dies while no
 * daemon runs, and when it dies under a daemon that reattached it after a restart.
 */
import path from 'node:path';
import t, { type Test } from 'tap';
import { createDaemon, type Daemon } from '../../src/daemon.js';
import { validateConfig } from '../../src/config/load-config.js';
import { readMasterRecord, type MasterRecord } from '../../src/runtime/master-files.js';
import { groupMembers, isProcessAlive } from '../../src/runtime/proc.js';
import { SMALL_CLUSTER, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { waitForLogLine, waitUntil } from '../helpers/wait.js';

// a master with a child of its own (the group has two members), both outliving any test
const LONG = '#!/bin/bash\nsleep 600 &\necho started\nwait\n';

async function runningMaster(tt: Test, d: TestDaemon): Promise<{ id: number; rec: MasterRecord }> {
  const res = await d.api('POST', '/api/v1/jobs', { script: LONG, minimum_nodes: 2 });
  tt.equal(res.status, 201, 'submitted');
  const id = res.body.job_id as number;
  await d.waitForState(id, ['RUNNING']);
  await waitForLogLine(d, id, 'started');
  const rec = await waitUntil(`master.json of job ${id} with the master's pid`, () => {
    const r = readMasterRecord(path.join(d.dataDir, 'jobs', String(id)), id);
    return r?.pid ? r : null;
  });
  return { id, rec };
}

/** Every process of the job is gone: no live member of its group, the master's pid dead. */
function assertGroupGone(tt: Test, rec: MasterRecord): void {
  tt.same(groupMembers(rec.pgid), [], `no live process is left in process group ${rec.pgid}`);
  tt.notOk(isProcessAlive(rec.pid!), `the master (pid ${rec.pid}) is gone`);
  tt.notOk(isProcessAlive(rec.supervisorPid), 'the supervisor is gone');
}

async function assertLost(tt: Test, d: TestDaemon, id: number, rec: MasterRecord): Promise<void> {
  const job = await d.waitForState(id, ['COMPLETED', 'FAILED', 'CANCELLED', 'NODE_FAIL', 'TIMEOUT']);
  tt.equal(job.job_state, 'FAILED', JSON.stringify(job.events));
  tt.equal(job.state_reason, 'MasterLost');
  tt.equal(job.exit_code ?? null, null, 'no exit code is made up');
  tt.ok(job.events.some((e: any) => /supervisor was lost/.test(e.reason)), 'the events say the supervisor was lost');
  assertGroupGone(tt, rec);
  const nodes = (await d.api('GET', '/api/v1/nodes')).body.nodes as { name: string; state: string; jobs: number[] }[];
  tt.same(nodes.filter((n) => n.jobs.includes(id)), [], 'no node is held for the job');
}

t.test('kill -9 of a running job\'s supervisor: FAILED MasterLost, its group ended, its nodes free', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const { id, rec } = await runningMaster(t, d);
  t.ok(isProcessAlive(rec.pid!), 'the master runs');
  process.kill(rec.supervisorPid, 'SIGKILL');
  await assertLost(t, d, id, rec);
  const nodes = (await d.api('GET', '/api/v1/nodes')).body.nodes as { state: string }[];
  t.ok(nodes.every((n) => n.state === 'idle'), `every node idle again: ${JSON.stringify(nodes)}`);
});

/** A second daemon on the first one's data dir (the first one stopped: masters go on). */
async function restart(t: Test, first: TestDaemon): Promise<TestDaemon & { daemon: Daemon }> {
  await first.daemon.stop();
  const config = validateConfig({ host: '127.0.0.1', port: 0, dataDir: first.dataDir, logLevel: 'silent', runtime: { killGraceMs: 1000, runAsUser: false }, logs: { flushIntervalMs: 20, pollIntervalMs: 50 }, ...SMALL_CLUSTER });
  const daemon = await createDaemon(config, { schedules: false });
  t.teardown(async () => {
    for (const id of daemon.runner.runningJobIds()) await daemon.runner.stopMaster(id).catch(() => undefined);
    await daemon.stop();
  });
  const url = await daemon.listen();
  const api: TestDaemon['api'] = async (method, route, body) => {
    const res = await fetch(`${url}${route}`, {
      method,
      headers: { authorization: `Bearer ${first.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const waitForState: TestDaemon['waitForState'] = async (id, states) =>
    waitUntil(`job ${id} in ${states.join('|')}`, async () => {
      const { body } = await api('GET', `/api/v1/jobs/${id}`);
      return states.includes(body.job_state) ? body : null;
    });
  return { ...first, daemon, url, api, waitForState };
}

t.test('a supervisor killed while no daemon runs, and one killed under a reattaching daemon: both MasterLost', async (t) => {
  const first = await startDaemon(t, SMALL_CLUSTER);
  const whileDown = await runningMaster(t, first);
  const afterRestart = await runningMaster(t, first);
  // the daemon stops as a crash leaves things: masters and supervisors keep running
  await first.daemon.stop();
  t.ok(isProcessAlive(whileDown.rec.supervisorPid), 'the supervisors outlived the daemon');
  process.kill(whileDown.rec.supervisorPid, 'SIGKILL');
  await waitUntil('the killed supervisor to be gone', () => !isProcessAlive(whileDown.rec.supervisorPid));
  t.ok(isProcessAlive(whileDown.rec.pid!), 'its master runs on, unsupervised, while no daemon runs');
  const third = await restart(t, first);
  // the one killed while no daemon ran is found lost at start
  await assertLost(t, third, whileDown.id, whileDown.rec);
  // the other one was reattached, and is followed: its loss is seen as it happens
  const reattached = await third.api('GET', `/api/v1/jobs/${afterRestart.id}`);
  t.equal(reattached.body.job_state, 'RUNNING');
  t.ok(reattached.body.events.some((e: any) => /reattached/.test(e.reason)), 'reattached after the restart');
  process.kill(afterRestart.rec.supervisorPid, 'SIGKILL');
  await assertLost(t, third, afterRestart.id, afterRestart.rec);
  const nodes = (await third.api('GET', '/api/v1/nodes')).body.nodes as { state: string }[];
  t.ok(nodes.every((n) => n.state === 'idle'), `every node idle again: ${JSON.stringify(nodes)}`);
});
