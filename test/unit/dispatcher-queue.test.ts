/**
 * The GRM's queue policy, pure of any real backend or timing: JobService + Dispatcher on a
 * real SQLite store, a ManualClock for time, and a recording backend that only notes what it
 * was asked to allocate (the simulator and SLURM have suites of their own). A job "runs" and
 * "ends" here by the store transitions the runner would make.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { ManualClock } from '../../src/backends/simulator/clock.js';
import { Dispatcher } from '../../src/jobs/dispatcher.js';
import { JobService } from '../../src/jobs/job-service.js';
import type { JobDescription, JobRecord } from '../../src/jobs/job-types.js';
import { openDatabase } from '../../src/store/database.js';
import { JobStore } from '../../src/store/job-store.js';
import { QueueStore } from '../../src/store/queue-store.js';
import { RecordingBackend } from '../helpers/recording-backend.js';

const T0 = Date.parse('2026-12-01T00:00:00Z');

interface Harness {
  clock: ManualClock;
  store: JobStore;
  backend: RecordingBackend;
  service: JobService;
  dispatcher: Dispatcher;
  submit(description?: JobDescription, user?: string): Promise<JobRecord>;
  /** The job ids sent to the backend, in order. */
  sent(): number[];
  /** Runs a sent job to its end state, as the runner does. */
  finish(id: number, end?: 'COMPLETED' | 'FAILED'): Promise<void>;
  settle(): Promise<void>;
  /** A second daemon on the same database (a restart). */
  restart(): Harness;
}

function harness(t: Test, options: { maxConcurrentMasters?: number; queueDepth?: number; maxArraySize?: number; lookAhead?: number; scanLimit?: number; policy?: ConstructorParameters<typeof Dispatcher>[0]['policy'] } = {}, shared?: { dir: string; clock: ManualClock }): Harness {
  const dir = shared?.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'grm-queue-'));
  const db = openDatabase(path.join(dir, 'grm.sqlite'));
  const clock = shared?.clock ?? new ManualClock(T0);
  const store = new JobStore(db, () => clock.now());
  const queue = new QueueStore(db, store);
  const backend = new RecordingBackend();
  const runner = { onGranted: async () => {}, onBackendEnded: async () => {}, stopMaster: async () => false };
  const dispatcher = new Dispatcher({ store, queue, clock, backend, runner, maxConcurrentMasters: options.maxConcurrentMasters ?? 100, queueDepth: options.queueDepth ?? 100, ...(options.lookAhead !== undefined ? { lookAhead: options.lookAhead } : {}), ...(options.scanLimit !== undefined ? { scanLimit: options.scanLimit } : {}), ...(options.policy ? { policy: options.policy } : {}), onError: (e) => t.fail(String(e)) });
  const service = new JobService({ store, queue, backend, lifecycle: dispatcher, clock, maxArraySize: options.maxArraySize ?? 1001 });
  dispatcher.start();
  t.teardown(() => {
    dispatcher.stop();
    db.close();
    if (!shared) fs.rmSync(dir, { recursive: true, force: true });
  });
  const h: Harness = {
    clock,
    store,
    backend,
    service,
    dispatcher,
    async submit(description = {}, user = 'alice') {
      const { job } = await service.submit({ script: '#!/bin/sh\ntrue\n', ...description }, user);
      await dispatcher.idle();
      return store.require(job.id);
    },
    sent: () => backend.allocated.map((r) => r.jobId),
    async finish(id, end = 'COMPLETED') {
      store.transition(id, 'ALLOCATING', 'RUNNING', 'granted', 'test');
      store.transition(id, 'RUNNING', 'COMPLETING', 'exited', 'test');
      store.transition(id, 'COMPLETING', end, 'ended', 'test', { endTime: clock.now() });
      await dispatcher.idle();
    },
    settle: () => dispatcher.idle(),
    restart: () => harness(t, options, { dir, clock }),
  };
  return h;
}

const state = (h: Harness, id: number) => h.store.require(id).state;
const reason = (h: Harness, id: number) => h.store.require(id).reason;

t.test('jobs go in priority order (nice, then submit time, then id); the masters limit stops the pass', async (t) => {
  const h = harness(t, { maxConcurrentMasters: 2 });
  const blocker = await h.submit({ hold: true }); // stays out of the way
  const a = await h.submit({ nice: 5 });
  const b = await h.submit();
  t.same(h.sent(), [a.id, b.id], 'both sent (the first pass ran before b existed)');
  await h.finish(a.id);
  await h.finish(b.id);
  h.backend.allocated.length = 0;
  // three at once: one pass sees them together, and nice 5 goes last
  const nice = (await h.service.submit({ script: '#!/bin/sh\n', nice: 5 }, 'alice')).job;
  const c = (await h.service.submit({ script: '#!/bin/sh\n' }, 'alice')).job;
  const d = (await h.service.submit({ script: '#!/bin/sh\n' }, 'alice')).job;
  await h.settle();
  t.same(h.sent(), [c.id, d.id], 'the two free master slots go to the nice-0 jobs, oldest first');
  t.equal(reason(h, nice.id), 'MaxMastersLimit', 'the third waits for a master slot, and says so');
  await h.finish(c.id);
  t.same(h.sent(), [c.id, d.id, nice.id], 'a freed slot takes the next job');
  t.equal(reason(h, blocker.id), 'JobHeldUser', 'the held job never went');
});

t.test('a pass looks at no more than queueDepth jobs of the eligible queue', async (t) => {
  const h = harness(t, { maxConcurrentMasters: 3, queueDepth: 5 });
  const ids: number[] = [];
  for (let i = 0; i < 10; i++) ids.push((await h.service.submit({ script: '#!/bin/sh\n' }, 'alice')).job.id);
  await h.settle();
  t.same(h.sent(), ids.slice(0, 3));
  // the depth counts the eligible (PENDING) queue: once 3 are sent, its head is jobs 4 to 8
  t.same(ids.slice(3, 8).map((id) => reason(h, id)), Array(5).fill('MaxMastersLimit'), 'the jobs within the depth are told why');
  t.same(ids.slice(8).map((id) => reason(h, id)), ['None', 'None'], 'past the depth nothing is read or written');
});

t.test('--begin: the job waits out of the queue until its time, woken by the clock', async (t) => {
  const h = harness(t);
  const later = await h.submit({ begin_time: new Date(T0 + 3_600_000).toISOString() });
  const sooner = await h.submit({ begin_time: new Date(T0 + 60_000).toISOString() });
  t.equal(state(h, later.id), 'PENDING');
  t.equal(reason(h, later.id), 'BeginTime');
  t.same(h.sent(), []);
  h.clock.advance(59_999);
  await h.settle();
  t.same(h.sent(), [], 'not a millisecond early');
  h.clock.advance(1);
  await h.settle();
  t.same(h.sent(), [sooner.id], 'the earlier begin time goes first, at its time');
  h.clock.advanceTo(T0 + 3_600_000);
  await h.settle();
  t.same(h.sent(), [sooner.id, later.id]);
  t.equal(h.clock.pendingTimers(), 0, 'no timer is left once nothing waits');
});

t.test('dependencies: woken by the job they wait on, not by a rescan; never-satisfied says so', async (t) => {
  const h = harness(t);
  const a = await h.submit();
  const ok = await h.submit({ dependency: `afterok:${a.id}` });
  const notok = await h.submit({ dependency: `afternotok:${a.id}` });
  const any = await h.submit({ dependency: `afterany:${a.id}` });
  t.same([reason(h, ok.id), reason(h, notok.id), reason(h, any.id)], ['Dependency', 'Dependency', 'Dependency']);
  await h.finish(a.id, 'COMPLETED');
  t.same(h.sent(), [a.id, ok.id, any.id], 'afterok and afterany start once a completed');
  t.equal(reason(h, notok.id), 'DependencyNeverSatisfied');
  t.equal(state(h, notok.id), 'PENDING', 'it stays, as SLURM keeps it, until cancelled');
  await t.rejects(h.submit({ dependency: 'afterok:999' }), { code: 'E_REQUEST_INVALID' }, 'a dependency on no job is refused');
});

t.test('singleton: one active job per user and name', async (t) => {
  const h = harness(t);
  const first = await h.submit({ name: 'train', dependency: 'singleton' });
  const second = await h.submit({ name: 'train', dependency: 'singleton' });
  const other = await h.submit({ name: 'train', dependency: 'singleton' }, 'bob');
  t.same(h.sent(), [first.id, other.id], "bob's singleton is his own");
  t.equal(reason(h, second.id), 'Dependency');
  await h.finish(first.id);
  t.same(h.sent(), [first.id, other.id, second.id]);
});

t.test('hold and release', async (t) => {
  const h = harness(t);
  const held = await h.submit({ hold: true });
  t.equal(reason(h, held.id), 'JobHeldUser');
  const blocked = await h.submit({ hold: true, begin_time: new Date(T0 + 60_000).toISOString() });
  h.service.release(held.id, 'alice');
  await h.settle();
  t.same(h.sent(), [held.id]);
  h.service.release(blocked.id, 'alice');
  t.equal(reason(h, blocked.id), 'BeginTime', 'released, it waits on what it waited on before the hold');
  h.service.hold(blocked.id, 'root', 'admin');
  t.equal(reason(h, blocked.id), 'JobHeldAdmin');
  h.clock.advance(60_000);
  await h.settle();
  t.same(h.sent(), [held.id], 'a held job does not start at its begin time');
  t.throws(() => h.service.hold(held.id, 'alice'), { code: 'E_JOB_STATE' }, 'only a pending job can be held');
});

t.test('an array: one record until its tasks start, one task at a time within its % limit', async (t) => {
  const h = harness(t);
  const arr = await h.submit({ array: '0-4%2' });
  t.equal(arr.arrayJobId, arr.id);
  const tasks = () => h.store.arrayTasks(arr.id).filter((j) => j.arrayTaskId !== null);
  t.same(tasks().map((j) => [j.arrayTaskId, j.state]), [[0, 'ALLOCATING'], [1, 'ALLOCATING']]);
  t.equal(h.store.require(arr.id).arrayTasks, '2-4', 'the record keeps the indices not started');
  t.equal(reason(h, arr.id), 'JobArrayTaskLimit');
  t.same(h.sent(), tasks().map((j) => j.id), 'each task is its own job to the backend');
  await h.finish(tasks()[0]!.id);
  t.same(tasks().map((j) => j.arrayTaskId), [0, 1, 2], 'an ended task makes room for the next');
  await h.finish(tasks()[1]!.id);
  await h.finish(tasks()[2]!.id);
  t.same(tasks().map((j) => j.arrayTaskId), [0, 1, 2, 3, 4]);
  t.equal(tasks()[4]!.id, arr.id, "the last task is the array's own record, as in slurmctld");
  t.equal(h.store.require(arr.id).arrayTasks, null);
});

t.test('an array of 10,000 tasks is one row until it starts', async (t) => {
  const h = harness(t, { maxConcurrentMasters: 4, maxArraySize: 10_001 });
  const arr = await h.submit({ array: '1-10000' });
  t.equal(h.store.list({}).total, 5, 'the record and the 4 tasks the master slots allow');
  t.equal(h.store.require(arr.id).arrayTasks, '5-10000');
  await t.rejects(h.submit({ array: '0-10001' }), { code: 'E_OPTION_INVALID', message: /--array: index 10001 is out of range: indexes must be less than MaxArraySize \(10001\)/ }, 'past MaxArraySize: refused, in SLURM\'s words');
});

t.test('scancel of an array, of one task, of a task range', async (t) => {
  const h = harness(t, { maxConcurrentMasters: 1 });
  const arr = await h.submit({ array: '1-6' });
  const [cancelled] = await h.service.cancel(arr.id, 'alice', [4]);
  t.equal(cancelled!.arrayTaskId, 4, 'a task not started is split off and cancelled');
  t.equal(cancelled!.state, 'CANCELLED');
  t.equal(h.store.require(arr.id).arrayTasks, '2-3,5-6');
  const range = await h.service.cancel(arr.id, 'alice', [2, 3]);
  t.same(range.map((j) => [j.arrayTaskId, j.state]), [[2, 'CANCELLED'], [3, 'CANCELLED']]);
  await t.rejects(h.service.cancel(arr.id, 'alice', [9]), { code: 'E_JOB_NOT_FOUND' }, 'a task the array does not have');
  const all = await h.service.cancel(arr.id, 'alice');
  t.same(all.map((j) => j.state), ['CANCELLED', 'CANCELLED'], 'the whole array: its record and its started task');
  await h.settle();
  t.same(h.sent().length, 1, 'nothing more was sent');
});

t.test('a restart keeps the queue: holds, begin times and dependencies as they were', async (t) => {
  const h = harness(t);
  const a = await h.submit();
  const dep = await h.submit({ dependency: `afterok:${a.id}` });
  const later = await h.submit({ begin_time: new Date(T0 + 60_000).toISOString() });
  h.dispatcher.stop();
  const h2 = h.restart();
  await h2.settle();
  t.equal(h2.store.require(dep.id).reason, 'Dependency');
  await h2.finish(a.id);
  t.same(h2.sent(), [dep.id], 'the dependency is followed by the new daemon');
  h2.clock.advance(60_000);
  await h2.settle();
  t.same(h2.sent(), [dep.id, later.id], 'and the begin time');
});

t.test('scontrol update of a pending job: checked again as at submit, the queue follows it', async (t) => {
  const h = harness(t);
  const a = await h.submit({ hold: true });
  const job = await h.submit({ name: 'old', time_limit: 60, dependency: `afterok:${a.id}` });
  t.equal(reason(h, job.id), 'Dependency');
  const updated = await h.service.update(job.id, 'alice', { name: 'new', time_limit: 30, nice: 7, dependency: '' });
  t.same([updated.name, updated.timeLimitMinutes, updated.description.nice, updated.dependency, updated.reason], ['new', 30, 7, null, 'None']);
  t.equal(updated.description.dependency, undefined, 'Dependency= clears it');
  await h.settle();
  t.same(h.sent(), [job.id], 'with its dependency gone it is sent at once');
  t.equal(h.backend.allocated[0]!.timeLimitMinutes, 30, 'with the new limit');
  t.match(h.store.events(job.id).map((e) => e.reason), ['submitted', /updated by alice: name=new time_limit=30 nice=7 dependency=/]);

  const later = await h.submit({ hold: true });
  await h.service.update(later.id, 'alice', { begin_time: new Date(T0 + 60_000).toISOString() });
  t.equal(reason(h, later.id), 'JobHeldUser', 'an update does not release a hold');
  await t.rejects(h.service.update(later.id, 'alice', { dependency: `afterok:${later.id}` }), { code: 'E_REQUEST_INVALID', message: /cannot depend on itself/ });
  await t.rejects(h.service.update(later.id, 'alice', { dependency: 'afterok:999' }), { code: 'E_REQUEST_INVALID', message: /job 999 does not exist/ });
  await t.rejects(h.service.update(later.id, 'alice', { partition: 'nope' }), { code: 'E_PARTITION_UNKNOWN' });
  await t.rejects(h.service.update(later.id, 'alice', {}), { code: 'E_REQUEST_INVALID', message: /nothing to update/ });
  t.equal(h.store.require(later.id).beginTime, T0 + 60_000, 'a refused update changed nothing');
});

t.test('scontrol update of a running job: a lower time limit only, passed to the backend', async (t) => {
  const h = harness(t);
  const job = await h.submit({ time_limit: 60 });
  h.store.patch(job.id, { backendId: `b${job.id}` });
  await t.rejects(h.service.update(job.id, 'alice', { time_limit: 90 }), { code: 'E_PERMISSION_DENIED', message: /can only be lowered \(it is 60 minutes\)/ });
  await t.rejects(h.service.update(job.id, 'alice', { name: 'x' }), { code: 'E_JOB_STATE', message: /only TimeLimit can change once it runs/ });
  const lowered = await h.service.update(job.id, 'alice', { time_limit: 10 });
  t.equal(lowered.timeLimitMinutes, 10);
  t.same(h.backend.timeLimits, [[`b${job.id}`, 10]]);
  await h.finish(job.id);
  await t.rejects(h.service.update(job.id, 'alice', { time_limit: 5 }), { code: 'E_JOB_STATE' });
});

t.test('scontrol requeue of an ended job: back in the queue at its place, restart count up, sent again', async (t) => {
  const h = harness(t);
  const job = await h.submit();
  await h.finish(job.id, 'FAILED');
  h.clock.advance(60_000);
  const [requeued] = await h.service.requeue(job.id, 'alice');
  t.same([requeued!.state, requeued!.restartCount, requeued!.endTime, requeued!.exitCode], ['PENDING', 1, null, null], 'the run is cleared');
  await h.settle();
  t.same(h.sent(), [job.id, job.id], 'asked for nodes again');
  t.equal(requeued!.submitTime, job.submitTime, 'keeps its submit time (its place in the queue)');
  const events = h.store.events(job.id).map((e) => `${e.fromState ?? '-'}>${e.toState ?? '-'} ${e.reason}`);
  t.match(events.join('\n'), /FAILED>PENDING requeued by user:alice/);
  const pending = await h.submit({ hold: true });
  await t.rejects(h.service.requeue(pending.id, 'alice'), { code: 'E_JOB_STATE', message: /^Job is pending execution for job \d+$/ }, 'a pending job');
});

t.test('scontrol requeuehold: back in the queue held; --no-requeue jobs refuse, in SLURM words', async (t) => {
  const h = harness(t);
  const held = await h.submit();
  await h.finish(held.id);
  const [back] = await h.service.requeue(held.id, 'alice', true);
  t.same([back!.state, back!.reason, back!.blocked], ['PENDING', 'JobHeldUser', 'JobHeldUser']);
  await h.settle();
  t.same(h.sent(), [held.id], 'a held job is not sent');
  h.service.release(held.id, 'alice');
  await h.settle();
  t.same(h.sent(), [held.id, held.id], 'released: sent again');
  const never = await h.submit({ requeue: false });
  await h.finish(never.id);
  await t.rejects(h.service.requeue(never.id, 'alice'), { code: 'E_JOB_STATE', message: /^Requested operation is presently disabled for job \d+/ });
  t.equal(state(h, never.id), 'COMPLETED', 'unchanged');
});

t.test('scontrol requeue of a job waiting for nodes: its request is withdrawn, then it is asked for again', async (t) => {
  const h = harness(t);
  const job = await h.submit();
  h.store.patch(job.id, { backendId: `b${job.id}` });
  const [back] = await h.service.requeue(job.id, 'alice');
  t.equal(back!.state, 'PENDING');
  t.same(h.backend.released, [`b${job.id}`], 'the backend request is released first');
  await h.settle();
  t.same(h.sent(), [job.id, job.id]);
});

t.test('scontrol requeue of a running job: decided first, the master stopped, then back in the queue', async (t) => {
  const h = harness(t);
  const job = await h.submit();
  h.store.transition(job.id, 'ALLOCATING', 'RUNNING', 'granted', 'test');
  // the runner's part: the master is told to stop; its exit ends the run as decided
  const stopped: { intent: string | null }[] = [];
  (h.dispatcher as unknown as { options: { runner: { stopMaster(id: number): Promise<boolean> } } }).options.runner.stopMaster = async (id) => {
    stopped.push({ intent: h.store.require(id).endIntent });
    return true;
  };
  await h.service.requeue(job.id, 'alice');
  t.same(stopped, [{ intent: 'REQUEUE' }], 'the decision was written before the master was stopped');
  h.store.transition(job.id, 'RUNNING', 'COMPLETING', 'master ended', 'test', { exitCode: 143 });
  const { endRun } = await import('../../src/jobs/run-end.js');
  const after = endRun(h.store, job.id, 'COMPLETING', { otherwise: 'FAILED', why: 'job ended $END', actor: 'test' });
  t.same([after.state, after.restartCount, after.exitCode, after.endIntent], ['PENDING', 1, null, null]);
  await t.rejects(h.service.requeue(job.id, 'alice'), { code: 'E_JOB_STATE' }, 'pending now');
});

t.test('scontrol requeue while the run completes: the run ends in the queue, not in its exit state', async (t) => {
  const h = harness(t);
  const job = await h.submit();
  h.store.transition(job.id, 'ALLOCATING', 'RUNNING', 'granted', 'test');
  h.store.transition(job.id, 'RUNNING', 'COMPLETING', 'master ended', 'test', { exitCode: 0 });
  await h.service.requeue(job.id, 'alice');
  const { endRun } = await import('../../src/jobs/run-end.js');
  t.equal(endRun(h.store, job.id, 'COMPLETING', { otherwise: 'COMPLETED', why: 'job ended $END', actor: 'test' }).state, 'PENDING');
  const cancelling = await h.submit();
  h.store.patch(cancelling.id, { endIntent: 'CANCELLED' });
  await t.rejects(h.service.requeue(cancelling.id, 'alice'), { code: 'E_JOB_STATE', message: /already completing or completed .*ending CANCELLED/ }, 'a cancel under way wins');
});

t.test('scontrol requeue of an array: every task that ran; a task not started is pending', async (t) => {
  const h = harness(t, { maxConcurrentMasters: 2 });
  const array = await h.submit({ array: '0-2' });
  const [a, b] = h.sent();
  h.service.hold(array.id, 'alice'); // its last index stays pending
  await h.finish(a!);
  await h.finish(b!);
  const requeued = await h.service.requeue(array.id, 'alice');
  t.same(requeued.map((j) => j.id).sort(), [a!, b!].sort(), 'the tasks that had ended, not the one still pending');
  t.ok(requeued.every((j) => j.state === 'PENDING' && j.restartCount === 1));
  t.same([state(h, array.id), h.store.require(array.id).arrayTasks], ['PENDING', '2'], 'the pending index untouched');
});

t.test('directives are parsed once: a request that says it applied them (grm sbatch) is taken as it is', async (t) => {
  const h = harness(t);
  const script = '#!/bin/sh\n#SBATCH --nice=5\n#SBATCH -J from-script\ntrue\n';
  const parsed = await h.submit({ script });
  t.same([parsed.name, h.store.require(parsed.id).description.nice], ['from-script', 5], 'a bare script (REST): its directives apply');
  const applied = await h.submit({ script, directives_applied: true, name: 'cli' });
  const stored = h.store.require(applied.id);
  t.same([stored.name, stored.description.nice], ['cli', undefined], 'not read again');
  t.notOk('directives_applied' in stored.description, 'the marker is not stored');
});

t.test('look-ahead: at most N jobs wait in the backend for nodes; the rest wait in GRM\'s order (Priority) and follow as grants come', async (t) => {
  const h = harness(t, { lookAhead: 2 });
  const jobs = [];
  for (let i = 0; i < 5; i++) jobs.push(await h.submit({ name: `j${i}` }));
  await h.settle();
  t.same(h.sent(), [jobs[0]!.id, jobs[1]!.id], 'two sent: the backend holds them');
  t.same(jobs.slice(2).map((j) => [h.store.require(j.id).state, h.store.require(j.id).reason]), [['PENDING', 'Priority'], ['PENDING', 'Priority'], ['PENDING', 'Priority']]);
  // the backend grants the first: it no longer waits for nodes, so the next one goes
  h.store.patch(jobs[0]!.id, { nodeList: 'n1' });
  h.store.transition(jobs[0]!.id, 'ALLOCATING', 'RUNNING', 'granted', 'test');
  await h.settle();
  t.same(h.sent(), [jobs[0]!.id, jobs[1]!.id, jobs[2]!.id], 'one granted, one more sent, in order');
  t.equal(h.store.require(jobs[3]!.id).reason, 'Priority');
});

t.test('jobs at a limit at the head do not use up the depth: the pass reads past them (up to scanLimit)', async (t) => {
  const policy = { runLimit: (job: JobRecord) => (job.user === 'heavy' ? 'AssocMaxJobsLimit' : null), victimsFor: () => [], mayPreempt: () => false };
  const h = harness(t, { queueDepth: 3, policy });
  const heavy = [];
  for (let i = 0; i < 7; i++) heavy.push(await h.submit({ name: `h${i}` }, 'heavy'));
  const light = await h.submit({ name: 'l' }, 'light');
  await h.settle();
  t.same(h.sent(), [light.id], "the light user's job, behind 7 limited ones and a depth of 3, was sent");
  t.ok(heavy.every((j) => h.store.require(j.id).reason === 'AssocMaxJobsLimit'), 'each limited job says why');

  const bounded = harness(t, { queueDepth: 3, scanLimit: 5, policy });
  for (let i = 0; i < 7; i++) await bounded.submit({ name: `h${i}` }, 'heavy');
  const far = await bounded.submit({ name: 'l' }, 'light');
  await bounded.settle();
  t.same(bounded.sent(), [], 'scanLimit bounds a pass: 5 read, the 8th not reached');
  t.equal(bounded.store.require(far.id).reason, 'None');
});
