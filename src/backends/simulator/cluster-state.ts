/**
 * The simulated cluster's allocations as the scheduling pass reads them, PURE and incremental:
 * per-node usage, the allocations that end sorted by end time (the availability profile's
 * input), and per partition the nodes with a free CPU (in partition order) and the free CPUs.
 *
 * The live backend builds one per pass from its running allocations (scheduler.ts schedule());
 * a replay (simulate/replay.ts) keeps one for the whole trace and tells it of each start and
 * end, so that a pass costs what changed, not the cluster's size. It also carries from pass to
 * pass what a pass learnt that stays true: the reservations (through ends too), and the jobs
 * found unable to start, until the next start or end.
 */
import type { AllocatedNode, ResourceRequest } from '../resource-backend.js';
import type { HeldReservation } from './availability.js';
import type { SimPendingReason } from './scheduler.js';
import type { SimulatedClusterSpec, SimulatedPartitionSpec } from './cluster-spec.js';
import { allocatedNodes } from './placement.js';
import { shareAt, type Shares } from './shares.js';
import { endInOutlooks, settle } from './outlook-upkeep.js';
import { FreeNodes } from './free-nodes.js';
import { dropOutlook } from './usage-copies.js';
import { UsageTable, type NodeAdminState, type NodeUsage, type RunningAllocation } from './usage-table.js';

/**
 * An allocation as the cluster's state holds it: with its nodes' numbers (UsageTable),
 * same order as `nodes`; -1 for a name the cluster does not have.
 */
export interface IndexedAllocation extends Shares {
  readonly id: string;
  readonly exclusive: boolean;
  /** ms since epoch; null = no time limit */
  readonly endTime: number | null;
  readonly at: readonly number[];
  /** Given with its AllocatedNodes (a RunningAllocation), or null: made from the request. */
  readonly nodes: readonly AllocatedNode[] | null;
  /** The request it was started for (null: given with its nodes). */
  readonly request: ResourceRequest | null;
}

export type EndingAllocation = IndexedAllocation & { endTime: number };

/** Membership in a partition by node number: 1 for its nodes. */
export type NodeSet = Uint8Array;

/** A partition's index: which of its nodes have a free CPU, kept in partition order. */
interface PartitionIndex {
  spec: SimulatedPartitionSpec;
  /** positions of the nodes with a free CPU, ascending, and their numbers (same order) */
  free: FreeNodes;
  freeCpus: number;
  maxNodeCpus: number;
  members: NodeSet;
}


export class ClusterState {
  /** The live usage, by node number. */
  readonly table: UsageTable;
  private readonly allocations = new Map<string, IndexedAllocation>();
  /** Sorted by end time; at equal times, in the order they were added. */
  private readonly ending: EndingAllocation[];
  private readonly partitions = new Map<string, PartitionIndex>();
  /** By node number: the partitions it belongs to, and its position in each (same order). */
  private readonly partitionsOf: PartitionIndex[][];
  private readonly positionsOf: number[][];
  /**
   * The one partition, when it holds every node in node order (position = number): the usual
   * cluster, and a replay's. apply() then updates it without going through the lists above
   * (chasing two arrays per node was a quarter of a start's or an end's cost).
   */
  private readonly whole: PartitionIndex | null;
  /** Bumped by every start and end. */
  private version = 0;
  /**
   * By bf_resolution (null: none), the last such pass's reservations by job id, true for the
   * state at `version` (kept so through ends: outlook-upkeep.ts).
   */
  private kept = new Map<number | null, { version: number; byId: Map<string, HeldReservation> }>();
  /**
   * The jobs a pass found unable to start: at which version, resolution and time, and why. An
   * entry is true only at its version; it is overwritten, not cleared (a replay notes failures
   * after every start and end), and goes when its job starts.
   */
  private readonly failed = new Map<string, { version: number; resolution: number | null; now: number; reason: SimPendingReason }>();

  constructor(
    spec: SimulatedClusterSpec,
    nodeStates: ReadonlyMap<string, NodeAdminState>,
    running: readonly RunningAllocation[] = [],
  ) {
    this.table = UsageTable.build(spec, nodeStates, running);
    this.partitionsOf = spec.nodes.map(() => []);
    this.positionsOf = spec.nodes.map(() => []);
    const held = running.map((a) => this.indexed(a));
    for (const a of held) this.allocations.set(a.id, a);
    // a stable sort: at equal end times, in the order given
    this.ending = held.filter((a): a is EndingAllocation => a.endTime !== null).sort((a, b) => a.endTime - b.endTime);
    for (const p of spec.partitions) this.partitions.set(p.name, this.indexPartition(p));
    const only = spec.partitions.length === 1 ? this.partitions.get(spec.partitions[0]!.name)! : null;
    const inNodeOrder = (p: PartitionIndex) =>
      p.spec.nodes.length === spec.nodes.length && p.spec.nodes.every((name, position) => this.table.numberOf.get(name) === position);
    this.whole = only !== null && inNodeOrder(only) ? only : null;
  }

  /** Bumped by every start and end: equal values, equal usage. */
  get changes(): number {
    return this.version;
  }

  /** The allocations holding resources now, each with its AllocatedNodes (made for those that have none). */
  runningAllocations(): RunningAllocation[] {
    const out: RunningAllocation[] = [];
    for (const a of this.allocations.values()) {
      const nodes = a.nodes ? [...a.nodes] : allocatedNodes(a.request!, { at: a.at, tasksPerNode: a.tasks! }, this.table.specs);
      out.push({ id: a.id, exclusive: a.exclusive, nodes, endTime: a.endTime });
    }
    return out;
  }

  /** The allocations that end, sorted by end time. */
  get endingByTime(): readonly EndingAllocation[] {
    return this.ending;
  }

  /** Starts an allocation now. */
  start(alloc: RunningAllocation | IndexedAllocation): void {
    this.version++;
    this.failed.delete(alloc.id);
    this.add(this.indexed(alloc));
  }

  /** The allocation with its nodes' numbers (as given when it has them). */
  indexed(alloc: RunningAllocation | IndexedAllocation): IndexedAllocation {
    if ('at' in alloc) return alloc;
    const { id, exclusive, endTime, nodes } = alloc;
    const at = nodes.map((n) => this.table.numberOf.get(n.name) ?? -1);
    return { id, exclusive, endTime, nodes, request: null, terms: null, tasks: null, at };
  }

  /**
   * Keeps a pass's reservations for the next pass. Their outlooks are true for the state as the
   * pass leaves it (the pass updated them at each start: availability.ts startAllocation).
   */
  keepReservations(resolution: number | null, reservations: readonly HeldReservation[]): void {
    // the last pass's that this one did not hold again are read by nobody now
    const old = this.kept.get(resolution);
    if (old) for (const r of old.byId.values()) if (!reservations.includes(r)) dropOutlook(r);
    // the entry is reused: a replay keeps after every pass
    const k = old ?? { version: this.version, byId: new Map<string, HeldReservation>() };
    k.version = this.version;
    k.byId.clear();
    for (const r of reservations) k.byId.set(r.id, r);
    this.kept.set(resolution, k);
  }

  /**
   * The reservation the last pass of this resolution kept for this job, when planning it again
   * at `now` would give the same: nothing has started since (ends kept it true:
   * outlook-upkeep.ts), and its time has not passed (the walk over the same end times finds the
   * same first fit at any now up to it). An inexact one (availability.ts) is never used: a
   * fresh pass releases at T the job the last pass started and held at T, and decides otherwise.
   */
  keptReservation(id: string, now: number, resolution: number | null): HeldReservation | undefined {
    const k = this.kept.get(resolution);
    const r = k?.version === this.version ? k.byId.get(id) : undefined;
    if (!r || now > r.time) return undefined;
    // an outlook unlike a walk's would decide otherwise than a fresh pass (schedule())
    if (r.inexact) return undefined;
    settle(r, this.ending, now);
    return r;
  }

  /**
   * Notes that this job could not start at `now` (it did not fit, or it would delay a
   * reservation). Until something starts or ends, a pass at a later time with the same
   * reservations finds the same: placement reads only the usage, and a later start only
   * moves the job's end later, so it is no more gone by a reserved time (SchedulingPass).
   */
  noteFailed(id: string, now: number, resolution: number | null, reason: SimPendingReason): void {
    const at = this.failed.get(id);
    if (at === undefined) this.failed.set(id, { version: this.version, resolution, now, reason });
    else {
      at.version = this.version;
      at.resolution = resolution;
      at.now = now;
      at.reason = reason;
    }
  }

  /** Why a pass at this version and resolution found this job unable to start at or before `now`, if one did. */
  failedBefore(id: string, now: number, resolution: number | null): SimPendingReason | undefined {
    const at = this.failed.get(id);
    return at !== undefined && at.version === this.version && at.resolution === resolution && at.now <= now ? at.reason : undefined;
  }

  /** Ends the allocation with this id (no-op for an unknown id); returns it. */
  end(id: string): IndexedAllocation | undefined {
    const alloc = this.allocations.get(id);
    if (!alloc) return undefined;
    const kept: HeldReservation[] = [];
    for (const k of this.kept.values()) {
      for (const r of k.byId.values()) {
        if (k.version === this.version) kept.push(r);
        else dropOutlook(r);
      }
      // emptied, refilled below with those still true (entries are reused)
      k.byId.clear();
    }
    this.version++;
    const remove = () => {
      this.allocations.delete(id);
      this.apply(alloc, -1);
      if (alloc.endTime !== null) this.ending.splice(this.positionInEnding(alloc as EndingAllocation), 1);
    };
    const still = endInOutlooks(kept, alloc, this.table, remove);
    for (const r of still) {
      const k = this.kept.get(r.resolution)!;
      k.version = this.version;
      k.byId.set(r.id, r);
    }
    // those that must be planned again are read by nobody now
    if (still.length < kept.length) for (const r of kept) if (!still.includes(r)) dropOutlook(r);
    return alloc;
  }

  /** The partition's nodes with a free CPU, to walk in partition order (a live view: do not keep it). */
  freeNodes(partition: string): FreeNodes {
    return this.index(partition).free;
  }

  /** The numbers of the partition's nodes with a free CPU, in partition order (a live view: do not keep it). */
  withFreeCpu(partition: string): readonly number[] {
    return this.index(partition).free.nodes();
  }

  /** Every node's usage by name (copies, for tests and the edges: read them now). */
  usageByName(): Map<string, NodeUsage> {
    return this.table.byName();
  }

  freeCpus(partition: string): number {
    return this.index(partition).freeCpus;
  }

  /** The most free CPUs of any partition. */
  maxFreeCpus(): number {
    let most = 0;
    for (const p of this.partitions.values()) most = Math.max(most, p.freeCpus);
    return most;
  }

  maxNodeCpus(partition: string): number {
    return this.index(partition).maxNodeCpus;
  }

  members(partition: string): NodeSet {
    return this.index(partition).members;
  }

  private index(partition: string): PartitionIndex {
    const p = this.partitions.get(partition);
    if (!p) throw new RangeError(`unknown partition ${partition}`);
    return p;
  }

  private add(alloc: IndexedAllocation): void {
    this.allocations.set(alloc.id, alloc);
    this.apply(alloc, 1);
    if (alloc.endTime === null) return;
    // after every allocation ending at or before it: at equal times, in the order added
    const list = this.ending;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.endTime <= alloc.endTime) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, alloc as EndingAllocation);
  }

  private positionInEnding(alloc: EndingAllocation): number {
    const list = this.ending;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.endTime < alloc.endTime) lo = mid + 1;
      else hi = mid;
    }
    while (list[lo] !== alloc) lo++;
    return lo;
  }

  private indexPartition(p: SimulatedPartitionSpec): PartitionIndex {
    const t = this.table;
    const numbers = Int32Array.from(p.nodes, (name) => t.numberOf.get(name) ?? -1);
    const index: PartitionIndex = { spec: p, free: new FreeNodes(numbers), freeCpus: 0, maxNodeCpus: 0, members: new Uint8Array(t.size) };
    numbers.forEach((i, position) => {
      if (i < 0) return;
      index.members[i] = 1;
      index.maxNodeCpus = Math.max(index.maxNodeCpus, t.specs[i]!.cpus);
      const free = t.freeCpus(i);
      index.freeCpus += free;
      if (free > 0) index.free.set(position, true);
      this.partitionsOf[i]!.push(index);
      this.positionsOf[i]!.push(position);
    });
    return index;
  }

  /**
   * Adds (sign 1) or removes (sign -1) an allocation's resources, as applyAllocation does, and
   * brings the partition indexes up to date: by node number, on the replay's hot path.
   */
  private apply(alloc: IndexedAllocation, sign: 1 | -1): void {
    const whole = this.whole;
    if (whole !== null && alloc.terms !== null && !alloc.exclusive) {
      // a replay's every start and end: one loop over the arrays (UsageTable.shiftShared)
      whole.freeCpus += this.table.shiftShared(alloc.at, alloc.tasks!, alloc.terms, sign, whole.free);
      return;
    }
    const { at } = alloc;
    const t = this.table;
    let freed = 0;
    for (let k = 0; k < at.length; k++) {
      const i = at[k]!;
      if (i < 0) continue;
      const was = t.freeCpus(i);
      t.shift(i, shareAt(alloc, k, t, i), alloc.exclusive, sign);
      const now = t.freeCpus(i);
      if (now === was) continue;
      if (whole !== null) {
        freed += now - was;
        whole.free.set(i, now > 0);
        continue;
      }
      const of = this.partitionsOf[i]!;
      const positions = this.positionsOf[i]!;
      for (let j = 0; j < of.length; j++) {
        const p = of[j]!;
        p.freeCpus += now - was;
        p.free.set(positions[j]!, now > 0);
      }
    }
    if (whole !== null) whole.freeCpus += freed;
  }
}
