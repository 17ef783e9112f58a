/**
 * Keeping a reservation's outlook (availability.ts) true across job ends, PURE, so that a
 * replay does not walk the availability profile again after every end: planOutlook costs the
 * nodes of every allocation it releases, this costs the nodes of the allocation that ended,
 * plus, when the job now fits earlier, those of the allocations between the new time and the old.
 *
 * Why it gives what planOutlook would: the outlook at time T is the live usage with every
 * allocation that ends by T released. When an allocation ends (early, or overdue):
 * - if it ends by T, the outlook already has it released and stays true;
 * - else (it ends after T, or never) its nodes' usage at T loses its share.
 * Capacities only grow, so the job still fits at T, and it may fit earlier, but only at the
 * times before the allocation's end (nothing changed from there on): settle() steps back
 * over the earlier candidate times (now and the end times after it), putting back the
 * allocations that end at each, while the job still fits (fitting only grows with time).
 *
 * With a bf_resolution, startAllocation may keep an allocation ending just before T as
 * running at T (it is not gone by the rounded-down start), which a new walk would release:
 * such an outlook (`inexact`) is planned again after an end, as it was before.
 */
import { capacitiesHold } from '../task-capacity.js';
import { leavesTooFew, tally, type HeldReservation } from './availability.js';
import type { EndingAllocation, IndexedAllocation } from './cluster-state.js';
import { shareAt } from './shares.js';
import type { Share, UsageTable } from './usage-table.js';

/**
 * Ends `alloc` (remove() takes it out of the live usage) and keeps the outlooks of these
 * reservations true; returns the reservations it could keep (the others must be planned again).
 */
export function endInOutlooks(
  reservations: readonly HeldReservation[],
  alloc: IndexedAllocation,
  live: UsageTable,
  remove: () => void,
): HeldReservation[] {
  // an unknown time ("never") may become known: walk again
  const kept = reservations.filter((r) => !r.inexact && r.time !== Infinity);
  // the reservations whose usage at T is the live usage on some of the job's nodes
  const recount: HeldReservation[] = [];
  const { at } = alloc;
  for (const r of kept) {
    if (alloc.endTime !== null && alloc.endTime <= r.time) {
      // Released at T already. The outlook at any time from its end on is the same as before,
      // so the job still does not fit before T there, nor (fitting only grows with time)
      // earlier: it can fit earlier only if it ended at T itself.
      if (alloc.endTime === r.time) r.unsettled = true;
      continue;
    }
    r.unsettled = true;
    let onLive = false;
    const later = r.atTime;
    for (let k = 0; k < at.length; k++) {
      const i = at[k]!;
      if (r.members[i] !== 1) continue;
      if (later.has[i] === 1) shiftShare(r, i, shareAt(alloc, k, later, i), alloc.exclusive, -1);
      else onLive = true;
    }
    if (onLive) recount.push(r);
  }
  // not in atTime: the usage at T is the live usage, which loses the share in remove(); taken
  // out of the tallies before, and in again after (atTime does not change in between)
  retallyLive(recount, at, live, -1);
  remove();
  retallyLive(recount, at, live, 1);
  return kept;
}

/** Takes out of (d = -1) or into (d = 1) each outlook's tallies the job's nodes whose usage at its time is the live usage. */
function retallyLive(outlooks: readonly HeldReservation[], at: readonly number[], live: UsageTable, d: 1 | -1): void {
  for (const r of outlooks) {
    for (let k = 0; k < at.length; k++) {
      const i = at[k]!;
      if (r.members[i] === 1 && r.atTime.has[i] !== 1) tally(r, r.request, live, i, d);
    }
  }
}

/** Adds (d = 1) or takes out (d = -1) one allocation's share of node i's usage at r's time (its own copy). */
function shiftShare(r: HeldReservation, i: number, n: Share, exclusive: boolean, d: 1 | -1): void {
  const then = r.atTime;
  tally(r, r.request, then, i, -1);
  then.shift(i, n, exclusive, d);
  tally(r, r.request, then, i, 1);
}

/** First index of `ending` (sorted by end time) whose end is after t. */
function firstEndingAfter(ending: readonly EndingAllocation[], t: number): number {
  let lo = 0;
  let hi = ending.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ending[mid]!.endTime <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Puts back (d = 1) or releases again (d = -1) these allocations in r's outlook. */
function shiftAll(r: HeldReservation, allocs: readonly EndingAllocation[], d: 1 | -1): void {
  const then = r.atTime;
  for (const a of allocs) {
    for (let k = 0; k < a.at.length; k++) {
      // released allocations' partition nodes are all in atTime (planOutlook, startAllocation)
      const i = a.at[k]!;
      if (r.members[i] === 1 && then.has[i] === 1) shiftShare(r, i, shareAt(a, k, then, i), a.exclusive, d);
    }
  }
}

/**
 * The partition's free CPUs just before r's time, were these allocations (ending at it) put
 * back: what putting them back would leave in r.freeCpus, without changing anything.
 */
function freeCpusWith(r: HeldReservation, allocs: readonly EndingAllocation[]): number {
  let free = r.freeCpus;
  const then = r.atTime;
  for (const a of allocs) {
    for (let k = 0; k < a.at.length; k++) {
      const i = a.at[k]!;
      if (r.members[i] !== 1 || then.has[i] !== 1) continue;
      const was = then.freeCpus(i);
      // as shiftShare would leave it: its share back, and held whole if exclusive
      const usable = then.inService[i] === 1 && then.exclusive[i] === 0 && !a.exclusive;
      const now = usable ? then.nodeCpus[i]! - then.cpus[i]! - shareAt(a, k, then, i).cpus : 0;
      free += now - was;
    }
  }
  return free;
}

/**
 * After ends (endInOutlooks), moves r's time back to the earliest time >= now at which its job
 * fits, as planOutlook's walk would find it. `ending`: the running allocations by end time.
 */
export function settle(r: HeldReservation, ending: readonly EndingAllocation[], now: number): void {
  if (!r.unsettled) return;
  r.unsettled = false;
  let hi = firstEndingAfter(ending, r.time);
  while (r.time > now) {
    let lo = hi;
    while (lo > 0 && ending[lo - 1]!.endTime === r.time) lo--;
    // the candidate before r.time: the last end time after now, else now itself
    const before = lo > 0 && ending[lo - 1]!.endTime > now ? ending[lo - 1]!.endTime : now;
    const group = ending.slice(lo, hi);
    // fewer free CPUs than the job needs: it does not fit then (checked without the shift)
    if (leavesTooFew(r, freeCpusWith(r, group))) return;
    shiftAll(r, group, 1);
    if (!capacitiesHold(r.request, r.counts, r.usable)) {
      shiftAll(r, group, -1);
      return;
    }
    r.time = before;
    hi = lo;
  }
}
