/**
 * A trace replayed on a virtual clock: discrete events (submits, ends), no sleeping, the same
 * for the same input. The scheduling is the live simulator's own pass (backends/simulator/
 * scheduler.ts), not a copy: it is asked which queued jobs start, with the running jobs' time
 * limits as what it knows of their ends.
 *   fcfs: strict queue order, the first job that cannot start stops everything behind it;
 *   easy: EASY backfill;
 * both at every event time, pass after pass until one starts no more; each pass looks at the
 * first WINDOW queued jobs: a pass costs the same whatever the queue's length.
 *   slurm: slurmctld's two schedulers, one pass per trigger, as slurmctld runs them
 *   (SlurmPassOptions).
 * The cluster's state is kept from pass to pass (told of each start and end, not rebuilt, with the
 * last pass's reservations and the jobs it found unable to start), and the queue is indexed
 * (waiting-index.ts): once the first blocked job holds its reservation, a pass jumps straight
 * to the jobs small enough for the free CPUs, so a pass on a full cluster costs what could
 * start, not the window.
 */
import { scheduleOn, type ScheduleOptions } from '../backends/simulator/scheduler.js';
import { ClusterState } from '../backends/simulator/cluster-state.js';
import type { SimulatedClusterSpec } from '../backends/simulator/cluster-spec.js';
import type { ResourceRequest } from '../backends/resource-backend.js';
import type { SwfJob } from './swf.js';
import TinyQueue from 'tinyqueue';
import { forecastStarts } from './forecast.js';
import { WaitingIndex } from './waiting-index.js';

export type ReplayPolicy = 'fcfs' | 'easy' | 'slurm';

/**
 * The `slurm` policy: slurmctld 22.05's two schedulers, named as in slurm.conf's
 * SchedulerParameters. The main one runs one pass at once on every submit and job end, looks
 * at default_queue_depth + 1 jobs (as slurmctld counts them: test/slurm/main-depth.test.ts) and
 * starts nothing behind a partition's first blocked job; the backfill one runs one cycle every
 * bf_interval seconds over bf_max_job_test jobs (EASY: a reservation for the first blocked
 * job, bf_job_part_count_reserve=1), on a map where the blocked job's expected start is
 * rounded down to bf_resolution and a job must end before it to use its nodes. A pass whose
 * depth runs out leaves the rest to the next trigger, as slurmctld does: its _sched_agent runs
 * _schedule() once per batch of schedule() requests (a submit, an epilog's end), and
 * backfill_agent sleeps bf_interval after each _attempt_backfill
 * (test/slurm/backfill-cycles.test.ts). Not modelled: sched_interval's periodic main pass over
 * the whole queue, and bf_max_job_test counting only the jobs backfill places (_try_sched).
 * Times are whole seconds, as SWF's. (slurm.conf's line itself: scheduler-parameters.ts.)
 */
export interface SlurmPassOptions {
  defaultQueueDepth: number;
  bfInterval: number;
  bfMaxJobTest: number;
  /** Backfill's time slot in seconds: a reserved start is rounded down to it (SLURM's default: 60). */
  bfResolution: number;
  /**
   * Seconds a job's resources stay taken after its end (SLURM's COMPLETING: the epilog, the
   * nodes' answers); default 0. A real cluster's records show it as starts a second or so
   * after the ends that freed them.
   */
  completingSeconds: number;
}

export const SLURM_DEFAULTS: SlurmPassOptions = { defaultQueueDepth: 100, bfInterval: 30, bfMaxJobTest: 500, bfResolution: 60, completingSeconds: 0 };

export interface ReplayOptions {
  nodes: number;
  procsPerNode: number;
  policy: ReplayPolicy;
  /** The `slurm` policy's parameters (SLURM's defaults otherwise). */
  slurm?: Partial<SlurmPassOptions>;
  /** Called now and then with the jobs ended so far. */
  onProgress?: (ended: number, total: number) => void;
  /**
   * Every so many submitted jobs, the start forecast `squeue --start` would give at its submit
   * (simulate/forecast.ts: the queue replayed from the running jobs' limits), to measure it
   * against the start the replay then gives. Absent: none.
   */
  forecastEvery?: number;
  /** Keep each job's nodes in its outcome (for a Gantt chart). */
  keepNodes?: boolean;
  /**
   * Unix time (s) of the trace's time 0 (SWF's UnixStartTime header). The `slurm` policy rounds
   * end times to bf_resolution on the wall clock, as slurmctld does, so the phase matters.
   * Default 0.
   */
  epoch?: number;
}

export interface JobOutcome {
  id: number;
  /** seconds from the trace's start */
  submit: number;
  start: number;
  end: number;
  procs: number;
  /** The nodes it ran on (only with ReplayOptions.keepNodes: pictures). */
  nodes?: string[];
}

export interface ReplayResult {
  /** In the order the jobs started. */
  outcomes: JobOutcome[];
  /** Jobs that could never start (none when every job fits the cluster). */
  neverStarted: number;
  /** Forecast start (s from the trace's start; null: none could be given) of the sampled jobs. */
  forecasts: Map<number, number | null>;
}

/** Queued jobs each pass looks at. */
export const WINDOW = 1000;
export const PASS_OPTIONS: Record<Exclude<ReplayPolicy, 'slurm'>, ScheduleOptions> = {
  // nothing starts behind the first blocked job: the jobs after it need not be looked at
  fcfs: { queueDepth: 100, backfillMaxJobTest: 0 },
  easy: { queueDepth: WINDOW, backfillMaxJobTest: WINDOW },
};

const PARTITION = 'sim';

export function clusterSpec(nodes: number, procsPerNode: number): SimulatedClusterSpec {
  const names = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
  return {
    nodes: names.map((name) => ({ name, cpus: procsPerNode, memoryMiB: 1 << 20, gpus: 0 })),
    partitions: [{ name: PARTITION, nodes: names, default: true, maxTimeMinutes: null }],
  };
}

/** `sbatch -n procs --time=limit` for one trace job: tasks spread over as many nodes as needed. */
export function requestOf(job: SwfJob, epochMs = 0): ResourceRequest {
  return {
    jobId: job.id,
    name: `swf-${job.id}`,
    user: String(job.user),
    partition: PARTITION,
    minNodes: 1,
    maxNodes: job.procs,
    tasks: job.procs,
    cpusPerTask: 1,
    memoryPerNodeMiB: 0,
    gpusPerNode: 0,
    // SLURM's limits are whole minutes
    timeLimitMinutes: job.limit === null ? null : Math.max(1, Math.ceil(job.limit / 60)),
    exclusive: false,
    nice: 0,
    submitTime: epochMs + job.submit * 1000,
  };
}

export function replay(jobs: readonly SwfJob[], o: ReplayOptions): ReplayResult {
  const spec = clusterSpec(o.nodes, o.procsPerNode);
  const order = [...jobs].sort((a, b) => a.submit - b.submit || a.id - b.id);
  // by job id: a placement's jobId is its trace job's id (requestOf)
  const slotOf = new Map(order.map((j, slot) => [j.id, slot]));
  const state = new ClusterState(spec, new Map());
  const ends = new TinyQueue<{ at: number; id: string }>([], (a, b) => a.at - b.at);
  const queue = new WaitingIndex(order.length);
  const outcomes: JobOutcome[] = [];
  const forecasts = new Map<number, number | null>();
  const slurm = o.policy === 'slurm' ? { ...SLURM_DEFAULTS, ...o.slurm } : undefined;
  // the replay's clock is the wall clock the trace ran on (whole ms from the Unix epoch)
  const base = (o.epoch ?? 0) * 1000;
  const submitAt = (job: SwfJob) => base + job.submit * 1000;
  const one = o.policy === 'slurm' ? undefined : PASS_OPTIONS[o.policy];
  // a replay needs no pending reasons (ScheduleOptions.reasons); made once, not per pass
  const onePass = one && { ...one, reasons: false };
  // slurmctld's main scheduler tests default_queue_depth + 1 jobs: job_scheduler.c _schedule()
  // breaks out on `job_depth++ > def_job_limit`, after the job that makes it equal
  const mainDepth = slurm ? slurm.defaultQueueDepth + 1 : 0;
  const mainPass: ScheduleOptions = slurm ? { queueDepth: mainDepth, backfillMaxJobTest: 0, reasons: false } : {};
  const backfillPass: ScheduleOptions = slurm ? { ...backfillCycle(slurm), reasons: false } : {};
  const forecastInput = (now: number) => {
    const seen = queue.queue(WINDOW);
    const waiting = Array.from({ length: seen.length }, (_, k) => seen.at(k));
    return { spec, nodeStates: new Map(), running: state.runningAllocations(), queue: waiting, now };
  };
  /** One pass at `now` over the first `window` waiting jobs: how many it started, and whether it saw them all. */
  const pass = (now: number, window: number, options: ScheduleOptions) => {
    const seen = queue.queue(window);
    // the pass starts its jobs in `state`
    const { placements, examined } = scheduleOn({ spec, state, queue: seen, now }, options);
    for (const p of placements) {
      const slot = slotOf.get(p.jobId)!;
      const job = order[slot]!;
      const end = now + job.runtime * 1000;
      ends.push({ at: end + (slurm?.completingSeconds ?? 0) * 1000, id: p.id });
      const outcome: JobOutcome = { id: job.id, submit: job.submit, start: (now - base) / 1000, end: (end - base) / 1000, procs: job.procs };
      if (o.keepNodes) outcome.nodes = p.nodes.map((n) => n.name);
      outcomes.push(outcome);
      queue.remove(slot);
    }
    return { started: placements.length, sawAll: seen.length < window && examined >= seen.length };
  };
  /**
   * FCFS and EASY: passes at `now` until one starts nothing. Another pass can start more only
   * when this one did not see every waiting job (its window ran out): a job that did not fit
   * does not fit once others have started.
   */
  const passes = (now: number, options: ScheduleOptions) => {
    for (let p = pass(now, WINDOW, options); p.started > 0 && !p.sawAll; p = pass(now, WINDOW, options));
  };
  let next = 0;
  let ended = 0;
  let nextTick = 0;
  // a backfill cycle over the cluster and queue the last one left starts nothing (time alone
  // frees no CPU and brings no reservation nearer): such ticks are skipped, not stepped through
  let dirty = false;
  while (next < order.length || ends.length > 0 || (slurm && queue.waiting > 0 && dirty)) {
    const tick = slurm && queue.waiting > 0 && dirty ? nextTick : Infinity;
    const now = Math.min(next < order.length ? submitAt(order[next]!) : Infinity, ends.peek()?.at ?? Infinity, tick);
    let changed = false;
    for (let e = ends.peek(); e && e.at <= now; e = ends.peek()) {
      state.end(ends.pop()!.id);
      changed = true;
      if (++ended % 5000 === 0) o.onProgress?.(ended, order.length);
    }
    let sampled: string[] | null = null;
    for (; next < order.length && submitAt(order[next]!) <= now; next++) {
      queue.add(next, { id: String(order[next]!.id), request: requestOf(order[next]!, base), shape: undefined }, order[next]!.procs);
      changed = true;
      if (o.forecastEvery && next % o.forecastEvery === 0) (sampled ??= []).push(String(order[next]!.id));
    }
    if (sampled !== null) {
      // squeue --start shows what backfill planned: a backfill cycle's reach
      const at = forecastStarts(forecastInput(now), { ...(slurm ? backfillCycle(slurm) : one), maxJobs: WINDOW });
      for (const id of sampled) forecasts.set(Number(id), at.get(id) != null ? (at.get(id)! - base) / 1000 : null);
    }
    if (onePass) {
      passes(now, onePass);
      continue;
    }
    // slurmctld: the main scheduler at once on a submit or an end, backfill on its own interval
    if (!slurm) continue;
    const interval = slurm.bfInterval * 1000;
    if (changed) {
      pass(now, mainDepth, mainPass);
      // the next tick on the grid: one in the past was skipped over an empty or unchanged queue
      nextTick = Math.max(nextTick, Math.ceil(now / interval) * interval);
      dirty = true;
    }
    if (now >= nextTick && dirty) {
      // what this cycle's bf_max_job_test did not reach waits for the next one
      dirty = pass(now, slurm.bfMaxJobTest, backfillPass).started > 0;
      nextTick = (Math.floor(now / interval) + 1) * interval;
    }
  }
  o.onProgress?.(ended, order.length);
  return { outcomes, neverStarted: queue.waiting, forecasts };
}

/**
 * A backfill cycle: sched/backfill tests the first bf_max_job_test jobs whether or not one is
 * blocked (default_queue_depth bounds only the main scheduler), starting what delays no
 * reservation; the first blocked job of the partition reserves.
 */
export function backfillCycle(s: SlurmPassOptions): ScheduleOptions {
  return { queueDepth: s.bfMaxJobTest, backfillMaxJobTest: s.bfMaxJobTest, resolution: s.bfResolution * 1000 };
}
