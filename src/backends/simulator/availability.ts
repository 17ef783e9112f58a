/**
 * The availability profile behind the scheduler's reservations, PURE (SLURM's node_space):
 * when a waiting job could start, found by releasing the allocations at their end times, and
 * whether starting another job now would push that time back (EASY backfill).
 *
 * A reservation keeps the reserved job's outlook at its reserved time: the usage of the nodes
 * that differ from the live usage then, and the job's task capacity on every partition node
 * then as counts by capacity. Planning it is one walk over the allocations sorted by end time;
 * "does this job delay it" is then O(nodes of the job) instead of a new walk per job, and
 * gives the same answer: node capacities only grow as allocations end, so the reserved job
 * fits by its reserved time exactly when it fits at that time.
 */
import type { AllocatedNode, ResourceRequest } from '../resource-backend.js';
import { capacitiesHold, nodeTaskCapacity } from '../task-capacity.js';
import type { SimulatedPartitionSpec } from './cluster-spec.js';
import type { ClusterState, EndingAllocation, NodeSet } from './cluster-state.js';
import type { NodeUsage, RunningAllocation, UsageMap, UsageView } from './placement.js';

export type { EndingAllocation, NodeSet } from './cluster-state.js';

export const hasEnd = (a: RunningAllocation): a is EndingAllocation => a.endTime !== null;
export const byEnd = (a: EndingAllocation, b: EndingAllocation): number => a.endTime - b.endTime;

/**
 * Is `alloc` gone by the reservation's time, so that it cannot delay it? Textbook EASY: when it
 * ends by then. SLURM's sched/backfill (22.05): the blocked job's expected start (computed on
 * exact end times) goes into the backfill map rounded down to bf_resolution, and a job whose
 * exact end is at or after the start of that slot overlaps it (`begin_time <= end_time`).
 */
export function goneBy(alloc: RunningAllocation, r: HeldReservation): boolean {
  if (alloc.endTime === null) return false;
  if (r.resolution === null) return alloc.endTime <= r.time;
  return alloc.endTime < Math.floor(r.time / r.resolution) * r.resolution;
}

/**
 * A job's outlook on its partition at one future time: the usage of the nodes that differ
 * from the live usage then (`atTime`), and the job's task capacity on every partition node
 * then, kept as counts by capacity (counts[c] = nodes that take c tasks, `usable` = nodes
 * that take any).
 */
export interface Outlook {
  /** ms; Infinity = the job never fits with the known end times */
  time: number;
  atTime: Map<string, NodeUsage>;
  counts: number[];
  usable: number;
}

export interface HeldReservation extends Outlook {
  /**
   * null: textbook EASY (a job ending at the reserved time may use its nodes). A number:
   * SLURM's backfill map with this bf_resolution in ms (the reserved start rounded down to it;
   * a job must end before that to use the nodes).
   */
  resolution: number | null;
  id: string;
  request: ResourceRequest;
  partition: SimulatedPartitionSpec;
  partitionNodes: NodeSet;
  /** Something ended since the time was found: the job may now fit earlier (outlook-upkeep.ts). */
  unsettled?: boolean;
  /**
   * A job started that ends by the time but is not gone by it (bf_resolution) is counted as
   * running then, where a new walk would release it: the outlook is not a walk's (outlook-upkeep.ts).
   */
  inexact?: boolean;
}

/** Tasks of `req` a node can take, as tryPlace counts them. */
export const capOf = (req: ResourceRequest, u: NodeUsage): number => Math.min(nodeTaskCapacity(req, u), req.tasks);

/**
 * Adds (d = 1) or takes out (d = -1) one allocation's share of a node's usage, in place (as
 * applyAllocation does): the outlooks change their own copies, never the live usage.
 */
export function shiftShare(u: NodeUsage, n: AllocatedNode, exclusive: boolean, d: 1 | -1): void {
  u.cpus += d * n.cpus;
  u.memoryMiB += d * n.memoryMiB;
  u.gpus += d * n.gpus;
  u.allocations += d;
  if (exclusive) u.exclusive = d === 1;
}

/** The tasks of `req` node usage u could take with one more allocation's share on it. */
function capWithShare(req: ResourceRequest, u: NodeUsage, n: AllocatedNode, exclusive: boolean): number {
  const was = u.exclusive;
  shiftShare(u, n, exclusive, 1);
  const cap = capOf(req, u);
  // undone field by field: u may be the live usage, read by nobody meanwhile
  shiftShare(u, n, false, -1);
  u.exclusive = was;
  return cap;
}

/** One node more (d = 1) or less (d = -1) that takes c tasks in the outlook's counts. */
export function count(o: Outlook, c: number, d: number): void {
  if (c <= 0) return;
  while (o.counts.length <= c) o.counts.push(0);
  o.counts[c]! += d;
  o.usable += d;
}

/** The most tasks of `req` one node of at most maxNodeCpus CPUs can ever take. */
export function capBound(req: ResourceRequest, maxNodeCpus: number): number {
  const want = req.tasksPerNode !== undefined ? Math.min(req.tasksPerNode, req.tasks) : req.tasks;
  return Math.max(0, Math.min(req.tasks, want, Math.floor(maxNodeCpus / req.cpusPerTask)));
}

/**
 * The availability profile walk: the earliest time >= now at which `req` fits on its
 * partition, releasing the `ending` allocations (sorted by end time) from `usage`, with the
 * job's outlook at that time. `takingNow` holds every partition node that can take a task of
 * `req` now (e.g. those with a free CPU). O(takingNow + nodes of the released allocations).
 */
export function planOutlook(
  req: ResourceRequest,
  takingNow: Iterable<string>,
  partitionNodes: NodeSet,
  maxNodeCpus: number,
  usage: UsageView,
  ending: Iterable<EndingAllocation>,
  now: number,
): Outlook {
  const atTime = new Map<string, NodeUsage>();
  const counts = new Array<number>(capBound(req, maxNodeCpus) + 1).fill(0);
  const out: Outlook = { time: now, atTime, counts, usable: 0 };
  for (const name of takingNow) {
    const u = usage.get(name);
    if (u) count(out, capOf(req, u), 1);
  }
  const release = (a: EndingAllocation): void => {
    for (const n of a.nodes) {
      if (!partitionNodes.has(n.name)) continue;
      let u = atTime.get(n.name);
      if (!u) {
        const live = usage.get(n.name);
        if (!live) continue;
        u = { ...live };
        atTime.set(n.name, u);
      }
      count(out, capOf(req, u), -1);
      u.cpus -= n.cpus;
      u.memoryMiB -= n.memoryMiB;
      u.gpus -= n.gpus;
      u.allocations -= 1;
      if (a.exclusive) u.exclusive = false;
      count(out, capOf(req, u), 1);
    }
  };
  // The outlook at a time holds every allocation that ends by then released: those already
  // overdue at `now` too, whether or not the job needs them.
  let time = now;
  for (const a of ending) {
    if (a.endTime > time) {
      if (capacitiesHold(req, out.counts, out.usable)) break;
      time = a.endTime;
    }
    release(a);
  }
  out.time = capacitiesHold(req, out.counts, out.usable) ? time : Infinity;
  return out;
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
  let maxNodeCpus = 0;
  for (const name of partition.nodes) maxNodeCpus = Math.max(maxNodeCpus, usage.get(name)?.node.cpus ?? 0);
  const ending = running.filter(hasEnd).sort(byEnd);
  return planOutlook(req, partition.nodes, new Set(partition.nodes), maxNodeCpus, usage, ending, now).time;
}

const atReservedTime = (r: HeldReservation, usage: UsageView, name: string): NodeUsage | undefined =>
  r.atTime.get(name) ?? usage.get(name);

/**
 * Would starting `alloc` now delay reservation r? Not when it uses none of the partition's
 * nodes or ends by the reserved time; else (EASY's extra nodes) only when the reserved job no
 * longer fits at its reserved time with `alloc` still running. An unknown time cannot be
 * checked: any job that touches the partition and never ends delays it.
 */
export function delaysReservation(r: HeldReservation, alloc: RunningAllocation, usage: UsageView): boolean {
  // gone by the reserved time, or touching none of its nodes: no delay, whichever is checked first
  if (goneBy(alloc, r)) return false;
  const changes: number[] = [];
  let touched = false;
  let fits = true;
  for (const n of alloc.nodes) {
    if (!r.partitionNodes.has(n.name)) continue;
    touched = true;
    if (r.time === Infinity) return true;
    const u = atReservedTime(r, usage, n.name);
    if (!u) continue;
    const before = capOf(r.request, u);
    const after = capWithShare(r.request, u, n, alloc.exclusive);
    changes.push(before, after);
    count(r, before, -1);
    count(r, after, 1);
    // Each node only loses capacity: once the job no longer fits, the rest cannot mend it.
    // Checked after 1, 2, 4, ... nodes, so the checks cost at most as much again as the walk.
    const k = changes.length >>> 1;
    if ((k & (k - 1)) === 0 && !capacitiesHold(r.request, r.counts, r.usable)) {
      fits = false;
      break;
    }
  }
  if (fits) fits = capacitiesHold(r.request, r.counts, r.usable);
  for (let i = 0; i < changes.length; i += 2) {
    count(r, changes[i + 1]!, -1);
    count(r, changes[i]!, 1);
  }
  return touched && !fits;
}

/**
 * Starts `alloc` now in the cluster's state, and keeps every reservation's outlook at its time
 * true (the nodes it still holds then lose capacity; on the nodes it has left by then, the
 * usage then is pinned to what it is now).
 */
export function startAllocation(
  state: ClusterState,
  reservations: readonly HeldReservation[],
  alloc: RunningAllocation,
): void {
  const usage = state.usage;
  // per reservation still holding the nodes at its time: those nodes and their capacities before
  const recount: { r: HeldReservation; nodes: AllocatedNode[]; before: number[] }[] = [];
  for (const r of reservations) {
    if (r.time === Infinity) continue;
    const gone = goneBy(alloc, r);
    let held: { r: HeldReservation; nodes: AllocatedNode[]; before: number[] } | undefined;
    for (const n of alloc.nodes) {
      if (!r.partitionNodes.has(n.name)) continue;
      if (gone) {
        const live = usage.get(n.name);
        if (live && !r.atTime.has(n.name)) r.atTime.set(n.name, { ...live });
        continue;
      }
      held ??= { r, nodes: [], before: [] };
      const u = atReservedTime(r, usage, n.name);
      held.nodes.push(n);
      held.before.push(u ? capOf(r.request, u) : 0);
    }
    if (!held) continue;
    // held at T though it ends by T (not gone by the rounded-down start): unlike a walk's outlook
    if (alloc.endTime !== null && alloc.endTime <= r.time) r.inexact = true;
    recount.push(held);
  }
  state.start(alloc);
  for (const { r, nodes, before } of recount) {
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i]!;
      const later = r.atTime.get(n.name);
      if (later) shiftShare(later, n, alloc.exclusive, 1);
      const u = later ?? usage.get(n.name);
      count(r, before[i]!, -1);
      count(r, u ? capOf(r.request, u) : 0, 1);
    }
  }
}
