/**
 * The simulator backend's pending jobs in queue order, kept sorted as they come and go
 * (binary insertion and removal), so a pass reads the head of the queue instead of sorting
 * every pending job again: O(depth) per pass rather than O(queue log queue).
 */
export class SortedQueue<T> {
  private readonly items: T[] = [];

  /** `order` must be a total order over the items (no two distinct items compare equal). */
  constructor(private readonly order: (a: T, b: T) => number) {}

  get length(): number {
    return this.items.length;
  }

  /** The items in order, as they are now (the array changes with the queue; do not keep it). */
  get view(): readonly T[] {
    return this.items;
  }

  insert(x: T): void {
    const at = this.indexOf(x, true);
    if (at === this.items.length) this.items.push(x);
    else this.items.splice(at, 0, x);
  }

  remove(x: T): void {
    const at = this.indexOf(x, false);
    if (this.items[at] === x) this.items.splice(at, 1);
    else {
      // Only when the order is not total after all: fall back to a scan.
      const i = this.items.indexOf(x);
      if (i >= 0) this.items.splice(i, 1);
    }
  }

  /** Removes, among the first `n` items, those `keep` rejects (one pass, order kept). */
  filterHead(n: number, keep: (x: T) => boolean): void {
    const q = this.items;
    const end = Math.min(n, q.length);
    let kept = 0;
    for (let i = 0; i < end; i++) {
      const x = q[i]!;
      if (keep(x)) q[kept++] = x;
    }
    if (kept < end) {
      q.copyWithin(kept, end);
      q.length -= end - kept;
    }
  }

  /** Index of the first item after `x` (after = true) or not before `x` (after = false). */
  private indexOf(x: T, after: boolean): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.order(this.items[mid]!, x);
      if (c < 0 || (after && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
