// Scheduler pass figures for the embedded SLURM simulator (figures, not assertions).
//   node bench/scheduler-pass.mjs      (after `npx tsc -p tsconfig.build.json`: runs dist/)
// A 10,000-node cluster (4 CPUs each, one partition) nearly full of running allocations with
// varied end times, 100,000 pending requests of varied sizes and time limits:
//   - one pure schedule() pass: median and max of 20 passes over the same input;
//   - SimulatorBackend: 100,000 allocate() calls, then its own pass (settle()), median and
//     max of 20 passes, and the heap used.
//   - queue length vs. pass time: schedule() with the default bounds (default_queue_depth
//     100, bf_max_job_test 500) and unbounded (every job examined: the placements, reasons
//     and reservations of the pass before the bounds existed), median of 5 passes each.
// Goal: a pass < 50 ms. Sizes can be changed with BENCH_SIM_NODES / BENCH_SIM_QUEUE.
import { schedule, compareRequestPriority } from '../dist/backends/simulator/scheduler.js';
import { ManualClock, SimulatorBackend } from '../dist/backends/simulator/simulator-backend.js';
import { compressHostlist } from '../dist/hostlist/hostlist.js';

const NOW = 1_700_000_000_000;
const MIN = 60_000;
const NODE_CPUS = 4;
const NODE_MEM = 16_384;

/** Deterministic PRNG (mulberry32), so every run measures the same scenario. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The cluster, its running allocations and the pending requests (in priority order).
 * Running: whole-node exclusive jobs (1 to 16 nodes) and shared jobs of 1 to 4 CPUs packed
 * on nodes; about 3% of the nodes keep 1 to 3 CPUs free. End times from 1 minute to 24 hours
 * ahead (2% without a time limit).
 * Queue: 1 to 4 shared tasks (50%), one exclusive node (20%), 2 to 64 exclusive nodes (20%),
 * 8 to 32 shared tasks over 2 to 8 nodes (10%); time limits of 5 minutes to 24 hours (10%
 * without one).
 */
export function buildScenario({ nodes = 10_000, queue = 100_000, seed = 42 } = {}) {
  const r = rng(seed);
  const int = (lo, hi) => lo + Math.floor(r() * (hi - lo + 1));
  const width = String(nodes).length;
  const names = Array.from({ length: nodes }, (_, i) => `n${String(i + 1).padStart(width, '0')}`);
  const spec = {
    nodes: names.map((name) => ({ name, cpus: NODE_CPUS, memoryMiB: NODE_MEM, gpus: 0 })),
    partitions: [{ name: 'batch', nodes: names, default: true, maxTimeMinutes: null, defaultTimeMinutes: null, state: 'UP' }],
  };
  const endTime = () => (r() < 0.02 ? null : NOW + int(1, 1440) * MIN);
  const running = [];
  let id = 1_000_000;
  for (let i = 0; i < nodes; ) {
    const kind = r();
    if (kind < 0.5) {
      const count = Math.min(nodes - i, r() < 0.7 ? 1 : int(2, 16));
      running.push({
        id: `sim-${id++}`,
        exclusive: true,
        endTime: endTime(),
        nodes: names.slice(i, i + count).map((name) => ({ name, cpus: NODE_CPUS, memoryMiB: NODE_MEM, gpus: 0 })),
      });
      i += count;
    } else {
      // shared jobs packed on one node; some nodes keep a CPU or more free
      let used = 0;
      const target = r() < 0.06 ? int(1, NODE_CPUS - 1) : NODE_CPUS;
      while (used < target) {
        const cpus = Math.min(target - used, int(1, NODE_CPUS));
        running.push({
          id: `sim-${id++}`,
          exclusive: false,
          endTime: endTime(),
          nodes: [{ name: names[i], cpus, memoryMiB: cpus * (NODE_MEM / NODE_CPUS), gpus: 0 }],
        });
        used += cpus;
      }
      i += 1;
    }
  }
  const requests = [];
  for (let j = 1; j <= queue; j++) {
    const kind = r();
    const base = {
      jobId: j,
      name: `job${j}`,
      user: 'bench',
      partition: 'batch',
      cpusPerTask: 1,
      gpusPerNode: 0,
      timeLimitMinutes: r() < 0.1 ? null : int(5, 1440),
      nice: 0,
      submitTime: NOW - 10 * queue + j,
    };
    if (kind < 0.5) requests.push({ ...base, minNodes: 1, maxNodes: 1, tasks: int(1, 4), exclusive: false });
    else if (kind < 0.7) requests.push({ ...base, minNodes: 1, maxNodes: 1, tasks: 4, exclusive: true });
    else if (kind < 0.9) {
      const n = int(2, 64);
      requests.push({ ...base, minNodes: n, maxNodes: n, tasks: 4 * n, exclusive: true });
    } else {
      const n = int(2, 8);
      requests.push({ ...base, minNodes: 2, maxNodes: n, tasks: int(8, 4 * n), exclusive: false });
    }
  }
  requests.sort(compareRequestPriority);
  return { spec, running, requests, now: NOW };
}

const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mib = (bytes) => Math.round(bytes / 1024 / 1024);
const gc = () => globalThis.gc?.();

/** Runs both measurements; returns the figures (ms, MiB). */
export async function runSchedulerPassBench({ nodes, queue, passes = 20, seed = 42 } = {}) {
  nodes ??= Number(process.env.BENCH_SIM_NODES ?? 10_000);
  queue ??= Number(process.env.BENCH_SIM_QUEUE ?? 100_000);
  const scenario = buildScenario({ nodes, queue, seed });
  const usedCpus = scenario.running.reduce((s, a) => s + a.nodes.reduce((t, n) => t + n.cpus, 0), 0);

  // 1. The pure pass.
  const input = passInput(scenario);
  const times = [];
  let result;
  for (let i = 0; i < passes; i++) {
    const t0 = performance.now();
    result = schedule(input);
    times.push(performance.now() - t0);
  }
  const pure = {
    medianMs: median(times),
    maxMs: Math.max(...times),
    examined: result.examined,
    started: result.placements.length,
    backfilled: result.placements.filter((p) => p.backfilled).length,
    reservations: result.reservations.length,
  };

  // 2. The backend's own pass: its queue, its running set, its events.
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const clock = new ManualClock(scenario.now);
  const backend = new SimulatorBackend(scenario.spec, clock);
  let granted = 0;
  let pendingEvents = 0;
  backend.onEvent((e) => {
    if (e.type === 'granted') granted++;
    else if (e.type === 'pending') pendingEvents++;
  });
  for (const a of scenario.running) {
    backend.restore(0, {
      backendId: a.id,
      partition: 'batch',
      nodes: a.nodes,
      nodeList: compressHostlist(a.nodes.map((n) => n.name)),
      startTime: scenario.now - MIN,
      endTime: a.endTime,
    }, a.exclusive);
  }
  await backend.start();
  let t0 = performance.now();
  for (const request of scenario.requests) await backend.allocate(request);
  const allocateMs = performance.now() - t0;
  t0 = performance.now();
  await backend.settle(); // the first pass over the full queue
  const firstPassMs = performance.now() - t0;
  const backendTimes = [];
  for (let i = 0; i < passes; i++) {
    // a pass is due after any change: queue one more job (not timed), then time the pass
    await backend.allocate({ ...scenario.requests[0], jobId: queue + 1 + i, submitTime: scenario.now });
    t0 = performance.now();
    await backend.settle();
    backendTimes.push(performance.now() - t0);
  }
  gc();
  const heapAfter = process.memoryUsage().heapUsed;
  await backend.stop();

  return {
    nodes,
    runningAllocations: scenario.running.length,
    cpusUsedPercent: (100 * usedCpus) / (nodes * NODE_CPUS),
    pending: queue,
    schedule: pure,
    backend: {
      allocateMs,
      allocatePerJobUs: (1000 * allocateMs) / queue,
      firstPassMs,
      medianMs: median(backendTimes),
      maxMs: Math.max(...backendTimes),
      granted,
      pendingEvents,
      heapUsedMiB: mib(heapAfter),
      heapForBackendMiB: mib(heapAfter - heapBefore),
      gcExposed: typeof globalThis.gc === 'function',
    },
  };
}

const UNBOUNDED = { queueDepth: Infinity, backfillMaxJobTest: Infinity };

/** schedule() time against queue length, bounded (defaults) and unbounded; figures only. */
/** schedule()'s input for a scenario: every request queued, no node drained. */
function passInput(scenario) {
  return {
    spec: scenario.spec,
    nodeStates: new Map(),
    running: scenario.running,
    queue: scenario.requests.map((request) => ({ id: `sim-${request.jobId}`, request })),
    now: scenario.now,
  };
}

export function runQueueSweep({ nodes, queues = [100, 1_000, 10_000, 100_000], passes = 5, seed = 42 } = {}) {
  nodes ??= Number(process.env.BENCH_SIM_NODES ?? 10_000);
  const rows = [];
  for (const queue of queues) {
    const scenario = buildScenario({ nodes, queue, seed });
    const input = passInput(scenario);
    const row = { queue };
    for (const [name, options] of [['bounded', {}], ['unbounded', UNBOUNDED]]) {
      const times = [];
      let result;
      for (let i = 0; i < passes; i++) {
        const t0 = performance.now();
        result = schedule(input, options);
        times.push(performance.now() - t0);
      }
      row[name] = { medianMs: median(times), examined: result.examined, started: result.placements.length };
    }
    rows.push(row);
  }
  return { nodes, passes, rows };
}

export function printQueueSweep(sweep) {
  console.log(`simulator schedule() vs queue length (${sweep.nodes} nodes, median of ${sweep.passes} passes):`);
  console.log('  queue    | bounded: ms  examined started | unbounded: ms  examined started');
  for (const { queue, bounded: b, unbounded: u } of sweep.rows) {
    const cells = (x) => `${x.medianMs.toFixed(1).padStart(8)} ${String(x.examined).padStart(9)} ${String(x.started).padStart(7)}`;
    console.log(`  ${String(queue).padEnd(8)} | ${cells(b)}    | ${cells(u)}`);
  }
}

export function printSchedulerPassBench(f) {
  const ms = (v) => `${v.toFixed(1)} ms`;
  console.log(
    `simulator cluster: ${f.nodes} nodes × ${NODE_CPUS} CPUs, ${f.runningAllocations} running allocations (${f.cpusUsedPercent.toFixed(1)}% of CPUs), ${f.pending} pending requests`,
  );
  console.log(
    `simulator schedule() pass: median ${ms(f.schedule.medianMs)}, max ${ms(f.schedule.maxMs)} (20 passes; examined ${f.schedule.examined}, started ${f.schedule.started} of which ${f.schedule.backfilled} backfilled, ${f.schedule.reservations} reservation)`,
  );
  console.log(
    `simulator backend: ${f.pending} allocate() in ${ms(f.backend.allocateMs)} (${f.backend.allocatePerJobUs.toFixed(1)} µs each); first pass ${ms(f.backend.firstPassMs)}; then a pass median ${ms(f.backend.medianMs)}, max ${ms(f.backend.maxMs)}; ` +
      `${f.backend.granted} granted, ${f.backend.pendingEvents} pending events; heap used ${f.backend.heapUsedMiB} MiB (${f.backend.heapForBackendMiB} MiB for the backend${f.backend.gcExposed ? '' : ', without --expose-gc'})`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  printSchedulerPassBench(await runSchedulerPassBench());
  printQueueSweep(runQueueSweep());
}
