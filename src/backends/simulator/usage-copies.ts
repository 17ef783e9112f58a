/**
 * The tables an outlook keeps of its nodes' usage at its time (availability.ts `atTime`: the
 * nodes whose usage then differs from the live usage), reused once the outlook is dropped. A
 * replay plans thousands of outlooks, most of which outlive a young-generation collection:
 * made afresh, they kept the collector busy.
 *
 * ClusterState, the one holder of outlooks from pass to pass, gives back those it drops
 * (dropOutlook). Outlooks never given back (a live pass's, whose state is thrown away with
 * it; a test's) are left to the garbage collector. A dropped outlook's `atTime` throws when
 * read: a use after the drop is a bug, and shows as one.
 */
import type { Outlook } from './availability.js';
import type { UsageTable } from './usage-table.js';

const spare: UsageTable[] = [];

/** What a dropped outlook's atTime becomes: any read of it throws. */
const DROPPED = new Proxy({} as UsageTable, {
  get() {
    throw new Error('an outlook was read after ClusterState dropped it');
  },
});

/** An outlook's atTime for the nodes of this live table: no node's usage differs yet. */
export function emptyAtTime(live: UsageTable): UsageTable {
  const t = spare.pop();
  // (spares are of the one cluster a replay runs; another's are left to the collector)
  if (t !== undefined && t.specs === live.specs) return t;
  return live.blank();
}

/** Gives back an outlook nothing will read again: its table is reused. */
export function dropOutlook(o: Outlook): void {
  const t = o.atTime;
  if (t === DROPPED) return;
  // only `has` tells what the table holds: the other arrays are written before they are read
  t.has.fill(0);
  spare.push(t);
  o.atTime = DROPPED;
}
