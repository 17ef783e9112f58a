/**
 * The simulator's scheduling pass, PURE: from the cluster, the allocations holding resources,
 * the queue (already in priority order) and `now`, it decides which jobs start now and why
 * the others wait. No timers, no events: simulator-backend.ts calls it on every change.
 *
 * Policy: strict priority with EASY backfill, bounded per pass like slurmctld.
 * - Jobs are taken in queue order. A job that fits now starts, unless it would delay a
 *   reservation held by a higher-priority job.
 * - The first job of each partition that cannot start gets a reservation: the earliest time
 *   it could start, found by releasing running allocations at their end times (allocations
 *   without a time limit never end, so that time may be "never").
 * - Main scheduler (sched/builtin, default_queue_depth = options.queueDepth, default 100):
 *   only the first queueDepth jobs are looked at; once a job of a partition cannot start,
 *   the later jobs of that partition only start through backfill (else reason 'Priority').
 * - Backfill (sched/backfill, bf_max_job_test = options.backfillMaxJobTest, default 500):
 *   the first backfillMaxJobTest jobs are tested against the reservations. Backfill exists
 *   for the reservations, so it looks past queueDepth only when the pass holds one; on a
 *   cluster with nothing blocked the jobs past queueDepth wait for the next pass (the
 *   backend runs one as soon as a bounded pass has started jobs). Both run in the same pass
 *   here, at the same instant (no bf_interval, no bf_resolution: times are exact ms).
 * - A lower-priority job may start while a reservation exists (backfill) when it uses none of
 *   the reserved job's partition nodes, or when it ends (now + its time limit) by the reserved
 *   start, or when the reserved job could still start by its reserved time with this job
 *   running (EASY's "extra nodes"). A job without a time limit never ends, so it can only use
 *   the last rule, and never when the reserved start is unknown.
 * - Jobs past both bounds are not examined: the result's `pending` has no entry for them and
 *   `examined` says how many of the queue's first jobs were looked at.
 * - Pending reasons: 'Resources' when the job does not fit in what is free now; 'Priority'
 *   when it would fit but a higher-priority job's reservation holds it back, or when its
 *   partition is blocked and backfill does not reach it; partition limits
 *   ('PartitionTimeLimit', 'PartitionNodeLimit', 'PartitionDown') come first and such jobs
 *   neither start nor reserve.
 *
 * Cost of a pass: the cluster's state (cluster-state.ts) knows the nodes with a free CPU and
 * the allocations by end time; the live backend builds it per pass (O(nodes + running)), a
 * replay keeps it across passes. Per examined job: a placement over the partition's nodes with
 * a free CPU (it stops at the first nodes that hold the job; a job needing more CPUs than the
 * partition has free, or a shape that did not fit, is not tried; a shape placed since the last
 * start is not placed again), one availability-profile walk per reservation (a replay keeps
 * the last pass's through later ends: outlook-upkeep.ts), and O(nodes of the job) per backfill
 * test at most (availability.ts: it stops once the reserved job no longer fits). Per-node data
 * is kept by node number (usage-table.ts), and a placement makes its AllocatedNodes only when
 * the job starts. A replay's queue can also skip the jobs too big for any free CPUs once every
 * partition is blocked, a job that could not start is not tested again until something starts
 * or ends (ClusterState.noteFailed), a job that would take more CPUs at the reserved time
 * than the reserved job can spare is turned down without being placed (availability.ts
 * surelyDelays), and the pass stops once backfill's reach is passed with every partition
 * blocked (ScheduleOptions.reasons false). None of this changes a decision.
 */
import type { AllocatedNode, ResourceRequest } from '../resource-backend.js';
import type { PendingReason } from '../../jobs/job-types.js';
import { exceedsMaxTime } from '../request-fit.js';
import {
  effectiveTimeLimit,
  findPartition,
  type SimulatedClusterSpec,
  type SimulatedNodeSpec,
  type SimulatedPartitionSpec,
} from './cluster-spec.js';
import { shareTerms } from './shares.js';
import { allocatedNodes, choosePlacement, type Choice, type NodeAdminState, type RunningAllocation } from './placement.js';
import { capBound, cpusOf, delaysReservation, planOutlook, startAllocation, surelyDelays, type Candidate, type HeldReservation } from './availability.js';
import { ClusterState, type IndexedAllocation } from './cluster-state.js';

export { validateRequest } from './validate-request.js';

/**
 * Why a job still waits. 'PartitionDown' is SLURM's reason for a DOWN partition; it is not
 * (yet) in job-types' PendingReason.
 */
export type SimPendingReason =
  | Extract<PendingReason, 'Priority' | 'Resources' | 'PartitionTimeLimit' | 'PartitionNodeLimit'>
  | 'PartitionDown';

export interface QueuedRequest {
  /** The backend id ("sim-7"); unique, unlike nothing else in the request. */
  id: string;
  request: ResourceRequest;
  /**
   * The pass's own note of the request's shape key, with the request and partition it was
   * made for: a replay's jobs are tested in pass after pass.
   */
  shape?: { request: ResourceRequest; partition: string; key: string } | undefined;
}

export interface SchedulerInput {
  spec: SimulatedClusterSpec;
  /** Nodes absent from the map are in service ('idle'). */
  nodeStates: ReadonlyMap<string, NodeAdminState>;
  running: readonly RunningAllocation[];
  /** In priority order (see compareRequestPriority). */
  queue: readonly QueuedRequest[];
  /** ms since epoch */
  now: number;
}

export interface Placement {
  id: string;
  jobId: number;
  partition: string;
  exclusive: boolean;
  nodes: AllocatedNode[];
  tasksPerNode: number[];
  startTime: number;
  /** null = no time limit */
  endTime: number | null;
  /** Started ahead of a higher-priority job that holds a reservation. */
  backfilled: boolean;
}

export interface Reservation {
  id: string;
  partition: string;
  /** ms since epoch; null = cannot be predicted (blocked by allocations without time limit) */
  startTime: number | null;
}

export interface SchedulerResult {
  placements: Placement[];
  /**
   * Every examined job that does not start, with its reason (none for unexamined jobs; none at
   * all with ScheduleOptions.reasons false).
   */
  pending: ReadonlyMap<string, SimPendingReason>;
  /**
   * The reservations held. With ScheduleOptions.reasons false, one no later job of the pass
   * is tested against (the last partition blocked past backfill's reach) is not planned: absent.
   */
  reservations: Reservation[];
  /** How many of the queue's first jobs this pass examined; the others were not looked at. */
  examined: number;
}

/** The bounds of one pass, named after slurm.conf's SchedulerParameters. */
export interface ScheduleOptions {
  /** default_queue_depth: jobs the main scheduler examines per pass (default 100). */
  queueDepth?: number;
  /** bf_max_job_test: jobs backfill tests per pass (default 500). */
  backfillMaxJobTest?: number;
  /**
   * bf_resolution in ms: backfill as SLURM's sched/backfill does it, on a map where a blocked
   * job's expected start is rounded down to it (SLURM's default is 60 s) and a job must end
   * before that, not at it, to use the reserved nodes. Absent: textbook EASY on exact times.
   */
  resolution?: number;
  /**
   * false: the caller does not need every examined job's pending reason (a replay), which lets
   * the pass skip, through the queue's index, the jobs that need more CPUs than any partition
   * has free once every partition holds its reservation: they neither start nor reserve.
   * No pending reason is recorded then. Default true.
   */
  reasons?: boolean;
}

/**
 * The waiting jobs a pass reads, in priority order, by rank (0 = the first): an array, or an
 * index of a long queue that can also skip the jobs too big for what is free.
 */
export interface SchedulerQueue {
  readonly length: number;
  at(rank: number): QueuedRequest;
  /** The first rank >= from whose job needs at most `cpus` CPUs (tasks x CPUs per task), or length. */
  nextNeedingAtMost?(from: number, cpus: number): number;
}

/** A pass over a cluster's state, which it changes as it starts jobs (scheduleOn). */
export interface PassInput {
  spec: SimulatedClusterSpec;
  state: ClusterState;
  queue: SchedulerQueue;
  /** ms since epoch */
  now: number;
}

export const DEFAULT_QUEUE_DEPTH = 100;
export const DEFAULT_BF_MAX_JOB_TEST = 500;

/**
 * Queue order: FIFO by submitTime; at equal submit times the lower nice first (SLURM's nice
 * lowers priority); then the lower jobId.
 */
export function compareRequestPriority(a: ResourceRequest, b: ResourceRequest): number {
  return a.submitTime - b.submitTime || a.nice - b.nice || a.jobId - b.jobId;
}


const MINUTE_MS = 60_000;

/** A pass's pending reasons when none are read. */
const NO_REASONS: ReadonlyMap<string, SimPendingReason> = new Map();

function partitionReason(
  req: ResourceRequest,
  partition: SimulatedPartitionSpec | undefined,
): SimPendingReason | null {
  if (!partition || partition.state === 'DOWN') return 'PartitionDown';
  if (exceedsMaxTime(req.timeLimitMinutes, partition.maxTimeMinutes)) return 'PartitionTimeLimit';
  if (req.minNodes > partition.nodes.length) return 'PartitionNodeLimit';
  return null;
}

/**
 * What tryPlace reads of a queued request: equal keys place alike on the same usage. Made once
 * per request and noted on it (QueuedRequest.shape): a WeakMap from requests to their keys,
 * tried first, held a replay's every waiting job, and the collector's work on it made the
 * whole replay a fifth slower.
 */
function shapeKey(partition: string, q: QueuedRequest): string {
  const known = q.shape;
  if (known !== undefined && known.partition === partition && known.request === q.request) return known.key;
  const key = makeShapeKey(partition, q.request);
  q.shape = { request: q.request, partition, key };
  return key;
}

function makeShapeKey(partition: string, r: ResourceRequest): string {
  return `${partition}|${r.exclusive ? 1 : 0}|${r.minNodes}|${r.maxNodes}|${r.tasks}|${r.tasksPerNode ?? ''}|${r.cpusPerTask}|${r.memoryPerNodeMiB ?? ''}|${r.memoryPerCpuMiB ?? ''}|${r.gpusPerNode}|${r.gpuType ?? ''}`;
}

function bound(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!(v >= 0)) throw new RangeError(`${name} must be a number >= 0, got ${v}`);
  return v;
}

/**
 * A placement whose AllocatedNodes are made when first read: a replay reads them only for its
 * pictures, and would otherwise make millions of node shares. What it is made from is kept in
 * private fields, so the object reads as the plain Placement it is (a closure's getter, tried
 * first, kept each placement's context alive: ten times the objects outlived the young
 * generation).
 */
class Started implements Placement {
  readonly jobId: number;
  readonly exclusive: boolean;
  readonly tasksPerNode: number[];
  #request: ResourceRequest;
  #choice: Choice;
  #specs: readonly SimulatedNodeSpec[];
  #nodes: AllocatedNode[] | null = null;

  constructor(
    readonly id: string,
    req: ResourceRequest,
    readonly partition: string,
    choice: Choice,
    readonly startTime: number,
    readonly endTime: number | null,
    readonly backfilled: boolean,
    specs: readonly SimulatedNodeSpec[],
  ) {
    this.jobId = req.jobId;
    this.exclusive = req.exclusive;
    this.tasksPerNode = choice.tasksPerNode;
    this.#request = req;
    this.#choice = choice;
    this.#specs = specs;
  }

  get nodes(): AllocatedNode[] {
    return (this.#nodes ??= allocatedNodes(this.#request, this.#choice, this.#specs));
  }

  /** As JSON, the plain Placement (the getter is not an own property). */
  toJSON(): Placement {
    const { id, jobId, partition, exclusive, nodes, tasksPerNode, startTime, endTime, backfilled } = this;
    return { id, jobId, partition, exclusive, nodes, tasksPerNode, startTime, endTime, backfilled };
  }
}

/** One pass: the cluster's state (changed as jobs start), its results, its reservations. */
class SchedulingPass {
  readonly placements: Placement[] = [];
  /** Only when the caller reads them (a replay does not: no map per pass). */
  private readonly pending: Map<string, SimPendingReason> | null;
  readonly reservations: HeldReservation[] = [];
  /** The partitions holding a reservation (few: an array, not a set per pass). */
  readonly reservedPartitions: string[] = [];
  /** Whether this pass planned a reservation: its reservations may then differ from the last pass's. */
  private planned = false;
  /**
   * Where each shape was placed last, and at which state version (ClusterState.changes); null
   * for a shape that did not fit: it will not fit later in the pass either. Made when first
   * needed (most of a replay's passes place nothing).
   */
  private shapes: Map<string, { version: number; placed: Choice | null }> | null = null;
  /** The job tested against the reservations (tryStart), made when first needed. */
  private candidate: Candidate | null = null;

  constructor(
    private readonly state: ClusterState,
    private readonly now: number,
    private readonly resolution: number | null,
    /** Whether the caller reads the pending reasons (ScheduleOptions.reasons). */
    private readonly reasons: boolean,
  ) {
    this.pending = reasons ? new Map() : null;
  }

  /** Records why an examined job waits (when reasons are read). */
  wait(id: string, reason: SimPendingReason): void {
    this.pending?.set(id, reason);
  }

  /** Starts the job now, or records why it waits and reserves for its partition if first. */
  consider(q: QueuedRequest, partition: SimulatedPartitionSpec, plan = true): void {
    const { id, request: req } = q;
    // a failure noted before over the same usage and reservations: the same now (ClusterState.noteFailed)
    const known = this.planned ? undefined : this.state.failedBefore(id, this.now, this.resolution);
    const reason = known ?? this.tryStart(q, partition);
    if (reason === null) return;
    if (!known) this.state.noteFailed(id, this.now, this.resolution, reason);
    this.wait(id, reason);
    if (this.reservedPartitions.includes(partition.name)) return;
    if (plan) this.reserve(id, req, partition);
    else this.reservedPartitions.push(partition.name);
  }

  /** Starts the job now if it fits and delays no reservation; else why it waits. */
  private tryStart(q: QueuedRequest, partition: SimulatedPartitionSpec): SimPendingReason | null {
    const { id, request: req } = q;
    const now = this.now;
    const limit = effectiveTimeLimit(partition, req.timeLimitMinutes);
    const endTime = limit === null ? null : now + limit * MINUTE_MS;
    // (it cannot tell 'Priority' from 'Resources': only when no reasons are read)
    if (!this.reasons && surelyDelays(this.reservations, req, partition, endTime)) return 'Priority';
    const choice = this.place(q, partition);
    if (!choice) return 'Resources';
    if (this.reservations.length > 0) {
      // one candidate object per pass, refilled: delaysReservation keeps nothing of it
      const c = (this.candidate ??= { request: req, choice, endTime, live: this.state.table });
      c.request = req;
      c.choice = choice;
      c.endTime = endTime;
      for (const r of this.reservations) if (delaysReservation(r, c)) return 'Priority';
    }
    const backfilled = this.reservations.length > 0;
    // the allocation keeps the choice's arrays: no object per node (placement.ts Shares)
    const alloc: IndexedAllocation = {
      id,
      exclusive: req.exclusive,
      endTime,
      at: choice.at,
      nodes: null,
      request: req,
      terms: shareTerms(req),
      tasks: choice.tasksPerNode,
    };
    startAllocation(this.state, this.reservations, alloc);
    this.placements.push(new Started(id, req, partition.name, choice, now, endTime, backfilled, this.state.table.specs));
    return null;
  }

  result(examined: number): SchedulerResult {
    const reservations = this.reservations.map((r) => ({
      id: r.id,
      partition: r.partition.name,
      startTime: r.time === Infinity ? null : r.time,
    }));
    return { placements: this.placements, pending: this.pending ?? NO_REASONS, reservations, examined };
  }

  private place(q: QueuedRequest, p: SimulatedPartitionSpec): Choice | null {
    const req = q.request;
    // cheaper than a placement: more CPUs than the partition has free never fit
    if (cpusOf(req) > this.state.freeCpus(p.name)) return null;
    const key = shapeKey(p.name, q);
    const shapes = (this.shapes ??= new Map());
    const same = shapes.get(key);
    if (same && same.placed === null) return null;
    // a job of the same shape placed since the last start: the same nodes (its start would have changed the version)
    if (same && same.version === this.state.changes) return same.placed;
    // the nodes with a free CPU now: the only ones that can take a task
    const hint = { free: this.state.freeNodes(p.name), maxTasksPerNode: capBound(req, this.state.maxNodeCpus(p.name)) };
    const placed = choosePlacement(req, p, this.state.table, hint);
    shapes.set(key, { version: this.state.changes, placed });
    return placed;
  }

  private reserve(id: string, req: ResourceRequest, p: SimulatedPartitionSpec): void {
    const s = this.state;
    let held = s.keptReservation(id, this.now, this.resolution);
    if (!held) {
      this.planned = true;
      const members = s.members(p.name);
      const free = s.withFreeCpu(p.name);
      const outlook = planOutlook(req, free, members, s.maxNodeCpus(p.name), s.table, s.endingByTime, this.now);
      held = { id, request: req, partition: p, members, resolution: this.resolution, ...outlook };
    }
    this.reservations.push(held);
    this.reservedPartitions.push(p.name);
  }
}

/** One pass over a cluster of these running allocations (the live backend: a fresh state each time). */
export function schedule(input: SchedulerInput, options: ScheduleOptions = {}): SchedulerResult {
  const state = new ClusterState(input.spec, input.nodeStates, input.running);
  const queue = { length: input.queue.length, at: (i: number) => input.queue[i]! };
  return scheduleOn({ spec: input.spec, state, queue, now: input.now }, options);
}

/** One pass over a cluster's state, which it changes: the jobs it starts are in it after. */
export function scheduleOn(input: PassInput, options: ScheduleOptions = {}): SchedulerResult {
  const queueDepth = bound(options.queueDepth, DEFAULT_QUEUE_DEPTH, 'queueDepth');
  const bfMaxJobTest = bound(options.backfillMaxJobTest, DEFAULT_BF_MAX_JOB_TEST, 'backfillMaxJobTest');
  const { spec, queue, state } = input;
  const resolution = options.resolution === undefined ? null : Math.max(1, bound(options.resolution, 1, 'resolution'));
  const pass = new SchedulingPass(state, input.now, resolution, options.reasons !== false);
  // the last partition looked up (a queue's jobs mostly name the same one)
  let named = null as { name: string; partition: SimulatedPartitionSpec | undefined } | null;
  const skip = options.reasons === false && queue.nextNeedingAtMost !== undefined;
  let examined = 0;
  for (let i = 0; i < queue.length; i++) {
    const blocked = pass.reservedPartitions.length === spec.partitions.length;
    if (skip && blocked && i >= bfMaxJobTest) {
      // Every partition is blocked and backfill's reach is passed: no later job can start, and
      // the loop below would go on to look at this many (the jumps only skip jobs).
      examined = Math.min(queue.length, Math.max(queueDepth, bfMaxJobTest));
      break;
    }
    if (skip && blocked) {
      // Every partition is blocked: what needs more CPUs than any has free waits, unlooked at.
      const next = queue.nextNeedingAtMost!(i, state.maxFreeCpus());
      examined = Math.min(next, Math.max(queueDepth, bfMaxJobTest));
      i = next;
      if (i >= queue.length) break;
    }
    // Past the main scheduler's depth, only backfill looks on, and only for a reservation.
    if (i >= queueDepth && !(pass.reservations.length > 0 && i < bfMaxJobTest)) break;
    examined = i + 1;
    const q = queue.at(i);
    const { id, request: req } = q;
    if (named?.name !== req.partition) named = { name: req.partition, partition: findPartition(spec, req.partition) };
    const partition = named.partition;
    const limitReason = partitionReason(req, partition);
    if (limitReason || !partition) pass.wait(id, limitReason ?? 'PartitionDown');
    // Past backfill's reach, the main scheduler starts nothing more in a blocked partition.
    else if (i >= bfMaxJobTest && pass.reservedPartitions.includes(partition.name)) pass.wait(id, 'Priority');
    // no later job will be tested against the last partition's reservation: it need not be planned
    else pass.consider(q, partition, !(skip && i >= bfMaxJobTest && pass.reservedPartitions.length + 1 === spec.partitions.length));
  }
  state.keepReservations(resolution, pass.reservations);
  return pass.result(examined);
}
