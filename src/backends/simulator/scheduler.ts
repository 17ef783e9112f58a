/**
 * The simulator's scheduling pass, PURE: from the cluster, the allocations holding resources,
 * the queue (already in priority order) and `now`, it decides which jobs start now and why
 * the others wait. No timers, no events: simulator-backend.ts calls it on every change.
 *
 * Policy: strict priority with EASY backfill.
 * - Jobs are taken in queue order. A job that fits now starts, unless it would delay a
 *   reservation held by a higher-priority job.
 * - The first job of each partition that cannot start gets a reservation: the earliest time
 *   it could start, found by releasing running allocations at their end times (allocations
 *   without a time limit never end, so that time may be "never").
 * - A lower-priority job may start while a reservation exists (backfill) when it uses none of
 *   the reserved job's partition nodes, or when it ends (now + its time limit) by the reserved
 *   start, or when the reserved job could still start by its reserved time with this job
 *   running (EASY's "extra nodes"). A job without a time limit never ends, so it can only use
 *   the last rule, and never when the reserved start is unknown.
 * - Pending reasons: 'Resources' when the job does not fit in what is free now; 'Priority'
 *   when it would fit but a higher-priority job's reservation holds it back; partition
 *   limits ('PartitionTimeLimit', 'PartitionNodeLimit', 'PartitionDown') come first and such
 *   jobs neither start nor reserve.
 */
import type { AllocatedNode, ResourceRequest } from '../resource-backend.js';
import type { PendingReason } from '../../jobs/job-types.js';
import {
  effectiveTimeLimit,
  findPartition,
  type SimulatedClusterSpec,
  type SimulatedPartitionSpec,
} from './cluster-spec.js';
import {
  applyAllocation,
  buildUsage,
  cloneUsage,
  tryPlace,
  type NodeAdminState,
  type RunningAllocation,
  type UsageMap,
} from './placement.js';

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
  /** Every queued job that does not start, with its reason. */
  pending: Map<string, SimPendingReason>;
  reservations: Reservation[];
}

/**
 * Queue order: FIFO by submitTime; at equal submit times the lower nice first (SLURM's nice
 * lowers priority); then the lower jobId.
 */
export function compareRequestPriority(a: ResourceRequest, b: ResourceRequest): number {
  return a.submitTime - b.submitTime || a.nice - b.nice || a.jobId - b.jobId;
}

const MINUTE_MS = 60_000;

interface HeldReservation {
  id: string;
  request: ResourceRequest;
  partition: SimulatedPartitionSpec;
  partitionNodes: Set<string>;
  /** ms; Infinity = unknown */
  time: number;
}

/**
 * The earliest time >= now at which `req` could start, releasing `running` allocations at
 * their end times; Infinity when it never fits with the known end times.
 */
export function earliestStart(
  req: ResourceRequest,
  partition: SimulatedPartitionSpec,
  usage: UsageMap,
  running: readonly RunningAllocation[],
  now: number,
): number {
  if (tryPlace(req, partition, usage)) return now;
  const ending = running
    .filter((a): a is RunningAllocation & { endTime: number } => a.endTime !== null)
    .sort((a, b) => a.endTime - b.endTime);
  const u = cloneUsage(usage);
  for (let i = 0; i < ending.length; ) {
    const t = ending[i]!.endTime;
    while (i < ending.length && ending[i]!.endTime === t) applyAllocation(u, ending[i++]!, -1);
    if (tryPlace(req, partition, u)) return Math.max(t, now);
  }
  return Infinity;
}

function partitionReason(
  req: ResourceRequest,
  partition: SimulatedPartitionSpec | undefined,
): SimPendingReason | null {
  if (!partition || partition.state === 'DOWN') return 'PartitionDown';
  const limit = req.timeLimitMinutes;
  if (limit !== null && limit > 0 && partition.maxTimeMinutes !== null && limit > partition.maxTimeMinutes) {
    return 'PartitionTimeLimit';
  }
  if (req.minNodes > partition.nodes.length) return 'PartitionNodeLimit';
  return null;
}

export function schedule(input: SchedulerInput): SchedulerResult {
  const { spec, now } = input;
  const usage = buildUsage(spec, input.nodeStates, input.running);
  const running: RunningAllocation[] = [...input.running];
  const placements: Placement[] = [];
  const pending = new Map<string, SimPendingReason>();
  const reservations: HeldReservation[] = [];

  /** Would starting `alloc` (ending at endTime) delay reservation r? */
  const delays = (alloc: RunningAllocation, r: HeldReservation): boolean => {
    if (!alloc.nodes.some((n) => r.partitionNodes.has(n.name))) return false;
    if (alloc.endTime !== null && alloc.endTime <= r.time) return false;
    if (r.time === Infinity) return true;
    const u = cloneUsage(usage);
    applyAllocation(u, alloc, 1);
    return earliestStart(r.request, r.partition, u, [...running, alloc], now) > r.time;
  };

  for (const { id, request: req } of input.queue) {
    const partition = findPartition(spec, req.partition);
    const limitReason = partitionReason(req, partition);
    if (limitReason || !partition) {
      pending.set(id, limitReason ?? 'PartitionDown');
      continue;
    }
    const limit = effectiveTimeLimit(partition, req.timeLimitMinutes);
    const endTime = limit === null ? null : now + limit * MINUTE_MS;
    const placed = tryPlace(req, partition, usage);
    let reason: SimPendingReason = 'Resources';
    if (placed) {
      const alloc: RunningAllocation = { id, exclusive: req.exclusive, nodes: placed.nodes, endTime };
      if (!reservations.some((r) => delays(alloc, r))) {
        applyAllocation(usage, alloc, 1);
        running.push(alloc);
        placements.push({
          id,
          jobId: req.jobId,
          partition: partition.name,
          exclusive: req.exclusive,
          nodes: placed.nodes,
          tasksPerNode: placed.tasksPerNode,
          startTime: now,
          endTime,
          backfilled: reservations.length > 0,
        });
        continue;
      }
      reason = 'Priority';
    }
    pending.set(id, reason);
    if (!reservations.some((r) => r.partition.name === partition.name)) {
      reservations.push({
        id,
        request: req,
        partition,
        partitionNodes: new Set(partition.nodes),
        time: earliestStart(req, partition, usage, running, now),
      });
    }
  }

  return {
    placements,
    pending,
    reservations: reservations.map((r) => ({
      id: r.id,
      partition: r.partition.name,
      startTime: r.time === Infinity ? null : r.time,
    })),
  };
}
