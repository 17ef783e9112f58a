/**
 * The node-usage copies an outlook keeps (availability.ts: a node's usage at the outlook's
 * time, where it differs from the live usage), reused once the outlook is dropped. A replay
 * plans thousands of outlooks of hundreds of copies each, most of which outlive a young-
 * generation collection: made afresh, they were a third of what a 100k-job replay allocated,
 * and the collector's time was a fifth of its run.
 *
 * ClusterState, the one holder of outlooks from pass to pass, gives back those it drops
 * (dropOutlook). Outlooks never given back (a live pass's, whose state is thrown away with
 * it; a test's) are left to the garbage collector. A dropped outlook's `atTime` throws when
 * read: a use after the drop is a bug, and shows as one.
 */
import type { Outlook } from './availability.js';
import type { NodeUsage } from './placement.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const spareCopies: Mutable<NodeUsage>[] = [];
const spareArrays: (NodeUsage | undefined)[][] = [];

/** What a dropped outlook's atTime becomes: any read of it throws. */
const DROPPED = new Proxy([] as (NodeUsage | undefined)[], {
  get() {
    throw new Error('an outlook was read after ClusterState dropped it');
  },
});

/** A copy of node usage u, for an outlook to change. */
export function copyOfUsage(u: NodeUsage): NodeUsage {
  const c = spareCopies.pop();
  if (c === undefined) return { ...u };
  c.node = u.node;
  c.index = u.index;
  c.inService = u.inService;
  c.cpus = u.cpus;
  c.memoryMiB = u.memoryMiB;
  c.gpus = u.gpus;
  c.exclusive = u.exclusive;
  c.allocations = u.allocations;
  return c;
}

/** An outlook's atTime for a cluster of n nodes: no node's usage differs yet. */
export function emptyAtTime(n: number): (NodeUsage | undefined)[] {
  const spare = spareArrays.pop();
  if (spare !== undefined && spare.length === n) return spare;
  return new Array<NodeUsage | undefined>(n).fill(undefined);
}

/** Gives back an outlook nothing will read again: its copies and its atTime are reused. */
export function dropOutlook(o: Outlook): void {
  const a = o.atTime;
  if (a === DROPPED) return;
  for (let i = 0; i < a.length; i++) {
    const u = a[i];
    if (u === undefined) continue;
    spareCopies.push(u);
    a[i] = undefined;
  }
  spareArrays.push(a);
  o.atTime = DROPPED;
}
