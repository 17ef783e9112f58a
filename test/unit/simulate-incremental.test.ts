/**
 * What makes a replay fast must not change what it computes: the indexed queue (waiting-index.ts)
 * against a plain array, the cluster state kept from pass to pass (cluster-state.ts) against one
 * built afresh, and a whole replay (kept state, skipped jobs, kept reservations, skipped backfill
 * ticks) against a naive one that calls the live backend's schedule() on plain arrays at every
 * event (and, for the slurm policy, runs backfill at every tick).
 */
import fc from 'fast-check';
import t from 'tap';
import { ClusterState } from '../../src/backends/simulator/cluster-state.js';
import type { SimulatedClusterSpec } from '../../src/backends/simulator/cluster-spec.js';
import type { RunningAllocation } from '../../src/backends/simulator/placement.js';
import { schedule, scheduleOn, type QueuedRequest } from '../../src/backends/simulator/scheduler.js';
import { clusterSpec, PASS_OPTIONS, replay, requestOf, WINDOW, type SlurmPassOptions } from '../../src/simulate/replay.js';
import type { SwfJob } from '../../src/simulate/swf.js';
import { WaitingIndex } from '../../src/simulate/waiting-index.js';

t.test('WaitingIndex answers as a plain array of the waiting jobs does', async (t) => {
  const op = fc.oneof(fc.record({ add: fc.nat(63), cpus: fc.integer({ min: 1, max: 20 }) }), fc.record({ remove: fc.nat(63) }));
  fc.assert(
    fc.property(fc.array(op, { maxLength: 120 }), fc.integer({ min: 1, max: 25 }), fc.integer({ min: 1, max: 70 }), (ops, cpus, limit) => {
      const index = new WaitingIndex(64);
      const model = new Map<number, number>();
      for (const o of ops) {
        if ('add' in o) {
          index.add(o.add, { id: String(o.add), request: {} as QueuedRequest['request'] }, o.cpus);
          model.set(o.add, o.cpus);
        } else {
          index.remove(o.remove);
          model.delete(o.remove);
        }
      }
      const slots = [...model.keys()].sort((a, b) => a - b);
      if (index.waiting !== slots.length) return false;
      if (!slots.every((slot, k) => index.slotOf(k) === slot && index.rankOf(slot) === k)) return false;
      const q = index.queue(limit);
      const length = Math.min(limit, slots.length);
      if (q.length !== length) return false;
      for (let from = 0; from < length; from++) {
        if (q.at(from).id !== String(slots[from])) return false;
        let want = from;
        while (want < length && model.get(slots[want]!)! > cpus) want++;
        if (q.nextNeedingAtMost!(from, cpus) !== want) return false;
      }
      return true;
    }),
    { numRuns: 400 },
  );
  t.pass('400 random sequences of submits and starts');
});

// Two overlapping partitions of nodes with 1 to 4 CPUs; allocations shared or exclusive.
const SPEC: SimulatedClusterSpec = {
  nodes: [1, 2, 3, 4, 5, 6].map((i) => ({ name: `n${i}`, cpus: 1 + (i % 4), memoryMiB: 4096, gpus: 0 })),
  partitions: [
    { name: 'a', nodes: ['n1', 'n2', 'n3', 'n4'], default: true, maxTimeMinutes: null },
    { name: 'b', nodes: ['n6', 'n3', 'n5'], default: false, maxTimeMinutes: null },
  ],
};

const names = (s: ClusterState, p: string) => s.withFreeCpu(p).map((i) => SPEC.nodes[i]!.name).join();

t.test('ClusterState told of starts and ends equals one built afresh from what still runs', async (t) => {
  const alloc = fc.record({
    node: fc.integer({ min: 1, max: 6 }),
    cpus: fc.integer({ min: 1, max: 2 }),
    exclusive: fc.boolean(),
    end: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }),
  });
  const op = fc.oneof(fc.record({ start: alloc }), fc.record({ end: fc.nat(30) }));
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const state = new ClusterState(SPEC, new Map([['n4', 'drained']]));
      const running: RunningAllocation[] = [];
      ops.forEach((o, k) => {
        if ('start' in o) {
          const node = SPEC.nodes[o.start.node - 1]!;
          const u = state.usageByName().get(node.name)!;
          // only what fits: the scheduler never over-commits a node
          const cpus = o.start.exclusive ? node.cpus : o.start.cpus;
          if (u.exclusive || (o.start.exclusive && u.allocations > 0) || u.cpus + cpus > node.cpus) return;
          const a: RunningAllocation = { id: `a${k}`, exclusive: o.start.exclusive, nodes: [{ name: node.name, cpus, memoryMiB: 10, gpus: 0 }], endTime: o.start.end };
          state.start(a);
          running.push(a);
        } else if (running.length > 0) {
          const [gone] = running.splice(o.end % running.length, 1);
          state.end(gone!.id);
        }
      });
      const fresh = new ClusterState(SPEC, new Map([['n4', 'drained']]), running);
      for (const p of ['a', 'b']) {
        if (names(state, p) !== names(fresh, p)) return false;
        if (state.freeCpus(p) !== fresh.freeCpus(p)) return false;
      }
      const ends = (s: ClusterState) => s.endingByTime.map((a) => a.endTime);
      return JSON.stringify(ends(state)) === JSON.stringify(ends(fresh)) && JSON.stringify([...state.usageByName()]) === JSON.stringify([...fresh.usageByName()]);
    }),
    { numRuns: 400 },
  );
  t.pass('400 random sequences of starts and ends');
});

type Policy = 'fcfs' | 'easy' | SlurmPassOptions;

/**
 * The replay without its shortcuts: schedule() on plain arrays. FCFS and EASY: passes until
 * none starts. The slurm policy steps through every second, with one main pass after a submit
 * or an end and one backfill cycle (bf_max_job_test jobs, whether or not one is blocked) at
 * every multiple of bf_interval, skipped or not: what a pass's depth does not reach waits for
 * the next trigger, as in slurmctld.
 */
function naiveReplay(jobs: SwfJob[], nodes: number, ppn: number, policy: Policy): Map<number, number> {
  const spec = clusterSpec(nodes, ppn);
  const slurm = typeof policy === 'object' ? policy : undefined;
  const order = [...jobs].sort((a, b) => a.submit - b.submit || a.id - b.id);
  let running: (RunningAllocation & { realEnd: number })[] = [];
  let queue: QueuedRequest[] = [];
  const starts = new Map<number, number>();
  let next = 0;
  let second = 0;
  for (;;) {
    const now = slurm ? second++ * 1000 : Math.min(next < order.length ? order[next]!.submit * 1000 : Infinity, ...running.map((r) => r.realEnd));
    const [wasRunning, wasNext] = [running.length, next];
    running = running.filter((r) => r.realEnd > now);
    for (; next < order.length && order[next]!.submit * 1000 <= now; next++) queue.push({ id: String(order[next]!.id), request: requestOf(order[next]!) });
    const changed = running.length !== wasRunning || next !== wasNext;
    // the end: nothing runs or comes, and a last pass (for slurm, a backfill pass) started nothing
    let last = true;
    if (!slurm) while (pass(now, WINDOW, PASS_OPTIONS[typeof policy === 'string' ? policy : 'easy']) > 0);
    else {
      // slurmctld's main scheduler tests default_queue_depth + 1 jobs (job_depth++ > def_job_limit)
      if (changed) pass(now, slurm.defaultQueueDepth + 1, { queueDepth: slurm.defaultQueueDepth + 1, backfillMaxJobTest: 0 });
      last = now % (slurm.bfInterval * 1000) === 0;
      if (last) last = pass(now, slurm.bfMaxJobTest, { queueDepth: slurm.bfMaxJobTest, backfillMaxJobTest: slurm.bfMaxJobTest, resolution: slurm.bfResolution * 1000 }) === 0;
    }
    if (last && running.length === 0 && next >= order.length) break;
  }
  return starts;

  /** One pass over the first `window` waiting jobs; how many jobs it started. */
  function pass(now: number, window: number, options: Parameters<typeof schedule>[1]): number {
    const { placements } = schedule({ spec, nodeStates: new Map(), running, queue: queue.slice(0, window), now }, options);
    for (const p of placements) {
      const job = order.find((j) => String(j.id) === p.id)!;
      running.push({ id: p.id, exclusive: false, nodes: p.nodes, endTime: p.endTime, realEnd: now + job.runtime * 1000 });
      starts.set(job.id, now / 1000);
    }
    const started = new Set(placements.map((p) => p.id));
    queue = queue.filter((q) => !started.has(q.id));
    return placements.length;
  }
}

t.test('a replay gives the starts of a naive one, for FCFS and EASY', async (t) => {
  const swfJob = fc.record({
    submit: fc.integer({ min: 0, max: 3000 }),
    procs: fc.integer({ min: 1, max: 12 }),
    runtime: fc.integer({ min: 1, max: 900 }),
    extra: fc.option(fc.integer({ min: 0, max: 600 }), { nil: null, freq: 8 }),
  });
  fc.assert(
    fc.property(fc.array(swfJob, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 4 }), fc.constantFrom('fcfs' as const, 'easy' as const), (raw, ppn, policy) => {
      const jobs: SwfJob[] = raw.map((j, i) => ({ id: i + 1, submit: j.submit, procs: j.procs, runtime: j.runtime, limit: j.extra === null ? null : j.runtime + j.extra, user: 1 }));
      const got = new Map(replay(jobs, { nodes: 3, procsPerNode: ppn, policy }).outcomes.map((o) => [o.id, o.start]));
      const want = naiveReplay(jobs, 3, ppn, policy);
      return JSON.stringify([...got].sort((a, b) => a[0] - b[0])) === JSON.stringify([...want].sort((a, b) => a[0] - b[0]));
    }),
    { numRuns: 300 },
  );
  t.pass('300 random workloads on 3 nodes of 1 to 4 processors');
});

t.test('a slurm-policy replay gives the starts of a naive one that runs backfill at every tick', async (t) => {
  const swfJob = fc.record({
    submit: fc.integer({ min: 0, max: 400 }),
    procs: fc.integer({ min: 1, max: 12 }),
    runtime: fc.integer({ min: 1, max: 200 }),
    minutes: fc.option(fc.integer({ min: 0, max: 4 }), { nil: null, freq: 8 }),
  });
  const params = fc.record({
    defaultQueueDepth: fc.integer({ min: 1, max: 6 }),
    bfInterval: fc.constantFrom(1, 7, 30),
    bfMaxJobTest: fc.integer({ min: 1, max: 40 }),
    bfResolution: fc.constantFrom(1, 60),
    completingSeconds: fc.constant(0),
  });
  fc.assert(
    fc.property(fc.array(swfJob, { minLength: 1, maxLength: 25 }), fc.integer({ min: 1, max: 4 }), params, (raw, ppn, slurm) => {
      // limits of whole minutes, as SLURM's: the run time fits in them or is cut to them
      const jobs: SwfJob[] = raw.map((j, i) => {
        const limit = j.minutes === null ? null : (Math.ceil(j.runtime / 60) + j.minutes) * 60;
        return { id: i + 1, submit: j.submit, procs: j.procs, runtime: j.runtime, limit, user: 1 };
      });
      const got = new Map(replay(jobs, { nodes: 3, procsPerNode: ppn, policy: 'slurm', slurm }).outcomes.map((o) => [o.id, o.start]));
      const want = naiveReplay(jobs, 3, ppn, slurm);
      return JSON.stringify([...got].sort((a, b) => a[0] - b[0])) === JSON.stringify([...want].sort((a, b) => a[0] - b[0]));
    }),
    // a fixed seed: CI's runs are the same each time (a random one found the case below)
    { numRuns: 300, seed: 20261207 },
  );
  t.pass('300 random workloads and slurm.conf settings');
});

const startsOf = (outcomes: { id: number; start: number }[]) => [...outcomes].sort((a, b) => a.id - b.id).map((o) => [o.id, o.start]);

// Found by a random seed in ci-under-load on 2026-12-07, when a slurm replay ran passes of one
// kind at one instant until one started nothing. One pass per trigger (as slurmctld), by hand,
// 3 nodes x 4 CPUs, default_queue_depth=1, bf_max_job_test=2, bf_interval=bf_resolution=1 s:
// t=0 main: 4. t=1 main: 2 (8 CPUs); backfill tests 3 (reserves at 60 s, job 4's limit) and 5,
// starts nothing. t=2 (4 and 2 end) main: 3 (4 CPUs, limit to 302 s); backfill tests 5
// (reserves at 302 s) and 6 (3 CPUs until 302 s: the 9 CPUs left then are 5's), starts 6 and
// stops: job 1 waits for the next cycle. t=3 (6 ends) backfill: 5, then 1 (no limit, but 11
// CPUs are left at 302 s). t=63 (3 ends) main: 5.
t.test('slurm: a backfill cycle whose bf_max_job_test runs out leaves the rest to the next cycle', async (t) => {
  const raw = [
    { submit: 2, procs: 1, runtime: 1, limit: null },
    { submit: 1, procs: 8, runtime: 1, limit: null },
    { submit: 1, procs: 4, runtime: 61, limit: 300 },
    { submit: 0, procs: 1, runtime: 2, limit: 60 },
    { submit: 1, procs: 9, runtime: 1, limit: null },
    { submit: 1, procs: 3, runtime: 1, limit: 300 },
  ];
  const jobs: SwfJob[] = raw.map((j, i) => ({ id: i + 1, ...j, user: 1 }));
  const slurm = { defaultQueueDepth: 1, bfInterval: 1, bfMaxJobTest: 2, bfResolution: 1, completingSeconds: 0 };
  const got = startsOf(replay(jobs, { nodes: 3, procsPerNode: 4, policy: 'slurm', slurm }).outcomes);
  t.same(got, [[1, 3], [2, 1], [3, 2], [4, 0], [5, 63], [6, 2]], 'the starts by hand');
  t.same(got, [...naiveReplay(jobs, 3, 4, slurm)].sort((a, b) => a[0] - b[0]), 'the naive replay agrees');
});

// The case above, with passes at one instant until none starts (as the replay did), found that a
// second pass on the kept state decided otherwise than schedule(): the first pass's reservation
// for job 5 held job 6, which it started and which ends at 5's start, at that start (bf_resolution:
// availability.ts inexact), where a fresh walk releases it; job 1 was turned down.
t.test('a second backfill pass on the kept state at one instant starts what schedule() starts', async (t) => {
  const spec = clusterSpec(3, 4);
  const now = 2000;
  const job = (id: number, procs: number, limit: number | null): QueuedRequest =>
    ({ id: String(id), request: requestOf({ id, submit: 1, procs, runtime: 1, limit, user: 1 }) });
  const job3: RunningAllocation = { id: '3', exclusive: false, nodes: [{ name: 'n1', cpus: 4, memoryMiB: 0, gpus: 0 }], endTime: 302_000 };
  const state = new ClusterState(spec, new Map(), [job3]);
  const options = { queueDepth: 1, backfillMaxJobTest: 2, resolution: 1000, reasons: false };
  const asQueue = (q: QueuedRequest[]) => ({ length: q.length, at: (i: number) => q[i]! });
  const first = scheduleOn({ spec, state, queue: asQueue([job(5, 9, null), job(6, 3, 300)]), now }, options);
  t.same(first.placements.map((p) => p.id), ['6'], 'the first pass starts 6 beside the reservation of 5');
  const second = [job(5, 9, null), job(1, 1, null)];
  const kept = scheduleOn({ spec, state, queue: asQueue(second), now }, options);
  const running = [job3, ...first.placements.map((p) => ({ id: p.id, exclusive: false, nodes: p.nodes, endTime: p.endTime }))];
  const fresh = schedule({ spec, nodeStates: new Map(), running, queue: second, now }, options);
  t.same(fresh.placements.map((p) => p.id), ['1'], 'schedule() starts 1 (5 still fits at 302 s)');
  t.same(kept.placements.map((p) => p.id), ['1'], 'so does the pass on the kept state');
});

// test/slurm/backfill-cycles.test.ts's workload, which the real slurmctld ran so: one small job per
// backfill cycle, bf_interval apart. 4 nodes x 2 CPUs; R (1 CPU, 10 min) keeps W (8 CPUs) waiting;
// S1..S4 (1 CPU, 1 min) could all backfill at once. Each cycle tests W and one S: at the ticks
// 5, 10, 15, 20 s; W at R's end.
t.test('slurm: one backfill cycle per bf_interval, each starting what bf_max_job_test reaches', async (t) => {
  const raw = [
    { submit: 0, procs: 1, runtime: 600, limit: 600 },
    { submit: 1, procs: 8, runtime: 1, limit: 60 },
    ...[1, 2, 3, 4].map(() => ({ submit: 1, procs: 1, runtime: 300, limit: 60 })),
  ];
  const jobs: SwfJob[] = raw.map((j, i) => ({ id: i + 1, ...j, user: 1 }));
  const slurm = { defaultQueueDepth: 1, bfInterval: 5, bfMaxJobTest: 2, bfResolution: 60, completingSeconds: 0 };
  const got = startsOf(replay(jobs, { nodes: 4, procsPerNode: 2, policy: 'slurm', slurm }).outcomes);
  t.same(got, [[1, 0], [2, 600], [3, 5], [4, 10], [5, 15], [6, 20]]);
  t.same(got, [...naiveReplay(jobs, 4, 2, slurm)].sort((a, b) => a[0] - b[0]), 'the naive replay agrees');
});
