/**
 * What each node of the simulated cluster has allocated, by node number (its position in the
 * spec's nodes), PURE: one typed array per field (a struct of arrays), not one object per node.
 * A replay starts and ends tens of millions of node shares: its loop over a job's nodes
 * (shiftShared) reads the arrays once and costs half what a call and a share object per node
 * did, and an outlook's copy of a node's usage is a few stores into arrays it reuses, not an
 * object for the collector (availability.ts, usage-copies.ts). Measured with a 100k-job
 * replay: schedules byte-identical, about a fifth less time.
 *
 * The same table holds an outlook's usage at a later time (its `atTime`): there `has[i]` is 1
 * for the nodes whose usage then differs from the live usage (copied in, then changed); for
 * the others the live table is read.
 */
import type { AllocatedNode, ResourceRequest } from '../resource-backend.js';
import { defaultMemPerCpuMiB, taskCapacity, type NodeLoad } from '../task-capacity.js';
import type { SimulatedClusterSpec, SimulatedNodeSpec } from './cluster-spec.js';
import type { FreeNodes } from './free-nodes.js';
import { sharedMemory, type ShareTerms } from './shares.js';

/** Admin state of a node: 'idle' = in service (SLURM's `scontrol update state=idle`). */
export type NodeAdminState = 'idle' | 'drained' | 'down';

/** An allocation holding resources, as the scheduler sees it. */
export interface RunningAllocation {
  id: string;
  exclusive: boolean;
  nodes: AllocatedNode[];
  /** ms since epoch; null = no time limit */
  endTime: number | null;
}

/** The resources an allocation holds on one node (an AllocatedNode without its name). */
export type Share = Pick<AllocatedNode, 'cpus' | 'memoryMiB' | 'gpus'>;

/** One node's usage as a record (UsageTable.usage): for the edges and tests, not the hot paths. */
export interface NodeUsage extends NodeLoad {
  node: SimulatedNodeSpec;
  /** The node's number: its position in the cluster's spec.nodes. */
  readonly index: number;
}

/** What a table and its copies share: the nodes' numbers and hardware, read on the hot paths. */
interface Hardware {
  readonly numberOf: ReadonlyMap<string, number>;
  readonly cpus: Float64Array;
  /** The per-CPU memory a shared job gets when it asks for none (task-capacity.ts). */
  readonly defaultMemPerCpu: Float64Array;
  /** Nodes of the same hardware (CPUs, memory, GPUs and their type) have the same kind. */
  readonly kind: Int32Array;
  readonly kinds: number;
  /** capacityOf's scratch, made when first needed (idleCapacities). */
  idle?: Float64Array;
}

function hardwareOf(specs: readonly SimulatedNodeSpec[]): Hardware {
  const kinds = new Map<string, number>();
  const kind = Int32Array.from(specs, (s) => {
    const key = `${s.cpus}/${s.memoryMiB}/${s.gpus}/${s.gpuType ?? ''}`;
    const k = kinds.get(key) ?? kinds.size;
    kinds.set(key, k);
    return k;
  });
  return {
    numberOf: new Map(specs.map((s, i) => [s.name, i])),
    cpus: Float64Array.from(specs, (s) => s.cpus),
    defaultMemPerCpu: Float64Array.from(specs, (s) => defaultMemPerCpuMiB(s)),
    kind,
    kinds: kinds.size,
  };
}

export class UsageTable {
  readonly size: number;
  /** Node numbers by name. */
  readonly numberOf: ReadonlyMap<string, number>;
  /** The nodes' CPUs, by number. */
  readonly nodeCpus: Float64Array;
  /** The per-CPU memory a shared job gets on each node when it asks for none. */
  readonly defaultMemPerCpu: Float64Array;
  private readonly hw: Hardware;
  readonly inService: Uint8Array;
  readonly cpus: Float64Array;
  readonly memoryMiB: Float64Array;
  readonly gpus: Float64Array;
  /** 1: held by an exclusive allocation, nobody else may use it. */
  readonly exclusive: Uint8Array;
  readonly allocations: Int32Array;
  /** In an outlook's table: 1 where it holds the node's own usage then (else: the live usage). */
  readonly has: Uint8Array;

  constructor(
    /** The nodes' hardware by number. */
    readonly specs: readonly SimulatedNodeSpec[],
    hardware?: Hardware,
  ) {
    const n = specs.length;
    this.size = n;
    const hw = hardware ?? hardwareOf(specs);
    this.hw = hw;
    this.numberOf = hw.numberOf;
    this.nodeCpus = hw.cpus;
    this.defaultMemPerCpu = hw.defaultMemPerCpu;
    this.inService = new Uint8Array(n);
    this.cpus = new Float64Array(n);
    this.memoryMiB = new Float64Array(n);
    this.gpus = new Float64Array(n);
    this.exclusive = new Uint8Array(n);
    this.allocations = new Int32Array(n);
    this.has = new Uint8Array(n);
  }

  /** The usage of a cluster whose nodes are in these admin states, with these allocations on it. */
  static build(
    spec: SimulatedClusterSpec,
    adminStates: ReadonlyMap<string, NodeAdminState>,
    running: readonly RunningAllocation[] = [],
  ): UsageTable {
    const t = new UsageTable(spec.nodes);
    spec.nodes.forEach((node, i) => {
      t.inService[i] = (adminStates.get(node.name) ?? 'idle') === 'idle' ? 1 : 0;
    });
    for (const a of running) t.applyAllocation(a, 1);
    return t;
  }

  /** A table for the same nodes, holding no node's usage yet (an outlook's: `has` all 0). */
  blank(): UsageTable {
    return new UsageTable(this.specs, this.hw);
  }

  /** A full copy (every node's usage, `has` too). */
  copy(): UsageTable {
    const c = this.blank();
    c.inService.set(this.inService);
    c.cpus.set(this.cpus);
    c.memoryMiB.set(this.memoryMiB);
    c.gpus.set(this.gpus);
    c.exclusive.set(this.exclusive);
    c.allocations.set(this.allocations);
    c.has.set(this.has);
    return c;
  }

  /** Node i's usage copied from `from` (has[i] becomes 1). */
  copyNode(from: UsageTable, i: number): void {
    this.inService[i] = from.inService[i]!;
    this.cpus[i] = from.cpus[i]!;
    this.memoryMiB[i] = from.memoryMiB[i]!;
    this.gpus[i] = from.gpus[i]!;
    this.exclusive[i] = from.exclusive[i]!;
    this.allocations[i] = from.allocations[i]!;
    this.has[i] = 1;
  }

  /** CPUs a job could still get on node i: none when it is out of service or held exclusively. */
  freeCpus(i: number): number {
    return this.inService[i] === 1 && this.exclusive[i] === 0 ? this.nodeCpus[i]! - this.cpus[i]! : 0;
  }

  /** How many tasks of `req` node i can take (task-capacity.ts's rule). */
  capacity(req: ResourceRequest, i: number): number {
    return taskCapacity(
      req,
      this.specs[i]!,
      this.inService[i] === 1,
      this.exclusive[i] === 1,
      this.allocations[i]!,
      this.cpus[i]!,
      this.memoryMiB[i]!,
      this.gpus[i]!,
    );
  }

  /**
   * capacity(req, i), where an idle node's (in service, no allocation: its usage is nothing)
   * is read from `idle`, by kind of node, once known (-1: not yet): a walk over the free nodes
   * of a large cluster asks the same question of hundreds of identical idle nodes. `idle` is
   * for one request: idleCapacities() before each walk.
   */
  capacityOf(req: ResourceRequest, i: number, idle: Float64Array): number {
    if (this.allocations[i] !== 0 || this.inService[i] !== 1) return this.capacity(req, i);
    const k = this.hw.kind[i]!;
    const known = idle[k]!;
    if (known >= 0) return known;
    const cap = this.capacity(req, i);
    idle[k] = cap;
    return cap;
  }

  /** Scratch for capacityOf: every kind not known yet (reused: one walk at a time). */
  idleCapacities(): Float64Array {
    const idle = (this.hw.idle ??= new Float64Array(this.hw.kinds));
    return idle.fill(-1);
  }

  /**
   * Adds (d = 1) or takes out (d = -1) one allocation's share of node i's usage: the one rule
   * for the live usage (ClusterState) and for an outlook's (availability.ts, outlook-upkeep.ts).
   */
  shift(i: number, n: Share, exclusive: boolean, d: 1 | -1): void {
    this.cpus[i]! += d * n.cpus;
    this.memoryMiB[i]! += d * n.memoryMiB;
    this.gpus[i]! += d * n.gpus;
    this.allocations[i]! += d;
    if (exclusive) this.exclusive[i] = d === 1 ? 1 : 0;
  }

  /**
   * shift() for every node of a shared allocation whose shares are computed (`terms` on
   * tasks[k] tasks on node at[k]; a negative number is no node), in one loop over the arrays:
   * a start and an end go over tens of nodes, and a share object and a call per node cost half
   * again as much (tests: simulator-usage-table.test.ts). `free`, a FreeNodes over node numbers,
   * is kept true for the nodes whose free CPUs change. Returns the change of free CPUs in all.
   */
  shiftShared(at: readonly number[], tasks: readonly number[], terms: ShareTerms, d: 1 | -1, free: FreeNodes | null): number {
    const { inService, exclusive, cpus, memoryMiB, gpus, allocations, nodeCpus, defaultMemPerCpu } = this;
    const cpt = terms.cpusPerTask;
    const g = d * terms.gpusPerNode;
    let freed = 0;
    for (let k = 0; k < at.length; k++) {
      const i = at[k]!;
      if (i < 0) continue;
      // (a shared share leaves the node as usable as it was: freeCpus() before and after)
      const usable = inService[i] === 1 && exclusive[i] === 0;
      const was = usable ? nodeCpus[i]! - cpus[i]! : 0;
      const c = tasks[k]! * cpt;
      cpus[i]! += d * c;
      memoryMiB[i]! += d * sharedMemory(terms, c, defaultMemPerCpu[i]!);
      gpus[i]! += g;
      allocations[i]! += d;
      const now = usable ? nodeCpus[i]! - cpus[i]! : 0;
      if (now === was) continue;
      freed += now - was;
      free?.set(i, now > 0);
    }
    return freed;
  }

  /** Adds (sign 1) or removes (sign -1) an allocation given by node names (unknown names are skipped). */
  applyAllocation(alloc: RunningAllocation, sign: 1 | -1): void {
    for (const n of alloc.nodes) {
      const i = this.numberOf.get(n.name);
      if (i !== undefined) this.shift(i, n, alloc.exclusive, sign);
    }
  }

  /** Node i's usage as a record (a copy: read it now). */
  usage(i: number): NodeUsage {
    return {
      node: this.specs[i]!,
      index: i,
      inService: this.inService[i] === 1,
      cpus: this.cpus[i]!,
      memoryMiB: this.memoryMiB[i]!,
      gpus: this.gpus[i]!,
      exclusive: this.exclusive[i] === 1,
      allocations: this.allocations[i]!,
    };
  }

  /** Every node's usage by name (copies: read them now). */
  byName(): Map<string, NodeUsage> {
    return new Map(this.specs.map((s, i) => [s.name, this.usage(i)]));
  }
}
