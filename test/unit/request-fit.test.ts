/**
 * The shared submit-time check (src/backends/request-fit.ts): what it refuses, with which
 * code, field and words; that it agrees with the simulator's scheduler on an empty cluster;
 * and that the simulator's per-shape cache (RequestValidator) never changes an answer.
 */
import fc from 'fast-check';
import t, { type Test } from 'tap';
import {
  exceedsMaxTime,
  requestFitError,
  requestHardwareError,
  requestLimitsError,
  type FitNode,
  type FitPartition,
} from '../../src/backends/request-fit.js';
import type { ResourceRequest } from '../../src/backends/resource-backend.js';
import type { SimulatedClusterSpec } from '../../src/backends/simulator/cluster-spec.js';
import { schedule } from '../../src/backends/simulator/scheduler.js';
import { RequestValidator, simulatedFitPartition, validateRequest } from '../../src/backends/simulator/validate-request.js';
import { GrmError } from '../../src/errors.js';
import type { JobDescription } from '../../src/jobs/job-types.js';
import { simRequest } from '../helpers/sim-request.js';

const NOW = 1_700_000_000_000;
const NODE_CONFIG = 'Requested node configuration is not available: ';
const FIELDS = [
  'partition',
  'minimum_nodes',
  'maximum_nodes',
  'tasks',
  'tasks_per_node',
  'cpus_per_task',
  'memory_per_node',
  'memory_per_cpu',
  'tres_per_node',
  'time_limit',
] as const satisfies readonly (keyof JobDescription)[];

const req = (over: Partial<ResourceRequest> = {}): ResourceRequest => simRequest(1, NOW, over);

const node = (name: string, cpus: number, memoryMiB: number, gpus = 0, gpuType?: string): FitNode =>
  gpuType === undefined ? { name, cpus, memoryMiB, gpus } : { name, cpus, memoryMiB, gpus, gpuType };

/** batch: 4 nodes of 4 CPUs and 16 GiB, MaxTime 1 day, no MaxNodes. */
function partition(over: Partial<FitPartition> = {}): FitPartition {
  const nodes = [1, 2, 3, 4].map((i) => node(`n${i}`, 4, 16384));
  return { name: 'batch', nodes, maxTimeMinutes: 1440, maxNodesPerJob: null, totalNodes: nodes.length, ...over };
}

/** Asserts the check's answer: code, field and whole message. */
function refuses(t: Test, p: FitPartition | undefined, over: Partial<ResourceRequest>, code: string, field: string, message: string): void {
  const err = requestFitError(p, req(over));
  t.type(err, GrmError, JSON.stringify(over));
  t.match(err, { code, field, message }, JSON.stringify(over));
  t.equal(err?.message, message);
}

t.test('an unknown partition: E_PARTITION_UNKNOWN in sbatch words', async (t) => {
  refuses(t, undefined, { partition: 'gpu' }, 'E_PARTITION_UNKNOWN', 'partition', 'invalid partition specified: gpu');
  refuses(t, undefined, { partition: '' }, 'E_PARTITION_UNKNOWN', 'partition', 'no partition specified and the cluster has no default partition');
  refuses(t, undefined, { partition: 'gpu', tasks: 0 }, 'E_PARTITION_UNKNOWN', 'partition', 'invalid partition specified: gpu');
});

t.test('a malformed request: E_REQUEST_INVALID naming the slurmrestd field', async (t) => {
  const p = partition();
  const cases: [Partial<ResourceRequest>, string, RegExp][] = [
    [{ minNodes: 0 }, 'minimum_nodes', /^minimum node count must be an integer >= 1, got 0$/],
    [{ minNodes: 1.5, maxNodes: 2, tasks: 2 }, 'minimum_nodes', /got 1.5$/],
    [{ minNodes: 2, maxNodes: 1, tasks: 2 }, 'maximum_nodes', /^maximum node count \(1\) must be an integer >= the minimum \(2\)$/],
    [{ maxNodes: Infinity }, 'maximum_nodes', /maximum node count/],
    [{ tasks: 0 }, 'tasks', /^task count must be an integer >= 1, got 0$/],
    [{ tasksPerNode: 0 }, 'tasks_per_node', /^tasks per node must be an integer >= 1, got 0$/],
    [{ cpusPerTask: 0 }, 'cpus_per_task', /^CPUs per task must be an integer >= 1, got 0$/],
    [{ cpusPerTask: Number.NaN }, 'cpus_per_task', /got NaN$/],
    [{ gpusPerNode: -1 }, 'tres_per_node', /^GPUs per node must be an integer >= 0, got -1$/],
    [{ memoryPerNodeMiB: -1 }, 'memory_per_node', /^memory per node must be an integer number of MiB >= 0, got -1$/],
    [{ memoryPerCpuMiB: 0.5 }, 'memory_per_cpu', /^memory per CPU must be an integer number of MiB >= 0, got 0.5$/],
    [{ memoryPerNodeMiB: 1024, memoryPerCpuMiB: 512 }, 'memory_per_cpu', /^memory_per_node and memory_per_cpu are mutually exclusive/],
    [{ timeLimitMinutes: 1.5 }, 'time_limit', /^time limit must be a whole number of minutes, got 1.5$/],
    [{ timeLimitMinutes: -5 }, 'time_limit', /got -5$/],
    [{ tasks: 1, minNodes: 2, maxNodes: 2 }, 'tasks', /^can't run 1 processes on 2 nodes: ask for fewer nodes or more tasks$/],
  ];
  for (const [over, field, message] of cases) {
    t.match(requestFitError(p, req(over)), { code: 'E_REQUEST_INVALID', field, message }, JSON.stringify(over));
  }
  t.equal(requestFitError(p, req({ memoryPerNodeMiB: 0, memoryPerCpuMiB: 512 })), undefined, '0 MiB per node is "not given"');
});

t.test("the partition's limits: MaxTime, node count, MaxNodes", async (t) => {
  const p = partition();
  refuses(t, p, { timeLimitMinutes: 1441 }, 'E_NODE_CONFIG_UNAVAILABLE', 'time_limit',
    'Requested time limit is invalid (missing or exceeds some limit): 1441 minutes exceeds the MaxTime of partition batch (1440 minutes)');
  for (const limit of [1440, 1, 0, null]) t.equal(requestFitError(p, req({ timeLimitMinutes: limit })), undefined, `time limit ${limit}`);
  t.equal(requestFitError(partition({ maxTimeMinutes: null }), req({ timeLimitMinutes: 10_000_000 })), undefined, 'MaxTime=UNLIMITED');
  t.equal(exceedsMaxTime(61, 60), true);
  t.equal(exceedsMaxTime(0, 60), false, '0 = not given');

  refuses(t, p, { minNodes: 5, maxNodes: 5, tasks: 5 }, 'E_NODE_CONFIG_UNAVAILABLE', 'minimum_nodes', `${NODE_CONFIG}partition batch has 4 nodes, the job asks for at least 5`);
  refuses(t, partition({ totalNodes: 1, nodes: [node('n1', 4, 16384)] }), { minNodes: 2, maxNodes: 2, tasks: 2 }, 'E_NODE_CONFIG_UNAVAILABLE', 'minimum_nodes',
    `${NODE_CONFIG}partition batch has 1 node, the job asks for at least 2`);
  refuses(t, partition({ maxNodesPerJob: 2 }), { minNodes: 3, maxNodes: 3, tasks: 3 }, 'E_NODE_CONFIG_UNAVAILABLE', 'minimum_nodes',
    `${NODE_CONFIG}partition batch allows at most 2 nodes per job (MaxNodes), the job asks for at least 3`);
  t.equal(requestFitError(partition({ maxNodesPerJob: 2 }), req({ minNodes: 2, maxNodes: 4, tasks: 8 })), undefined, 'a range is cut to MaxNodes');
  refuses(t, partition({ maxNodesPerJob: 1 }), { minNodes: 1, maxNodes: 4, tasks: 8 }, 'E_NODE_CONFIG_UNAVAILABLE', 'tasks',
    `${NODE_CONFIG}8 tasks of 1 CPU each do not fit on 1 node of partition batch: a node takes at most 4 of them`);
});

t.test('the order of the checks: partition, shape, time, node count, hardware', async (t) => {
  const p = partition();
  t.match(requestFitError(p, req({ tasks: 0, timeLimitMinutes: 9999 })), { code: 'E_REQUEST_INVALID' });
  t.match(requestFitError(p, req({ timeLimitMinutes: 9999, minNodes: 9, maxNodes: 9, tasks: 9 })), { field: 'time_limit' });
  t.match(requestFitError(p, req({ minNodes: 9, maxNodes: 9, tasks: 9, cpusPerTask: 64 })), { field: 'minimum_nodes' });
  t.equal(requestLimitsError(p, req({ cpusPerTask: 64 })), undefined, 'the limits half reads no hardware');
  t.match(requestHardwareError(p, req({ cpusPerTask: 64 })), { field: 'cpus_per_task' });
  t.equal(requestHardwareError(p, req({ timeLimitMinutes: 9999 })), undefined, 'the hardware half reads no time limit');
});

t.test('one need alone beyond the largest node', async (t) => {
  const p = partition({ nodes: [node('n1', 4, 16384), node('g1', 8, 8192, 2, 'a100'), node('g2', 2, 4096, 4, 'v100')], totalNodes: 3 });
  refuses(t, p, { cpusPerTask: 16 }, 'E_NODE_CONFIG_UNAVAILABLE', 'cpus_per_task', `${NODE_CONFIG}16 CPUs per task requested, the largest node of partition batch has 8 CPUs`);
  refuses(t, p, { tasks: 3, tasksPerNode: 3, cpusPerTask: 3 }, 'E_NODE_CONFIG_UNAVAILABLE', 'tasks_per_node',
    `${NODE_CONFIG}3 tasks per node × 3 CPUs per task requested, the largest node of partition batch has 8 CPUs`);
  refuses(t, p, { gpusPerNode: 5 }, 'E_NODE_CONFIG_UNAVAILABLE', 'tres_per_node', `${NODE_CONFIG}5 GPUs per node requested, no node of partition batch has more than 4`);
  refuses(t, p, { gpusPerNode: 3, gpuType: 'a100' }, 'E_NODE_CONFIG_UNAVAILABLE', 'tres_per_node', `${NODE_CONFIG}3 a100 GPUs per node requested, no node of partition batch has more than 2`);
  refuses(t, p, { gpusPerNode: 1, gpuType: 'h100' }, 'E_NODE_CONFIG_UNAVAILABLE', 'tres_per_node', `${NODE_CONFIG}1 h100 GPU per node requested, partition batch has no h100 GPUs`);
  refuses(t, p, { memoryPerNodeMiB: 16385 }, 'E_NODE_CONFIG_UNAVAILABLE', 'memory_per_node', `${NODE_CONFIG}16385 MiB of memory per node requested, the largest node of partition batch has 16384 MiB`);
  refuses(t, p, { tasks: 2, tasksPerNode: 2, cpusPerTask: 2, memoryPerCpuMiB: 5000 }, 'E_NODE_CONFIG_UNAVAILABLE', 'memory_per_cpu',
    `${NODE_CONFIG}20000 MiB of memory per node requested (5000 MiB per CPU × 4 CPUs), the largest node of partition batch has 16384 MiB`);
  t.equal(requestFitError(p, req({ gpusPerNode: 0, gpuType: 'h100' })), undefined, 'a GPU type without GPUs asks for nothing');
  t.equal(requestFitError(p, req({ gpusPerNode: 4 })), undefined, 'an untyped GPU request takes any type');
});

t.test('all needs at once, then the tasks over the nodes', async (t) => {
  const p = partition({ nodes: [node('big', 4, 65536), node('gpu', 4, 8192, 2, 'a100'), node('small', 2, 2048)], totalNodes: 3 });
  refuses(t, p, { gpusPerNode: 1, memoryPerNodeMiB: 32768 }, 'E_NODE_CONFIG_UNAVAILABLE', 'partition',
    `${NODE_CONFIG}no node of partition batch has 1 CPU, 32768 MiB and 1 GPU at once`);
  refuses(t, p, { cpusPerTask: 4, gpusPerNode: 1, gpuType: 'a100', memoryPerCpuMiB: 4096 }, 'E_NODE_CONFIG_UNAVAILABLE', 'partition',
    `${NODE_CONFIG}no node of partition batch has 4 CPUs, 16384 MiB and 1 a100 GPU at once`);
  refuses(t, p, { minNodes: 2, maxNodes: 2, tasks: 2, gpusPerNode: 1 }, 'E_NODE_CONFIG_UNAVAILABLE', 'minimum_nodes',
    `${NODE_CONFIG}the job asks for at least 2 nodes, only 1 of partition batch can run its tasks`);
  refuses(t, p, { tasks: 11, minNodes: 1, maxNodes: 3 }, 'E_NODE_CONFIG_UNAVAILABLE', 'tasks',
    `${NODE_CONFIG}11 tasks of 1 CPU each do not fit on at most 3 nodes of partition batch: a node takes at most 4 of them`);
  t.equal(requestFitError(p, req({ tasks: 10, minNodes: 1, maxNodes: 3 })), undefined, '4 + 4 + 2 tasks');
  refuses(t, p, { tasks: 5, minNodes: 2, maxNodes: 2, cpusPerTask: 2 }, 'E_NODE_CONFIG_UNAVAILABLE', 'tasks',
    `${NODE_CONFIG}5 tasks of 2 CPUs each do not fit on 2 nodes of partition batch: a node takes at most 2 of them`);
  t.equal(requestFitError(p, req({ tasks: 3, tasksPerNode: 1, minNodes: 1, maxNodes: 3 })), undefined, 'one task on each node');
  t.match(requestFitError(p, req({ tasks: 4, tasksPerNode: 2, minNodes: 1, maxNodes: 3, memoryPerNodeMiB: 4096 })), undefined);
  t.equal(requestFitError(p, req({ exclusive: true, memoryPerNodeMiB: 0 })), undefined, 'exclusive, all of a node');
});

t.test('nodes the backend cannot describe', async (t) => {
  const none = partition({ nodes: [], totalNodes: 4 });
  t.equal(requestFitError(none, req({ cpusPerTask: 64, minNodes: 4, maxNodes: 4, tasks: 4 })), undefined, 'no nodes described: hardware left to the backend');
  t.match(requestFitError(none, req({ minNodes: 5, maxNodes: 5, tasks: 5 })), { field: 'minimum_nodes' }, 'the node count still counts');
  const unregistered = partition({ nodes: [node('n1', 0, 0), node('n2', 2, 2000)], totalNodes: 2 });
  t.match(requestFitError(unregistered, req({ minNodes: 2, maxNodes: 2, tasks: 2 })), { field: 'minimum_nodes' }, 'a node without CPUs takes nothing');
  t.equal(requestFitError(unregistered, req({ tasks: 2 })), undefined);
});

t.test('the simulator: empty partition name = default; the cache re-checks the time limit', async (t) => {
  const spec: SimulatedClusterSpec = {
    nodes: [node('a', 4, 8192), node('b', 8, 32768)],
    partitions: [
      { name: 'small', nodes: ['a'], maxTimeMinutes: 60 },
      { name: 'all', nodes: ['a', 'b'], default: true, maxTimeMinutes: null },
    ],
  };
  t.same(simulatedFitPartition(spec, spec.partitions[0]!), { name: 'small', nodes: [spec.nodes[0]], maxTimeMinutes: 60, maxNodesPerJob: null, totalNodes: 1 });
  t.doesNotThrow(() => validateRequest(spec, req({ partition: '', cpusPerTask: 8 })));
  t.throws(() => validateRequest(spec, req({ partition: 'small', cpusPerTask: 8 })), { code: 'E_NODE_CONFIG_UNAVAILABLE', field: 'cpus_per_task' });
  const v = new RequestValidator(spec);
  t.doesNotThrow(() => v.check(req({ partition: 'small', timeLimitMinutes: 60 })));
  t.throws(() => v.check(req({ partition: 'small', timeLimitMinutes: 61 })), { code: 'E_NODE_CONFIG_UNAVAILABLE', field: 'time_limit' }, 'a cached shape still meets MaxTime');
  t.throws(() => v.check(req({ partition: 'nope' })), { code: 'E_PARTITION_UNKNOWN' });
  t.throws(() => v.check(req({ partition: 'small', cpusPerTask: 8 })), { code: 'E_NODE_CONFIG_UNAVAILABLE', field: 'cpus_per_task' });
  t.throws(() => v.check(req({ partition: 'small', cpusPerTask: 8 })), { code: 'E_NODE_CONFIG_UNAVAILABLE', field: 'cpus_per_task' }, 'a refused shape is refused again');
});

// ------------------------------------------------------------------ properties

const nodeArb = fc
  .record({
    cpus: fc.constantFrom(1, 2, 4, 8),
    memoryMiB: fc.constantFrom(1000, 2000, 4096, 16384),
    gpus: fc.constantFrom(0, 0, 1, 2, 4),
    gpuType: fc.constantFrom(undefined, 'a100', 'v100'),
  })
  .map(({ gpus, gpuType, ...hw }) => (gpus > 0 && gpuType ? { ...hw, gpus, gpuType } : { ...hw, gpus }));

/** A cluster of 1-6 nodes; partition batch (default) over some of them, in some order. */
const specArb = fc
  .tuple(fc.array(nodeArb, { minLength: 1, maxLength: 6 }), fc.constantFrom(null, null, 60, 1440), fc.boolean())
  .chain(([hw, maxTimeMinutes, all]) => {
    const nodes = hw.map((n, i) => ({ name: `n${i + 1}`, ...n }));
    const names = nodes.map((n) => n.name);
    const members = all ? fc.constant(names) : fc.shuffledSubarray(names, { minLength: 1 });
    return members.map(
      (m): SimulatedClusterSpec => ({ nodes, partitions: [{ name: 'batch', nodes: m, default: true, maxTimeMinutes, state: 'UP' }] }),
    );
  });

/** A well-formed request (the API refuses any other before a backend sees it), fitting about half the time. */
const requestArb = fc
  .record({
    partition: fc.constantFrom('batch', 'batch', 'batch', 'batch', 'batch', 'batch', 'batch', 'batch', '', 'nope'),
    minNodes: fc.constantFrom(1, 1, 1, 1, 1, 2, 3),
    extraNodes: fc.constantFrom(0, 0, 1, 3, 6),
    extraTasks: fc.constantFrom(0, 0, 0, 1, 2, 3, 5, 8, 14),
    tasksPerNode: fc.constantFrom(undefined, undefined, undefined, 1, 2, 4),
    cpusPerTask: fc.constantFrom(1, 1, 1, 2, 3, 4, 8),
    memory: fc.oneof(
      { arbitrary: fc.constant({}), weight: 3 },
      fc.constantFrom(0, 500, 1000, 2000, 4096, 16384, 20000).map((m) => ({ memoryPerNodeMiB: m })),
      fc.constantFrom(250, 500, 1000, 4096).map((m) => ({ memoryPerCpuMiB: m })),
    ),
    gpusPerNode: fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 5),
    gpuType: fc.constantFrom(undefined, undefined, 'a100', 'v100'),
    exclusive: fc.boolean(),
    timeLimitMinutes: fc.constantFrom(null, 0, 30, 60, 61, 2000),
  })
  .map(({ minNodes, extraNodes, extraTasks, tasksPerNode, memory, gpuType, ...r }) =>
    req({
      ...r,
      minNodes,
      maxNodes: minNodes + extraNodes,
      tasks: minNodes + extraTasks,
      ...(tasksPerNode !== undefined ? { tasksPerNode } : {}),
      ...memory,
      ...(gpuType !== undefined ? { gpuType } : {}),
    }),
  );

const placedOnEmpty = (spec: SimulatedClusterSpec, r: ResourceRequest): boolean =>
  schedule({ spec, nodeStates: new Map(), running: [], queue: [{ id: 'sim-1', request: r }], now: NOW }).placements.length === 1;

const verdict = (f: () => void): string => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return e instanceof GrmError ? `${e.code} ${e.field} ${e.message}` : `not a GrmError: ${String(e)}`;
  }
};

t.test('property: the check passes exactly when the scheduler places the request on an empty cluster', async (t) => {
  const seen = new Map<string, number>();
  fc.assert(
    fc.property(specArb, requestArb, (spec, r) => {
      const answer = verdict(() => validateRequest(spec, r));
      const key = answer === 'ok' ? 'ok' : answer.split(' ').slice(0, 2).join(' ');
      seen.set(key, (seen.get(key) ?? 0) + 1);
      return (answer === 'ok') === placedOnEmpty(spec, r);
    }),
    { numRuns: 3000 },
  );
  t.ok((seen.get('ok') ?? 0) > 450, `enough requests fit (${seen.get('ok')} of 3000)`);
  const fields = ['time_limit', 'minimum_nodes', 'cpus_per_task', 'tasks_per_node', 'tres_per_node', 'memory_per_node', 'memory_per_cpu', 'partition', 'tasks'];
  for (const key of ['E_PARTITION_UNKNOWN partition', ...fields.map((f) => `E_NODE_CONFIG_UNAVAILABLE ${f}`)]) {
    t.ok(seen.has(key), `refusals ${key} were exercised`);
  }
});

t.test('property: every refusal is a GrmError with a stable code, a JobDescription field and sbatch words', async (t) => {
  const loose = fc.oneof(fc.integer({ min: -2, max: 12 }), fc.double(), fc.constant(Infinity));
  const malformed = fc
    .record({ minNodes: loose, maxNodes: loose, tasks: loose, cpusPerTask: loose, gpusPerNode: loose, memoryPerNodeMiB: loose, timeLimitMinutes: fc.oneof(loose, fc.constant(null)) })
    .map((over) => req(over));
  fc.assert(
    fc.property(specArb, fc.oneof(requestArb, malformed), (spec, r) => {
      const err = requestFitError(spec.partitions[0] && simulatedFitPartition(spec, spec.partitions[0]), r);
      if (err === undefined) return true;
      const words =
        err.code === 'E_NODE_CONFIG_UNAVAILABLE'
          ? err.message.startsWith(NODE_CONFIG) || err.message.startsWith('Requested time limit is invalid (missing or exceeds some limit): ')
          : err.code === 'E_PARTITION_UNKNOWN' || err.code === 'E_REQUEST_INVALID';
      return err instanceof GrmError && words && (FIELDS as readonly string[]).includes(err.field ?? '');
    }),
    { numRuns: 2000 },
  );
  t.pass('no exception, every error well formed');
});

t.test('property: the per-shape cache answers as the uncached check, in any order', async (t) => {
  fc.assert(
    fc.property(specArb, fc.array(requestArb, { minLength: 1, maxLength: 30 }), (spec, requests) => {
      const v = new RequestValidator(spec);
      // Repeat the shapes with other time limits: the cache must not skip the time check.
      const again = requests.map((r) => ({ ...r, timeLimitMinutes: r.timeLimitMinutes === null ? 2000 : null }));
      return [...requests, ...again, ...requests].every((r) => verdict(() => v.check(r)) === verdict(() => validateRequest(spec, r)));
    }),
    { numRuns: 500 },
  );
  t.pass();
});

t.test('property: node order does not matter, and another node never turns a pass into a refusal', async (t) => {
  const fitArb = fc.tuple(fc.array(nodeArb, { minLength: 1, maxLength: 6 }), nodeArb, fc.constantFrom(null, 1, 2, 3));
  fc.assert(
    fc.property(fitArb, requestArb, fc.nat(), ([hw, extra, maxNodesPerJob], r, seed) => {
      const nodes = hw.map((n, i) => ({ name: `n${i + 1}`, ...n }));
      const p: FitPartition = { name: 'batch', nodes, maxTimeMinutes: null, maxNodesPerJob, totalNodes: nodes.length };
      const rotated = { ...p, nodes: [...nodes.slice(seed % nodes.length), ...nodes.slice(0, seed % nodes.length)] };
      const grown = { ...p, nodes: [...nodes, { name: 'x', ...extra }], totalNodes: nodes.length + 1 };
      const ok = (q: FitPartition): boolean => requestFitError(q, { ...r, partition: 'batch' }) === undefined;
      return ok(rotated) === ok(p) && (!ok(p) || ok(grown));
    }),
    { numRuns: 2000 },
  );
  t.pass();
});
