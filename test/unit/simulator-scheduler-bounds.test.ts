// Bounded passes (default_queue_depth / bf_max_job_test), stop-at-first-blocked, backfill
// against the availability profile, and the backend keeping reasons of unexamined jobs.
import t from 'tap';
import type { BackendEvent, ResourceRequest } from '../../src/backends/resource-backend.js';
import { defaultClusterSpec, type SimulatedClusterSpec } from '../../src/backends/simulator/cluster-spec.js';
import type { RunningAllocation } from '../../src/backends/simulator/placement.js';
import {
  compareRequestPriority,
  DEFAULT_BF_MAX_JOB_TEST,
  DEFAULT_QUEUE_DEPTH,
  schedule,
  type ScheduleOptions,
  type SchedulerResult,
} from '../../src/backends/simulator/scheduler.js';
import { ManualClock, SimulatorBackend } from '../../src/backends/simulator/simulator-backend.js';
import { simRequest } from '../helpers/sim-request.js';

const NOW = 1_700_000_000_000;
const MIN = 60_000;

const req = (jobId: number, over: Partial<ResourceRequest> = {}): ResourceRequest => simRequest(jobId, NOW - 100_000 + jobId, over);

function run(
  queue: ResourceRequest[],
  opts: { spec?: SimulatedClusterSpec; running?: RunningAllocation[]; options?: ScheduleOptions } = {},
): SchedulerResult {
  return schedule(
    {
      spec: opts.spec ?? defaultClusterSpec(),
      nodeStates: new Map(),
      running: opts.running ?? [],
      queue: [...queue].sort(compareRequestPriority).map((r) => ({ id: `sim-${r.jobId}`, request: r })),
      now: NOW,
    },
    opts.options,
  );
}

const nodeNames = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `node${String(from + i).padStart(2, '0')}`);

function busy(names: string[], endTime: number | null, id = 'sim-900'): RunningAllocation {
  return { id, exclusive: true, endTime, nodes: names.map((name) => ({ name, cpus: 4, memoryMiB: 16384, gpus: 0 })) };
}

function bigSpec(count: number): SimulatedClusterSpec {
  const nodes = Array.from({ length: count }, (_, i) => ({ name: `n${String(i + 1).padStart(4, '0')}`, cpus: 4, memoryMiB: 16384, gpus: 0 }));
  return { nodes, partitions: [{ name: 'batch', nodes: nodes.map((n) => n.name), default: true, maxTimeMinutes: null }] };
}

const started = (r: SchedulerResult) => r.placements.map((p) => p.jobId);

t.test('defaults are slurm.conf defaults', async (t) => {
  t.equal(DEFAULT_QUEUE_DEPTH, 100, 'default_queue_depth');
  t.equal(DEFAULT_BF_MAX_JOB_TEST, 500, 'bf_max_job_test');
  t.throws(() => run([], { options: { queueDepth: -1 } }), RangeError);
  t.throws(() => run([], { options: { backfillMaxJobTest: Number.NaN } }), RangeError);
});

t.test('depth: job 101 of 1000 one-node jobs on a free cluster waits for the next pass', async (t) => {
  const spec = bigSpec(1000);
  const jobs = Array.from({ length: 1000 }, (_, i) => req(i + 1, { tasks: 4, exclusive: true }));
  const first = run(jobs, { spec });
  t.equal(first.placements.length, 100);
  t.same(started(first), jobs.slice(0, 100).map((j) => j.jobId), 'the first 100 in priority order');
  t.equal(first.examined, 100);
  t.equal(first.pending.size, 0, 'jobs past the depth are not examined: no reason at all');
  t.notOk(first.pending.has('sim-101'));
  t.same(first.reservations, []);

  const running: RunningAllocation[] = first.placements.map((p) => ({ id: p.id, exclusive: p.exclusive, nodes: p.nodes, endTime: p.endTime }));
  const second = run(jobs.slice(100), { spec, running });
  t.equal(second.placements[0]?.jobId, 101, 'the next pass starts job 101');
  t.same(started(second), jobs.slice(100, 200).map((j) => j.jobId));
  t.equal(second.placements[0]?.nodes[0]?.name, 'n0101', 'on the first free node');

  const unbounded = run(jobs, { spec, options: { queueDepth: 1000 } });
  t.equal(unbounded.placements.length, 1000, 'a deeper queue_depth starts them all in one pass');
});

t.test('main pass: once a job of a partition is blocked, later jobs of that partition wait (Priority)', async (t) => {
  const spec = defaultClusterSpec();
  spec.partitions = [
    { name: 'batch', nodes: nodeNames(1, 4), default: true, maxTimeMinutes: null },
    { name: 'other', nodes: nodeNames(5, 8), maxTimeMinutes: null },
  ];
  const running = [busy(nodeNames(1, 3), NOW + 60 * MIN)];
  const queue = [
    req(1, { tasks: 8, minNodes: 2, maxNodes: 2 }),
    req(2, { tasks: 4, timeLimitMinutes: 30 }),
    req(3, { tasks: 4, partition: 'other' }),
    req(4, { tasks: 1, timeLimitMinutes: 30 }),
  ];
  const mainOnly = run(queue, { spec, running, options: { backfillMaxJobTest: 0 } });
  t.same(started(mainOnly), [3], 'another partition is not held back');
  t.equal(mainOnly.pending.get('sim-1'), 'Resources');
  t.equal(mainOnly.pending.get('sim-2'), 'Priority', 'fits node04 and ends in time, but the main pass does not backfill');
  t.equal(mainOnly.pending.get('sim-4'), 'Priority');
  t.same(mainOnly.reservations, [{ id: 'sim-1', partition: 'batch', startTime: NOW + 60 * MIN }]);

  const withBackfill = run(queue, { spec, running });
  t.same(started(withBackfill), [2, 3], 'backfill starts job 2 on node04');
  t.equal(withBackfill.placements[0]?.backfilled, true);
  t.equal(withBackfill.placements[0]?.nodes[0]?.name, 'node04');
  t.equal(withBackfill.pending.get('sim-4'), 'Resources', 'node04 is taken now');
});

t.test('backfill tests up to bf_max_job_test jobs, past queue_depth, only with a reservation', async (t) => {
  const running = [busy(nodeNames(1, 7), NOW + 60 * MIN)];
  const queue = [
    req(1, { tasks: 32, minNodes: 8, maxNodes: 8 }), // blocked: reservation at +60
    req(2, { tasks: 4 }), // fits node08 but never ends: Priority
    req(3, { tasks: 4, timeLimitMinutes: 120 }), // ends after the reserved start: Priority
    req(4, { tasks: 4, timeLimitMinutes: 60 }), // ends exactly at the reserved start: backfilled
    req(5, { tasks: 1, timeLimitMinutes: 5 }), // past bf_max_job_test: not examined
  ];
  const r = run(queue, { running, options: { queueDepth: 2, backfillMaxJobTest: 4 } });
  t.same(started(r), [4]);
  t.equal(r.placements[0]?.backfilled, true);
  t.equal(r.placements[0]?.endTime, NOW + 60 * MIN);
  t.same([...r.pending], [
    ['sim-1', 'Resources'],
    ['sim-2', 'Priority'],
    ['sim-3', 'Priority'],
  ]);
  t.equal(r.examined, 4, 'job 5 was not looked at');
  t.same(r.reservations, [{ id: 'sim-1', partition: 'batch', startTime: NOW + 60 * MIN }]);

  const free = run([req(1), req(2), req(3)], { options: { queueDepth: 2, backfillMaxJobTest: 500 } });
  t.same(started(free), [1, 2], 'nothing blocked: nothing past queue_depth is examined');
  t.equal(free.examined, 2);
});

t.test('EASY, exactly as before: ends by the reserved start, or leaves the reserved job enough nodes', async (t) => {
  const running = [busy(nodeNames(1, 6), NOW + 60 * MIN)];
  const r = run([req(1, { tasks: 28, minNodes: 7, maxNodes: 7, exclusive: true }), req(2, { tasks: 4 }), req(3, { tasks: 4 }), req(4, { tasks: 4, timeLimitMinutes: 90 })], {
    running,
  });
  t.same(r.reservations, [{ id: 'sim-1', partition: 'batch', startTime: NOW + 60 * MIN }]);
  t.same(started(r), [2], 'job 2 never ends, but seven nodes are still free at +60 with it on node07');
  t.equal(r.placements[0]?.nodes[0]?.name, 'node07');
  t.equal(r.pending.get('sim-3'), 'Priority', 'with job 2 started, job 3 on node08 would leave only six');
  t.equal(r.pending.get('sim-4'), 'Priority', 'ends after the reserved start: same');

  const short = run([req(1, { tasks: 28, minNodes: 7, maxNodes: 7, exclusive: true }), req(2, { tasks: 4 }), req(3, { tasks: 4, timeLimitMinutes: 60 })], {
    running,
  });
  t.same(started(short), [2, 3], 'a job that ends by the reserved start may take the last node');

  const overdue = run([req(1, { tasks: 28, minNodes: 7, maxNodes: 7, exclusive: true }), req(2, { tasks: 4 }), req(3, { tasks: 4 })], {
    running: [busy(nodeNames(1, 6), NOW - MIN)],
  });
  t.equal(overdue.pending.get('sim-1'), 'Resources', 'an allocation past its end still holds its nodes now ...');
  t.same(overdue.reservations, [{ id: 'sim-1', partition: 'batch', startTime: NOW }], '... but is counted as gone from now on');
  t.same(started(overdue), [2], 'so job 2 may start: node01-06 and node08 are seven nodes for the reserved job');
  t.equal(overdue.placements[0]?.nodes[0]?.name, 'node07');
  t.equal(overdue.pending.get('sim-3'), 'Priority', 'job 3 on node08 would leave it six: it would delay the reserved job');
});

t.test('backend: bounded passes drain a long queue pass after pass', async (t) => {
  const clock = new ManualClock(NOW);
  const backend = new SimulatorBackend(bigSpec(1000), clock);
  const granted: number[] = [];
  backend.onEvent((e) => {
    if (e.type === 'granted') granted.push(e.jobId);
  });
  await backend.start();
  for (let i = 1; i <= 1000; i++) await backend.allocate(req(i, { tasks: 4, exclusive: true, submitTime: NOW + i }));
  await backend.settle();
  t.equal(granted.length, 100, 'one pass: queue_depth jobs');
  t.notOk(granted.includes(101));
  t.same((await backend.list()).find((s) => s.jobId === 101), { jobId: 101, backendId: 'sim-101', state: 'PENDING' }, 'not examined: no reason yet');
  await backend.settle();
  t.ok(granted.includes(101), 'the bounded pass asked for the next one');
  t.equal(granted.length, 200);
  for (let i = 0; i < 20 && granted.length < 1000; i++) await backend.settle();
  t.equal(granted.length, 1000);
  t.same(granted, Array.from({ length: 1000 }, (_, i) => i + 1), 'in priority order');
  await backend.settle();
  t.equal(granted.length, 1000);
  await backend.stop();
});

t.test('backend: an unexamined job keeps its reason and gets no event', async (t) => {
  const clock = new ManualClock(NOW);
  const backend = new SimulatorBackend(defaultClusterSpec(), clock, { queueDepth: 1, backfillMaxJobTest: 1 });
  const events: BackendEvent[] = [];
  backend.onEvent((e) => events.push(e));
  await backend.start();
  await backend.allocate(req(1, { tasks: 32, minNodes: 8, maxNodes: 8, timeLimitMinutes: 60, submitTime: NOW }));
  await backend.settle();
  await backend.allocate(req(2, { submitTime: NOW + 2 }));
  await backend.allocate(req(3, { submitTime: NOW + 3 }));
  await backend.settle();
  const pending = () => events.flatMap((e) => (e.type === 'pending' ? [[e.jobId, e.reason]] : []));
  t.same(pending(), [[2, 'Resources']], 'job 3 is past the bounds');
  t.same((await backend.list()).find((s) => s.jobId === 3), { jobId: 3, backendId: 'sim-3', state: 'PENDING' });

  // A job of higher priority arrives: job 2 is no longer examined, and keeps 'Resources'.
  await backend.allocate(req(4, { tasks: 2, submitTime: NOW + 1 }));
  await backend.settle();
  t.same(pending(), [[2, 'Resources'], [4, 'Resources']]);
  t.same((await backend.list()).find((s) => s.jobId === 2), { jobId: 2, backendId: 'sim-2', state: 'PENDING', reason: 'Resources' });

  // Releasing a pending job keeps the queue in order.
  await backend.release('sim-4');
  await backend.settle();
  t.same(pending(), [[2, 'Resources'], [4, 'Resources']], 'job 2 examined again, same reason: no event');

  const granted = () => events.flatMap((e) => (e.type === 'granted' ? [e.jobId] : []));
  clock.advance(60 * MIN);
  await backend.settle();
  t.same(granted(), [1, 2], 'job 1 timed out; the pass examines one job: 2 starts');
  await backend.settle();
  t.same(granted(), [1, 2, 3], 'then 3 (a bounded pass that started a job asks for the next)');
  await backend.stop();
});

t.test('backend: the queue follows priority, not allocate order', async (t) => {
  const backend = new SimulatorBackend(defaultClusterSpec(), new ManualClock(NOW), { queueDepth: 1, backfillMaxJobTest: 1 });
  const granted: number[] = [];
  backend.onEvent((e) => {
    if (e.type === 'granted') granted.push(e.jobId);
  });
  await backend.start();
  await backend.allocate(req(10, { tasks: 32, minNodes: 8, maxNodes: 8, submitTime: NOW }));
  await backend.settle();
  // Submit times: 9 and 6 at +91 (job id decides), 7 and 1 at +93 (1's nice 10 decides), 5, 3.
  const order = [5, 3, 9, 1, 7];
  for (const j of order) await backend.allocate(req(j, { submitTime: NOW + 100 - (j === 1 ? 7 : j), nice: j === 1 ? 10 : 0 }));
  await backend.allocate(req(6, { submitTime: NOW + 100 - 9 }));
  await backend.release('sim-1'); // job 10's allocation: the cluster is free
  for (let i = 0; i < 10; i++) await backend.settle();
  t.same(granted, [10, 6, 9, 7, 1, 5, 3], 'submit time first, then nice, then job id');
  await backend.stop();
});
