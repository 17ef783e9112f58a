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
import type { ResourceRequest } from '../resource-backend.js';
import { capacitiesHold } from '../task-capacity.js';
import type { SimulatedPartitionSpec } from './cluster-spec.js';
import type { ClusterState, EndingAllocation, IndexedAllocation, NodeSet } from './cluster-state.js';
import { emptyAtTime } from './usage-copies.js';
import type { Choice } from './placement.js';
import { shareAt, sharedMemory, shareTerms, shareWith, type ShareTerms } from './shares.js';
import type { Share, UsageTable } from './usage-table.js';

export type { EndingAllocation, NodeSet } from './cluster-state.js';

/**
 * Is `alloc` gone by the reservation's time, so that it cannot delay it? Textbook EASY: when it
 * ends by then. SLURM's sched/backfill (22.05): the blocked job's expected start (computed on
 * exact end times) goes into the backfill map rounded down to bf_resolution, and a job whose
 * exact end is at or after the start of that slot overlaps it (`begin_time <= end_time`).
 */
export function goneBy(endTime: number | null, r: HeldReservation): boolean {
  if (endTime === null) return false;
  if (r.resolution === null) return endTime <= r.time;
  return endTime < Math.floor(r.time / r.resolution) * r.resolution;
}

/**
 * A job's outlook on its partition at one future time: the usage of the nodes that differ
 * from the live usage then (`atTime`: those with has[i] 1), and the job's task capacity on every
 * partition node then, kept as counts by capacity (counts[c] = nodes that take c tasks,
 * `usable` = nodes that take any).
 */
export interface Outlook {
  /** ms; Infinity = the job never fits with the known end times */
  time: number;
  atTime: UsageTable;
  counts: number[];
  usable: number;
  /**
   * The partition's free CPUs then (UsageTable.freeCpus summed over its nodes' usage then): the reserved
   * job fits only if it needs no more, which tells, without placing it, that a job still
   * running then and taking more than the difference delays it (surelyDelays).
   */
  freeCpus: number;
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
  /** The partition's nodes, by number. */
  members: NodeSet;
  /** Something ended since the time was found: the job may now fit earlier (outlook-upkeep.ts). */
  unsettled?: boolean;
  /**
   * A job started that ends by the time but is not gone by it (bf_resolution) is counted as
   * running then, where a new walk would release it: the outlook is not a walk's (outlook-upkeep.ts).
   */
  inexact?: boolean;
}

/** One reusable share and terms: the delay test computes one per node it looks at, and keeps none. */
const scratch: Share = { cpus: 0, memoryMiB: 0, gpus: 0 };
const scratchTerms: ShareTerms = shareTerms({ exclusive: false, cpusPerTask: 1, gpusPerNode: 0 } as ResourceRequest);

/** Tasks of `req` node i of table t can take, as tryPlace counts them (`idle`: UsageTable.capacityOf's). */
export const capOf = (req: ResourceRequest, t: UsageTable, i: number, idle?: Float64Array): number =>
  Math.min(idle === undefined ? t.capacity(req, i) : t.capacityOf(req, i, idle), req.tasks);

/** The tasks of `req` node i of table t could take with one more allocation's share on it. */
function capWithShare(req: ResourceRequest, t: UsageTable, i: number, n: Share, exclusive: boolean): number {
  const was = t.exclusive[i]!;
  t.shift(i, n, exclusive, 1);
  const cap = capOf(req, t, i);
  // undone field by field: t may be the live usage, read by nobody meanwhile
  t.shift(i, n, false, -1);
  t.exclusive[i] = was;
  return cap;
}

/** The table holding node i's usage at the outlook's time: its own copy, else the live usage. */
export const usageThen = (o: Outlook, live: UsageTable, i: number): UsageTable => (o.atTime.has[i] === 1 ? o.atTime : live);

/**
 * Takes node i of table t, as it is at the outlook's time, out of (d = -1) or into (d = 1) the
 * outlook's tallies: its task capacity for `req` (counts) and its free CPUs.
 */
export function tally(o: Outlook, req: ResourceRequest, t: UsageTable, i: number, d: 1 | -1, idle?: Float64Array): void {
  count(o, capOf(req, t, i, idle), d);
  o.freeCpus += d * t.freeCpus(i);
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
 * partition, releasing the `ending` allocations (sorted by end time) from the live usage,
 * with the job's outlook at that time. `takingNow` holds the numbers of every partition node
 * that can take a task of `req` now (e.g. those with a free CPU).
 * O(takingNow + nodes of the released allocations).
 */
export function planOutlook(
  req: ResourceRequest,
  takingNow: readonly number[],
  members: NodeSet,
  maxNodeCpus: number,
  live: UsageTable,
  ending: Iterable<EndingAllocation>,
  now: number,
): Outlook {
  const atTime = emptyAtTime(live);
  const counts = new Array<number>(capBound(req, maxNodeCpus) + 1).fill(0);
  const out: Outlook = { time: now, atTime, counts, usable: 0, freeCpus: 0 };
  // (a node not taking a task now has no free CPU now: nothing to tally, and no task)
  const idle = live.idleCapacities();
  // each node's tasks as counted (0 for the others): what a release takes out is read here,
  // not computed again
  const counted = countedScratch(live.size);
  for (const i of takingNow) {
    const c = capOf(req, live, i, idle);
    count(out, c, 1);
    counted[i] = c;
    out.freeCpus += live.freeCpus(i);
  }
  const release = (a: EndingAllocation): void => {
    if (a.terms !== null && !a.exclusive) return releaseShared(out, req, a, members, live, idle, counted);
    const { at } = a;
    for (let k = 0; k < at.length; k++) {
      const i = at[k]!;
      if (members[i] !== 1) continue;
      if (atTime.has[i] !== 1) atTime.copyNode(live, i);
      const freeBefore = atTime.freeCpus(i);
      atTime.shift(i, shareAt(a, k, atTime, i), a.exclusive, -1);
      const c = capOf(req, atTime, i, idle);
      if (c !== counted[i]) {
        count(out, counted[i]!, -1);
        count(out, c, 1);
        counted[i] = c;
      }
      out.freeCpus += atTime.freeCpus(i) - freeBefore;
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
 * planOutlook's release of a shared allocation whose shares are computed (a replay's every
 * one): the same steps, in one loop over the outlook's arrays read once (as
 * UsageTable.shiftShared does a start's); with a call and a share object per node, releases
 * were a fifth of an EASY replay's profile, now a tenth. A shared share leaves a node as
 * usable as it was: its free CPUs change by the share's CPUs when usable, else not at all.
 */
function releaseShared(
  out: Outlook,
  req: ResourceRequest,
  a: EndingAllocation,
  members: NodeSet,
  live: UsageTable,
  idle: Float64Array,
  counted: Int32Array,
): void {
  const { at, terms } = a;
  const tasks = a.tasks!;
  const atTime = out.atTime;
  const { has, inService, exclusive, cpus, memoryMiB, gpus, allocations, defaultMemPerCpu } = atTime;
  const cpt = terms!.cpusPerTask;
  const g = terms!.gpusPerNode;
  for (let k = 0; k < at.length; k++) {
    const i = at[k]!;
    if (members[i] !== 1) continue;
    if (has[i] !== 1) atTime.copyNode(live, i);
    const c = tasks[k]! * cpt;
    cpus[i]! -= c;
    memoryMiB[i]! -= sharedMemory(terms!, c, defaultMemPerCpu[i]!);
    gpus[i]! -= g;
    allocations[i]! -= 1;
    if (inService[i] === 1 && exclusive[i] === 0) out.freeCpus += c;
    const cap = capOf(req, atTime, i, idle);
    if (cap !== counted[i]) {
      count(out, counted[i]!, -1);
      count(out, cap, 1);
      counted[i] = cap;
    }
  }
}

/** planOutlook's per-node scratch, all 0 (reused: one plan at a time). */
let countedNodes = new Int32Array(0);
function countedScratch(n: number): Int32Array {
  if (countedNodes.length < n) countedNodes = new Int32Array(n);
  else countedNodes.fill(0, 0, n);
  return countedNodes;
}

/** The CPUs a request's tasks take in all. */
export const cpusOf = (req: ResourceRequest): number => req.tasks * req.cpusPerTask;

/**
 * Whether the reserved job cannot start at its time with only this many of its partition's
 * CPUs free then: it needs at least its own CPUs (a node takes no more tasks than its free
 * CPUs hold: task-capacity.ts). Read without changing the outlook, where a test of the counts
 * would first have to change them.
 */
export const leavesTooFew = (r: HeldReservation, freeCpusThen: number): boolean => freeCpusThen < cpusOf(r.request);

/**
 * Whether the job would delay one of these reservations wherever it went, told without placing
 * it: one still running at the reserved time, in the reserved job's partition, holds its CPUs
 * then (they are free now, so free then too), which may leave the reserved job too few
 * (leavesTooFew). A job that delays none by this test goes through delaysReservation.
 */
export function surelyDelays(
  reservations: readonly HeldReservation[],
  req: ResourceRequest,
  partition: SimulatedPartitionSpec,
  endTime: number | null,
): boolean {
  for (const r of reservations) {
    if (r.time === Infinity || r.partition.name !== partition.name || goneBy(endTime, r)) continue;
    if (leavesTooFew(r, r.freeCpus - cpusOf(req))) return true;
  }
  return false;
}

/** A job about to start now: what it asked for, where it would go, until when. */
export interface Candidate {
  request: ResourceRequest;
  choice: Choice;
  /** The live usage (ClusterState.table). */
  live: UsageTable;
  /** null = no time limit */
  endTime: number | null;
}


/**
 * Would starting `c` now delay reservation r? Not when it uses none of the partition's
 * nodes or ends by the reserved time; else (EASY's extra nodes) only when the reserved job no
 * longer fits at its reserved time with `c` still running. An unknown time cannot be
 * checked: any job that touches the partition and never ends delays it.
 */
export function delaysReservation(r: HeldReservation, c: Candidate): boolean {
  // gone by the reserved time, or touching none of its nodes: no delay, whichever is checked first
  if (goneBy(c.endTime, r)) return false;
  const { at, tasksPerNode } = c.choice;
  const terms = shareTerms(c.request, scratchTerms);
  const changes: number[] = [];
  let touched = false;
  let fits = true;
  for (let k = 0; k < at.length; k++) {
    const i = at[k]!;
    if (r.members[i] !== 1) continue;
    touched = true;
    if (r.time === Infinity) return true;
    const u = usageThen(r, c.live, i);
    const before = capOf(r.request, u, i);
    const share = shareWith(terms, u.specs[i]!, u.defaultMemPerCpu[i]!, tasksPerNode[k]!, scratch);
    const after = capWithShare(r.request, u, i, share, c.request.exclusive);
    changes.push(before, after);
    count(r, before, -1);
    count(r, after, 1);
    // Each node only loses capacity: once the job no longer fits, the rest cannot mend it.
    // Checked after 1, 2, 4, ... nodes, so the checks cost at most as much again as the walk.
    const n = changes.length >>> 1;
    if ((n & (n - 1)) === 0 && !capacitiesHold(r.request, r.counts, r.usable)) {
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
  alloc: IndexedAllocation,
): void {
  const { at } = alloc;
  const live = state.table;
  // the reservations still holding some of the nodes at their time whose usage then is the
  // live usage: those nodes are taken out of their tallies before the start, and in after
  const retally: HeldReservation[] = [];
  for (const r of reservations) {
    if (r.time === Infinity) continue;
    const gone = goneBy(alloc.endTime, r);
    let touched = false;
    let onLive = false;
    for (let k = 0; k < at.length; k++) {
      const i = at[k]!;
      if (r.members[i] !== 1) continue;
      touched = true;
      const later = r.atTime;
      if (gone) {
        // its usage then is pinned to what it is now
        if (later.has[i] !== 1) later.copyNode(live, i);
        continue;
      }
      if (later.has[i] === 1) {
        // its own copy of the usage then: changed here, not by the start
        tally(r, r.request, later, i, -1);
        later.shift(i, shareAt(alloc, k, later, i), alloc.exclusive, 1);
        tally(r, r.request, later, i, 1);
      } else {
        tally(r, r.request, live, i, -1);
        onLive = true;
      }
    }
    // held at T though it ends by T (not gone by the rounded-down start): unlike a walk's outlook
    if (touched && !gone && alloc.endTime !== null && alloc.endTime <= r.time) r.inexact = true;
    if (onLive) retally.push(r);
  }
  state.start(alloc);
  for (const r of retally) {
    for (let k = 0; k < at.length; k++) {
      const i = at[k]!;
      if (r.members[i] === 1 && r.atTime.has[i] !== 1) tally(r, r.request, live, i, 1);
    }
  }
}
