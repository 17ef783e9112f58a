import t from 'tap';
import type { ResourceRequest } from '../../src/backends/resource-backend.js';
import { defaultClusterSpec, type SimulatedClusterSpec } from '../../src/backends/simulator/cluster-spec.js';
import type { NodeAdminState, RunningAllocation } from '../../src/backends/simulator/placement.js';
import {
  compareRequestPriority,
  schedule,
  validateRequest,
  type QueuedRequest,
  type SchedulerResult,
} from '../../src/backends/simulator/scheduler.js';
import { GrmError } from '../../src/errors.js';
import { simRequest } from '../helpers/sim-request.js';

const NOW = 1_700_000_000_000;
const MIN = 60_000;

const req = (jobId: number, over: Partial<ResourceRequest> = {}): ResourceRequest => simRequest(jobId, NOW - 1000 + jobId, over);

function run(
  queue: ResourceRequest[],
  opts: { spec?: SimulatedClusterSpec; running?: RunningAllocation[]; states?: [string, NodeAdminState][] } = {},
): SchedulerResult {
  const q: QueuedRequest[] = [...queue].sort(compareRequestPriority).map((r) => ({ id: `sim-${r.jobId}`, request: r }));
  return schedule({
    spec: opts.spec ?? defaultClusterSpec(),
    nodeStates: new Map(opts.states ?? []),
    running: opts.running ?? [],
    queue: q,
    now: NOW,
  });
}

const placed = (r: SchedulerResult, jobId: number) => r.placements.find((p) => p.jobId === jobId);

/** node01..nodeNN fully busy (whole-node exclusive allocation) until endTime. */
function busy(names: string[], endTime: number | null, id = 'sim-900'): RunningAllocation {
  return { id, exclusive: true, endTime, nodes: names.map((name) => ({ name, cpus: 4, memoryMiB: 16384, gpus: 0 })) };
}
const nodeNames = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `node${String(from + i).padStart(2, '0')}`);

function oneNodeSpec(): SimulatedClusterSpec {
  return {
    nodes: [{ name: 'n1', cpus: 4, memoryMiB: 16384, gpus: 0 }],
    partitions: [{ name: 'batch', nodes: ['n1'], default: true, maxTimeMinutes: null }],
  };
}

t.test('FIFO: the earliest submitted job starts first; nice then jobId break ties', async (t) => {
  const whole = { tasks: 4 };
  const r = run([req(3, { ...whole, submitTime: NOW - 10 }), req(1, { ...whole, submitTime: NOW - 30 }), req(2, { ...whole, submitTime: NOW - 20 })], {
    spec: oneNodeSpec(),
  });
  t.same(r.placements.map((p) => p.jobId), [1]);
  t.equal(r.pending.get('sim-2'), 'Resources');
  t.equal(r.pending.get('sim-3'), 'Resources');

  const tie = [req(5, { submitTime: NOW, nice: 10 }), req(7, { submitTime: NOW, nice: 0 }), req(6, { submitTime: NOW, nice: 0 })];
  t.same([...tie].sort(compareRequestPriority).map((x) => x.jobId), [6, 7, 5]);
});

t.test('shared jobs pack on one node; exclusive jobs take whole idle nodes', async (t) => {
  const shared = run([req(1, { tasks: 2 }), req(2, { tasks: 2 })]);
  t.same(shared.placements.map((p) => p.nodes), [
    [{ name: 'node01', cpus: 2, memoryMiB: 8192, gpus: 0 }],
    [{ name: 'node01', cpus: 2, memoryMiB: 8192, gpus: 0 }],
  ]);

  const excl = run([req(1, { exclusive: true }), req(2, { exclusive: true })]);
  t.same(excl.placements.map((p) => p.nodes), [
    [{ name: 'node01', cpus: 4, memoryMiB: 16384, gpus: 0 }],
    [{ name: 'node02', cpus: 4, memoryMiB: 16384, gpus: 0 }],
  ]);

  const afterShared = run([req(3, { exclusive: true })], {
    running: [{ id: 'sim-1', exclusive: false, endTime: null, nodes: [{ name: 'node01', cpus: 1, memoryMiB: 4096, gpus: 0 }] }],
  });
  t.equal(placed(afterShared, 3)?.nodes[0]?.name, 'node02', 'an exclusive job skips a partly used node');
});

t.test('multi-node: block distribution, fewest nodes, tasks per node', async (t) => {
  const r = run([req(1, { tasks: 6, minNodes: 2, maxNodes: 2 })]);
  t.same(placed(r, 1)?.tasksPerNode, [4, 2], '-n 6 -N 2 on 4-CPU nodes → 4+2 (block)');
  t.same(placed(r, 1)?.nodes.map((n) => [n.name, n.cpus]), [['node01', 4], ['node02', 2]]);

  const range = run([req(1, { tasks: 6, minNodes: 1, maxNodes: 4 })]);
  t.equal(placed(range, 1)?.nodes.length, 2, '-N 1-4 uses the fewest nodes that hold the tasks');

  const spread = run([req(1, { tasks: 3, minNodes: 3, maxNodes: 3, cpusPerTask: 2 })]);
  t.same(placed(spread, 1)?.nodes.map((n) => n.cpus), [2, 2, 2], '-N 3 spreads at least one task per node');

  const tpn = run([req(1, { tasks: 6, tasksPerNode: 2, minNodes: 1, maxNodes: 8 })]);
  t.same(placed(tpn, 1)?.tasksPerNode, [2, 2, 2]);

  const around = run([req(1, { tasks: 8, minNodes: 2, maxNodes: 2 })], {
    running: [{ id: 'sim-9', exclusive: false, endTime: null, nodes: [{ name: 'node01', cpus: 3, memoryMiB: 1, gpus: 0 }] }],
  });
  t.same(placed(around, 1)?.nodes.map((n) => n.name), ['node02', 'node03'], 'skips a node that cannot hold its share');
});

t.test('GPU jobs go only to GPU nodes of the right type', async (t) => {
  const spec: SimulatedClusterSpec = {
    nodes: [
      { name: 'cpu1', cpus: 8, memoryMiB: 32768, gpus: 0 },
      { name: 'gpu1', cpus: 8, memoryMiB: 32768, gpus: 2, gpuType: 'v100' },
      { name: 'gpu2', cpus: 8, memoryMiB: 32768, gpus: 4, gpuType: 'a100' },
    ],
    partitions: [{ name: 'batch', nodes: ['cpu1', 'gpu1', 'gpu2'], default: true, maxTimeMinutes: null }],
  };
  const r = run([req(1, { gpusPerNode: 2 }), req(2, { gpusPerNode: 4 }), req(3, { gpusPerNode: 1, gpuType: 'v100' })], { spec });
  t.same(placed(r, 1)?.nodes, [{ name: 'gpu1', cpus: 1, memoryMiB: 4096, gpus: 2, gpuType: 'v100' }]);
  t.same(placed(r, 2)?.nodes.map((n) => [n.name, n.gpus, n.gpuType]), [['gpu2', 4, 'a100']]);
  t.equal(r.pending.get('sim-3'), 'Resources', 'no free v100 left; cpu1 is no substitute');
});

t.test('memory limits placement; default is node memory / CPUs per CPU', async (t) => {
  const r = run([req(1, { memoryPerNodeMiB: 12000 }), req(2, { memoryPerNodeMiB: 12000 }), req(3, { memoryPerCpuMiB: 2000, tasks: 2 })]);
  t.equal(placed(r, 1)?.nodes[0]?.name, 'node01');
  t.equal(placed(r, 2)?.nodes[0]?.name, 'node02', '12000 + 12000 MiB do not fit on one 16 GiB node');
  t.same(placed(r, 3)?.nodes, [{ name: 'node01', cpus: 2, memoryMiB: 4000, gpus: 0 }], '4384 MiB left on node01 hold 2 × 2000');

  const full = run([req(4, { memoryPerNodeMiB: 16384 })], {
    running: nodeNames(1, 8).map((name, i) => ({ id: `sim-${50 + i}`, exclusive: false, endTime: null, nodes: [{ name, cpus: 1, memoryMiB: 1, gpus: 0 }] })),
  });
  t.equal(full.pending.get('sim-4'), 'Resources', 'CPUs are free everywhere but no node has 16 GiB free');
});

t.test('pending reasons: Resources for the blocked head, Priority for a job held back by it', async (t) => {
  const r = run([req(1, { tasks: 32, minNodes: 8, maxNodes: 8 }), req(2, { tasks: 4 }), req(3, { tasks: 4, timeLimitMinutes: 120 })], {
    running: [busy(nodeNames(1, 7), NOW + 60 * MIN)],
  });
  t.same(r.placements, []);
  t.equal(r.pending.get('sim-1'), 'Resources', 'needs all eight nodes, one is free');
  t.equal(r.pending.get('sim-2'), 'Priority', 'fits node08 now but has no time limit');
  t.equal(r.pending.get('sim-3'), 'Priority', 'fits node08 now but would end after the head starts');
  t.same(r.reservations, [{ id: 'sim-1', partition: 'batch', startTime: NOW + 60 * MIN }]);
});

t.test('EASY backfill: a short job runs ahead without delaying the head', async (t) => {
  const r = run([req(1, { tasks: 32, minNodes: 8, maxNodes: 8 }), req(2, { tasks: 4, timeLimitMinutes: 30 }), req(3, { tasks: 1, timeLimitMinutes: 30 })], {
    running: [busy(nodeNames(1, 7), NOW + 60 * MIN)],
  });
  t.same(placed(r, 2)?.nodes.map((n) => n.name), ['node08']);
  t.equal(placed(r, 2)?.backfilled, true);
  t.equal(placed(r, 2)?.endTime, NOW + 30 * MIN);
  t.equal(r.pending.get('sim-1'), 'Resources');
  t.equal(r.pending.get('sim-3'), 'Resources', 'nothing free is left');
});

t.test('EASY backfill: an unlimited job may take nodes the head does not need, never otherwise', async (t) => {
  const extra = run([req(1, { tasks: 12, minNodes: 3, maxNodes: 3 }), req(2, { tasks: 4 })], {
    running: [busy(nodeNames(1, 6), NOW + 60 * MIN)],
  });
  t.equal(placed(extra, 2)?.nodes[0]?.name, 'node07', 'the head still gets 3 nodes at +60 min');

  const unknown = run([req(1, { tasks: 12, minNodes: 3, maxNodes: 3 }), req(2, { tasks: 4 }), req(3, { tasks: 4, timeLimitMinutes: 5 })], {
    running: [busy(nodeNames(1, 6), null)],
  });
  t.same(unknown.reservations, [{ id: 'sim-1', partition: 'batch', startTime: null }]);
  t.equal(unknown.pending.get('sim-2'), 'Priority', 'head start unknown: an unlimited job cannot backfill');
  t.equal(placed(unknown, 3)?.nodes[0]?.name, 'node07', 'a job with a time limit can');
});

t.test('partition limits, DOWN partitions and out-of-service nodes', async (t) => {
  const spec = defaultClusterSpec();
  spec.partitions[0]!.maxTimeMinutes = 60;
  spec.partitions.push({ name: 'maint', nodes: ['node08'], maxTimeMinutes: null, state: 'DOWN' });
  const r = run(
    [req(1, { timeLimitMinutes: 61 }), req(2, { minNodes: 9, maxNodes: 9, tasks: 9 }), req(3, { partition: 'maint' }), req(4, { tasks: 6, minNodes: 6, maxNodes: 6, exclusive: true })],
    { spec, states: [['node01', 'down'], ['node02', 'drained']] },
  );
  t.equal(r.pending.get('sim-1'), 'PartitionTimeLimit');
  t.equal(r.pending.get('sim-2'), 'PartitionNodeLimit');
  t.equal(r.pending.get('sim-3'), 'PartitionDown');
  t.same(placed(r, 4)?.nodes.map((n) => n.name), nodeNames(3, 8), 'down and drained nodes are skipped');
  t.equal(placed(r, 4)?.endTime, NOW + 60 * MIN, 'no --time: the partition limit applies');
});

t.test('validateRequest refuses what the cluster can never run, with sbatch wording', async (t) => {
  const spec = defaultClusterSpec();
  spec.partitions[0]!.maxTimeMinutes = 1440;
  const fails = (over: Partial<ResourceRequest>, code: string, message: RegExp) => {
    t.throws(() => validateRequest(spec, req(1, over)), { code, message }, JSON.stringify(over));
    try {
      validateRequest(spec, req(1, over));
    } catch (e) {
      t.type(e, GrmError);
    }
  };
  fails({ partition: 'gpu' }, 'E_PARTITION_UNKNOWN', /^invalid partition specified: gpu$/);
  fails({ minNodes: 9, maxNodes: 9, tasks: 9 }, 'E_NODE_CONFIG_UNAVAILABLE', /^Requested node configuration is not available: partition batch has 8 nodes, the job asks for at least 9$/);
  fails({ cpusPerTask: 8 }, 'E_NODE_CONFIG_UNAVAILABLE', /^Requested node configuration is not available: 8 CPUs per task requested, the largest node of partition batch has 4 CPUs$/);
  fails({ memoryPerNodeMiB: 32768 }, 'E_NODE_CONFIG_UNAVAILABLE', /32768 MiB of memory per node requested, the largest node of partition batch has 16384 MiB$/);
  fails({ gpusPerNode: 1 }, 'E_NODE_CONFIG_UNAVAILABLE', /1 GPU per node requested, partition batch has no GPUs$/);
  fails({ timeLimitMinutes: 1441 }, 'E_NODE_CONFIG_UNAVAILABLE', /^Requested time limit is invalid \(missing or exceeds some limit\): 1441 minutes exceeds the MaxTime of partition batch \(1440 minutes\)$/);
  fails({ tasks: 40, minNodes: 1, maxNodes: 8 }, 'E_NODE_CONFIG_UNAVAILABLE', /40 tasks of 1 CPU each do not fit on at most 8 nodes of partition batch: a node takes at most 4 of them$/);
  fails({ tasks: 1, minNodes: 2, maxNodes: 2 }, 'E_REQUEST_INVALID', /can't run 1 processes on 2 nodes/);
  t.doesNotThrow(() => validateRequest(spec, req(1, { partition: '', tasks: 32, minNodes: 8, maxNodes: 8, timeLimitMinutes: 1440 })));

  const mixed: SimulatedClusterSpec = {
    nodes: [
      { name: 'big', cpus: 4, memoryMiB: 65536, gpus: 0 },
      { name: 'gpu', cpus: 4, memoryMiB: 8192, gpus: 2 },
    ],
    partitions: [{ name: 'all', nodes: ['big', 'gpu'], maxTimeMinutes: null }],
  };
  t.throws(() => validateRequest(mixed, req(1, { partition: 'all', gpusPerNode: 1, memoryPerNodeMiB: 32768 })), {
    code: 'E_NODE_CONFIG_UNAVAILABLE',
    message: 'Requested node configuration is not available: no node of partition all has 1 CPU, 32768 MiB and 1 GPU at once',
  });
});
