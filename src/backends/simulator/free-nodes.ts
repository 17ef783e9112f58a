/**
 * Which nodes of a partition have a free CPU, PURE: a bitset over the partition's positions,
 * and the numbers of the set ones' nodes in partition order, rebuilt only when read after a
 * change.
 * A start or end flips the bits of the job's nodes in O(1) each (a sorted array would move
 * the whole tail per node); the scheduling pass reads the list between changes, and building
 * it costs the partition's words (32 nodes each) plus the free nodes.
 */
export class FreeNodes {
  private readonly bits: Uint32Array;
  private list: number[] | null = null;

  /** numbers[p]: the number of the node at position p (-1: a node never marked free) */
  constructor(private readonly numbers: Int32Array) {
    this.bits = new Uint32Array((numbers.length + 31) >>> 5);
  }

  /** Marks the node at this position (in partition order) as having a free CPU or not. */
  set(position: number, free: boolean): void {
    const word = position >>> 5;
    const bit = 1 << (position & 31);
    const was = this.bits[word]!;
    // (>>> 0: the word as the array holds it, unsigned, so that an unchanged word compares equal)
    const now = (free ? was | bit : was & ~bit) >>> 0;
    if (now === was) return;
    this.bits[word] = now;
    this.list = null;
  }

  /**
   * The first position >= from of a node with a free CPU, or -1: a walk in partition order
   * that stops where its reader does (a placement reads only the first nodes that hold it).
   */
  nextSet(from: number): number {
    let w = from >>> 5;
    if (w >= this.bits.length) return -1;
    let word = this.bits[w]! & (~0 << (from & 31));
    while (word === 0) {
      if (++w >= this.bits.length) return -1;
      word = this.bits[w]!;
    }
    return (w << 5) + 31 - Math.clz32(word & -word);
  }

  /** The number of the node at this position (-1: none). */
  nodeAt(position: number): number {
    return this.numbers[position]!;
  }

  has(position: number): boolean {
    return (this.bits[position >>> 5]! & (1 << (position & 31))) !== 0;
  }

  /** The numbers of the nodes with a free CPU, in partition order (do not keep it across changes). */
  nodes(): readonly number[] {
    if (this.list) return this.list;
    const out: number[] = [];
    for (let w = 0; w < this.bits.length; w++) {
      let word = this.bits[w]!;
      while (word !== 0) {
        // the lowest set bit first: partition order
        const low = word & -word;
        const i = this.numbers[(w << 5) + 31 - Math.clz32(low)]!;
        if (i >= 0) out.push(i);
        word ^= low;
      }
    }
    this.list = out;
    return out;
  }
}
