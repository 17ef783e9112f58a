/**
 * A replay's waiting jobs in submit order, indexed (pure): every job of the trace has a slot
 * (its place in submit order), filled when it is submitted and emptied when it starts. A
 * segment tree over the slots keeps, per range, how many jobs wait and the fewest CPUs any of
 * them needs, so that the scheduling pass can read the k-th waiting job and jump to the next
 * one small enough for what is free in O(log n) each, however long the queue.
 */
import type { QueuedRequest, SchedulerQueue } from '../backends/simulator/scheduler.js';

export class WaitingIndex {
  private readonly size: number;
  /** per tree node: waiting jobs below it */
  private readonly count: Int32Array;
  /** per tree node: the fewest CPUs a waiting job below it needs (Infinity: none waits) */
  private readonly least: Float64Array;
  private readonly jobs: (QueuedRequest | undefined)[];
  /** Bumped by every add and remove (a rank read before is stale after). */
  private changes = 0;
  private view: QueueView | null = null;

  constructor(slots: number) {
    let size = 1;
    while (size < Math.max(1, slots)) size *= 2;
    this.size = size;
    this.count = new Int32Array(2 * size);
    this.least = new Float64Array(2 * size).fill(Infinity);
    this.jobs = new Array(slots);
  }

  /** Jobs waiting. */
  get waiting(): number {
    return this.count[1]!;
  }

  add(slot: number, job: QueuedRequest, cpus: number): void {
    this.jobs[slot] = job;
    this.set(slot, 1, cpus);
  }

  remove(slot: number): void {
    this.jobs[slot] = undefined;
    this.set(slot, 0, Infinity);
  }

  /** The slot of the k-th waiting job (0-based); -1 past the last. */
  slotOf(k: number): number {
    if (k < 0 || k >= this.waiting) return -1;
    let node = 1;
    while (node < this.size) {
      const left = this.count[2 * node]!;
      if (k < left) node = 2 * node;
      else {
        k -= left;
        node = 2 * node + 1;
      }
    }
    return node - this.size;
  }

  /** How many jobs wait in slots before `slot`. */
  rankOf(slot: number): number {
    let rank = 0;
    for (let node = slot + this.size; node > 1; node >>= 1) if (node & 1) rank += this.count[node - 1]!;
    return rank;
  }

  /** The first slot >= from holding a waiting job that needs at most `cpus`; -1 if none. */
  firstFitting(from: number, cpus: number): number {
    if (from >= this.size) return -1;
    // climb from the leaf: the first subtree to the right of `from` (or from itself) with a fit
    let node = from + this.size;
    if (this.least[node]! <= cpus) return from;
    for (;;) {
      while (node & 1) {
        node >>= 1;
        if (node <= 1) return -1;
      }
      node += 1;
      if (this.least[node]! <= cpus) break;
    }
    while (node < this.size) node = this.least[2 * node]! <= cpus ? 2 * node : 2 * node + 1;
    return node - this.size;
  }

  job(slot: number): QueuedRequest {
    return this.jobs[slot]!;
  }

  /**
   * The first `limit` waiting jobs as the scheduling pass reads them: one view, set to this
   * limit by each call (a replay runs a pass per event; read it before the next call).
   */
  queue(limit: number): SchedulerQueue {
    const view = (this.view ??= new QueueView(this));
    view.length = Math.min(limit, this.waiting);
    return view;
  }

  /** Bumped by every add and remove. */
  get version(): number {
    return this.changes;
  }

  private set(slot: number, present: 0 | 1, cpus: number): void {
    this.changes++;
    let node = slot + this.size;
    this.count[node] = present;
    this.least[node] = cpus;
    for (node >>= 1; node >= 1; node >>= 1) {
      this.count[node] = this.count[2 * node]! + this.count[2 * node + 1]!;
      this.least[node] = Math.min(this.least[2 * node]!, this.least[2 * node + 1]!);
    }
  }
}

/** WaitingIndex.queue's view. */
class QueueView implements SchedulerQueue {
  length = 0;
  /** The rank nextNeedingAtMost found last and its slot, at the index's version then: the pass reads that job next. */
  private found = { rank: -1, slot: -1, version: -1 };

  constructor(private readonly index: WaitingIndex) {}

  at(rank: number): QueuedRequest {
    const f = this.found;
    const slot = f.rank === rank && f.version === this.index.version ? f.slot : this.index.slotOf(rank);
    return this.index.job(slot);
  }

  nextNeedingAtMost(from: number, cpus: number): number {
    const index = this.index;
    const at = index.slotOf(from);
    const slot = at < 0 ? -1 : index.firstFitting(at, cpus);
    if (slot < 0) return this.length;
    const rank = index.rankOf(slot);
    if (rank >= this.length) return this.length;
    const f = this.found;
    f.rank = rank;
    f.slot = slot;
    f.version = index.version;
    return rank;
  }
}
