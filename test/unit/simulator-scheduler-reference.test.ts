// An unbounded pass against the reference: the scheduler as it was before passes were bounded
// (strict priority, EASY backfill, each reservation and each backfill test a fresh walk over
// a copy of the usage). On random clusters and queues both must give the same placements,
// reasons and reservations; so must a pass with the default bounds on a queue within them.
import t from 'tap';
import type { ResourceRequest } from '../../src/backends/resource-backend.js';
import {
  effectiveTimeLimit,
  findPartition,
  type SimulatedClusterSpec,
  type SimulatedPartitionSpec,
} from '../../src/backends/simulator/cluster-spec.js';
import { tryPlace, type NodeAdminState, type RunningAllocation } from '../../src/backends/simulator/placement.js';
import { UsageTable } from '../../src/backends/simulator/usage-table.js';
import {
  compareRequestPriority,
  schedule,
  validateRequest,
  type SchedulerInput,
  type SchedulerResult,
  type SimPendingReason,
} from '../../src/backends/simulator/scheduler.js';

const NOW = 1_700_000_000_000;
const MIN = 60_000;

function referenceEarliestStart(req: ResourceRequest, p: SimulatedPartitionSpec, usage: UsageTable, running: RunningAllocation[]): number {
  if (tryPlace(req, p, usage)) return NOW;
  const ending = running.filter((a) => a.endTime !== null).sort((a, b) => a.endTime! - b.endTime!);
  const u = usage.copy();
  for (let i = 0; i < ending.length; ) {
    const end = ending[i]!.endTime!;
    while (i < ending.length && ending[i]!.endTime === end) u.applyAllocation(ending[i++]!, -1);
    if (tryPlace(req, p, u)) return Math.max(end, NOW);
  }
  return Infinity;
}

type Held = { id: string; req: ResourceRequest; p: SimulatedPartitionSpec; time: number };

function referenceSchedule(input: SchedulerInput): Omit<SchedulerResult, 'examined'> {
  const usage = UsageTable.build(input.spec, input.nodeStates, input.running);
  const running = [...input.running];
  const out: Omit<SchedulerResult, 'examined' | 'pending'> & { pending: Map<string, SimPendingReason> } = { placements: [], pending: new Map(), reservations: [] };
  const held: Held[] = [];
  const delays = (alloc: RunningAllocation, r: Held): boolean => {
    if (!alloc.nodes.some((n) => r.p.nodes.includes(n.name))) return false;
    if (alloc.endTime !== null && alloc.endTime <= r.time) return false;
    if (r.time === Infinity) return true;
    const u = usage.copy();
    u.applyAllocation(alloc, 1);
    return referenceEarliestStart(r.req, r.p, u, [...running, alloc]) > r.time;
  };
  for (const { id, request: req } of input.queue) {
    const p = findPartition(input.spec, req.partition);
    const limit = req.timeLimitMinutes;
    if (!p || p.state === 'DOWN') out.pending.set(id, 'PartitionDown');
    else if (limit !== null && limit > 0 && p.maxTimeMinutes !== null && limit > p.maxTimeMinutes) out.pending.set(id, 'PartitionTimeLimit');
    else if (req.minNodes > p.nodes.length) out.pending.set(id, 'PartitionNodeLimit');
    if (!p || out.pending.has(id)) continue;
    const minutes = effectiveTimeLimit(p, req.timeLimitMinutes);
    const endTime = minutes === null ? null : NOW + minutes * MIN;
    const placed = tryPlace(req, p, usage);
    const alloc: RunningAllocation | null = placed && { id, exclusive: req.exclusive, nodes: placed.nodes, endTime };
    if (placed && alloc && !held.some((r) => delays(alloc, r))) {
      usage.applyAllocation(alloc, 1);
      running.push(alloc);
      const { nodes, tasksPerNode } = placed;
      const backfilled = held.length > 0;
      out.placements.push({ id, jobId: req.jobId, partition: p.name, exclusive: req.exclusive, nodes, tasksPerNode, startTime: NOW, endTime, backfilled });
      continue;
    }
    out.pending.set(id, placed ? 'Priority' : 'Resources');
    if (!held.some((r) => r.p.name === p.name)) held.push({ id, req, p, time: referenceEarliestStart(req, p, usage, running) });
  }
  out.reservations = held.map((r) => ({ id: r.id, partition: r.p.name, startTime: r.time === Infinity ? null : r.time }));
  return out;
}

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), a | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** A small random cluster (mixed nodes, two overlapping partitions, some out of service), its load, its queue. */
function scenario(seed: number): SchedulerInput {
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const nodes = Array.from({ length: int(1, 12) }, (_, i) => {
    const gpus = r() < 0.3 ? int(1, 4) : 0;
    const typed = gpus > 0 && r() < 0.7 ? { gpuType: pick(['a100', 'v100']) } : {};
    return { name: `n${i}`, cpus: pick([1, 2, 4, 6, 8]), memoryMiB: pick([4096, 8192, 16384]), gpus, ...typed };
  });
  const names = nodes.map((n) => n.name);
  const some = (share: number, fallback: string) => {
    const chosen = names.filter(() => r() < share);
    return chosen.length > 0 ? chosen : [fallback];
  };
  const spec: SimulatedClusterSpec = {
    nodes,
    partitions: [
      {
        name: 'batch',
        nodes: some(0.8, names[0]!),
        default: true,
        maxTimeMinutes: r() < 0.3 ? 120 : null,
        defaultTimeMinutes: r() < 0.3 ? 30 : null,
      },
      { name: 'other', nodes: some(0.5, names.at(-1)!), maxTimeMinutes: null, state: r() < 0.1 ? 'DOWN' : 'UP' },
    ],
  };
  const nodeStates = new Map<string, NodeAdminState>(names.filter(() => r() < 0.1).map((n) => [n, pick<NodeAdminState>(['drained', 'down'])]));
  const request = (jobId: number): ResourceRequest => {
    const minNodes = r() < 0.7 ? 1 : int(1, 4);
    const gpusPerNode = r() < 0.15 ? int(1, 2) : 0;
    return {
      jobId, name: `j${jobId}`, user: 'u', partition: pick(['batch', 'batch', 'other', '']),
      minNodes, maxNodes: minNodes + (r() < 0.5 ? 0 : int(0, 4)), tasks: Math.max(minNodes, int(1, 12)), cpusPerTask: pick([1, 1, 2, 4]),
      gpusPerNode, ...(gpusPerNode && r() < 0.4 ? { gpuType: pick(['a100', 'v100']) } : {}),
      ...(r() < 0.2 ? { tasksPerNode: int(1, 4) } : {}),
      ...(r() < 0.15 ? { memoryPerNodeMiB: pick([1024, 8192]) } : r() < 0.15 ? { memoryPerCpuMiB: pick([512, 4096]) } : {}),
      timeLimitMinutes: r() < 0.3 ? null : pick([5, 30, 60, 90, 180, 240]), exclusive: r() < 0.3, nice: r() < 0.2 ? 10 : 0,
      submitTime: NOW - int(0, 20) * 1000,
    };
  };
  const usage = UsageTable.build(spec, new Map(), []);
  const running: RunningAllocation[] = [];
  for (let k = int(0, 12); k > 0; k--) {
    const placed = tryPlace({ ...request(900 + k), partition: 'batch' }, spec.partitions[0]!, usage);
    if (!placed) continue;
    const endTime = r() < 0.2 ? null : NOW + pick([-5, 0, 10, 30, 60, 60, 90, 200]) * MIN;
    const alloc = { id: `sim-${900 + k}`, exclusive: r() < 0.3, nodes: placed.nodes, endTime };
    if (alloc.exclusive && alloc.nodes.some((n) => usage.allocations[usage.numberOf.get(n.name)!]! > 0)) alloc.exclusive = false;
    usage.applyAllocation(alloc, 1);
    running.push(alloc);
  }
  const queue: ResourceRequest[] = [];
  for (let j = 1, want = int(0, 25); queue.length < want && j < 200; j++) {
    const q = request(j);
    try {
      validateRequest(spec, q);
      queue.push(q);
    } catch {
      // not a request the API would accept
    }
  }
  queue.sort(compareRequestPriority);
  return { spec, nodeStates, running, queue: queue.map((q) => ({ id: `sim-${q.jobId}`, request: q })), now: NOW };
}

const comparable = (x: Omit<SchedulerResult, 'examined'>) => ({ placements: x.placements, pending: [...x.pending], reservations: x.reservations });

t.test('an unbounded pass, and a pass within the default bounds, give the reference results', async (t) => {
  let mismatches = 0;
  const seen = { placed: 0, backfilled: 0, priority: 0, reserved: 0 };
  for (let seed = 1; seed <= 1500; seed++) {
    const input = scenario(seed);
    const want = comparable(referenceSchedule(input));
    const unbounded = comparable(schedule(input, { queueDepth: Infinity, backfillMaxJobTest: Infinity }));
    const bounded = comparable(schedule(input));
    if (JSON.stringify(unbounded) !== JSON.stringify(want) || JSON.stringify(bounded) !== JSON.stringify(want)) {
      if (++mismatches <= 3) t.same(unbounded, want, `seed ${seed}`);
    }
    seen.placed += want.placements.length;
    seen.backfilled += want.placements.filter((p) => p.backfilled).length;
    seen.priority += want.pending.filter(([, reason]) => reason === 'Priority').length;
    seen.reserved += want.reservations.length;
  }
  t.equal(mismatches, 0, 'no scenario differs');
  // The scenarios must reach every rule, or the comparison says little.
  t.ok(seen.placed > 500 && seen.backfilled > 100 && seen.priority > 50 && seen.reserved > 500, JSON.stringify(seen));
});
