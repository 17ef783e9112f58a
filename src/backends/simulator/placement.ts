/**
 * Pure placement: what each node has allocated, and where a request goes right now. No time,
 * no queue: scheduler.ts builds on this. How many tasks a node takes is task-capacity.ts's
 * arithmetic (shared with the submit-time fit check, request-fit.ts); on top of it:
 * - node choice: the fewest nodes between minNodes and maxNodes whose capacity holds the tasks;
 *   among those, the first ones in partition order (first fit, so small jobs pack together).
 * - task layout: SLURM's default block distribution: fill each chosen node in order with as
 *   many tasks as it can take while leaving at least one task for every later node (-n 6 on
 *   two free 4-CPU nodes → 4+2).
 *
 * Cost: tryPlace is O(nodes looked at). The scheduler narrows those to the nodes that have
 * anything free (PlaceHint.nodes) and tells it the most tasks a node can hold
 * (PlaceHint.maxTasksPerNode), so the usual first-fit answer stops at the first nodes that
 * hold the job instead of reading the whole partition; the answer is the same either way.
 */
import type { AllocatedNode, ResourceRequest } from '../resource-backend.js';
import {
  defaultMemPerCpuMiB,
  explicitMemPerCpu,
  nodeTaskCapacity,
  topSum,
  type NodeLoad,
} from '../task-capacity.js';
import type { SimulatedClusterSpec, SimulatedNodeSpec, SimulatedPartitionSpec } from './cluster-spec.js';

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

/** What a node of the simulated cluster has allocated now. */
export interface NodeUsage extends NodeLoad {
  node: SimulatedNodeSpec;
  /**
   * The node's number: its position in the cluster's spec.nodes. The scheduler's hot paths
   * keep per-node data in arrays by number, not in maps by name (names are for the edges).
   */
  readonly index: number;
}

/** CPUs a job could still get on a node: none when it is out of service or held exclusively. */
export const freeCpusOf = (u: NodeUsage): number => (u.inService && !u.exclusive ? u.node.cpus - u.cpus : 0);

/** The resources an allocation holds on one node (an AllocatedNode without its name). */
export type Share = Pick<AllocatedNode, 'cpus' | 'memoryMiB' | 'gpus'>;

export type UsageMap = Map<string, NodeUsage>;

/** Read access to node usage: a UsageMap, or a view of it (the usage at a future time). */
export interface UsageView {
  get(name: string): NodeUsage | undefined;
}

export interface PlacementResult {
  nodes: AllocatedNode[];
  /** Tasks on each node of `nodes`, same order. */
  tasksPerNode: number[];
}

export function buildUsage(
  spec: SimulatedClusterSpec,
  adminStates: ReadonlyMap<string, NodeAdminState>,
  running: readonly RunningAllocation[],
): UsageMap {
  const usage: UsageMap = new Map();
  spec.nodes.forEach((node, index) => {
    const admin = adminStates.get(node.name) ?? 'idle';
    usage.set(node.name, {
      node,
      index,
      inService: admin === 'idle',
      cpus: 0,
      memoryMiB: 0,
      gpus: 0,
      exclusive: false,
      allocations: 0,
    });
  });
  for (const a of running) applyAllocation(usage, a, 1);
  return usage;
}

/** Adds (sign 1) or removes (sign -1) an allocation's resources. */
export function applyAllocation(usage: UsageMap, alloc: RunningAllocation, sign: 1 | -1): void {
  for (const n of alloc.nodes) {
    const u = usage.get(n.name);
    if (u) shiftShare(u, n, alloc.exclusive, sign);
  }
}

/**
 * Adds (d = 1) or takes out (d = -1) one allocation's share of a node's usage, in place: the
 * one rule for the live usage (ClusterState) and for the copies an outlook keeps of a node's
 * usage at a later time (availability.ts, outlook-upkeep.ts).
 */
export function shiftShare(u: NodeLoad, n: Share, exclusive: boolean, d: 1 | -1): void {
  u.cpus += d * n.cpus;
  u.memoryMiB += d * n.memoryMiB;
  u.gpus += d * n.gpus;
  u.allocations += d;
  if (exclusive) u.exclusive = d === 1;
}

export function cloneUsage(usage: UsageMap): UsageMap {
  const copy: UsageMap = new Map();
  for (const [name, u] of usage) copy.set(name, { ...u });
  return copy;
}

/**
 * The resources one node gives a job that runs `tasks` tasks on it, written into `out` (the
 * scheduler checks many placements it never starts: no object per node for those).
 */
export function shareOf(req: ResourceRequest, node: SimulatedNodeSpec, tasks: number, out: Share): Share {
  const perNode = req.memoryPerNodeMiB ?? 0;
  if (req.exclusive) {
    out.cpus = node.cpus;
    out.gpus = node.gpus;
    const perCpu = perNode > 0 ? null : explicitMemPerCpu(req);
    out.memoryMiB = perNode > 0 ? perNode : perCpu !== null ? Math.min(node.memoryMiB, node.cpus * perCpu) : node.memoryMiB;
  } else {
    out.cpus = tasks * req.cpusPerTask;
    out.gpus = req.gpusPerNode;
    out.memoryMiB = perNode > 0 ? perNode : out.cpus * (explicitMemPerCpu(req) ?? defaultMemPerCpuMiB(node));
  }
  return out;
}

/**
 * What an allocation holds on each of its nodes: given (`nodes`, an allocation from outside
 * such as the live backend's), or else the request's share on `tasks[k]` tasks, computed when
 * read (shareOf): a replay starts millions of node shares and keeps no object per node.
 */
export interface Shares {
  readonly nodes: readonly Share[] | null;
  readonly request: ResourceRequest | null;
  readonly tasks: readonly number[] | null;
}

/**
 * The share of the k-th node (`node` its spec) of an allocation. A computed one is written into
 * one reused object: read it before the next call (every caller applies it at once).
 */
export function shareAt(a: Shares, k: number, node: SimulatedNodeSpec): Share {
  return a.nodes !== null ? a.nodes[k]! : shareOf(a.request!, node, a.tasks![k]!, computedShare);
}

const computedShare: Share = { cpus: 0, memoryMiB: 0, gpus: 0 };

/** The resources one node gives a job that runs `tasks` tasks on it. */
function allocatedNode(req: ResourceRequest, node: SimulatedNodeSpec, tasks: number): AllocatedNode {
  const out: AllocatedNode = { name: node.name, cpus: 0, memoryMiB: 0, gpus: 0 };
  shareOf(req, node, tasks, out);
  if (out.gpus > 0 && node.gpuType !== undefined) out.gpuType = node.gpuType;
  return out;
}

/**
 * SLURM block distribution over nodes of the given capacities (which together hold `tasks`):
 * the first n of them (default: all).
 */
export function blockDistribution(capacities: readonly number[], tasks: number, n = capacities.length): number[] {
  const out = new Array<number>(n);
  let remaining = tasks;
  for (let i = 0; i < n; i++) {
    const t = Math.min(capacities[i]!, remaining - (n - i - 1));
    out[i] = t;
    remaining -= t;
  }
  return out;
}

/** What the caller knows that lets tryPlace look at fewer nodes; the answer does not change. */
export interface PlaceHint {
  /**
   * The nodes to look at, walked in partition order instead of partition.nodes: a subsequence
   * that holds every node on which the request could get a task (e.g. the nodes with a free
   * CPU), read by position (no look-up by name, no list made of nodes the walk does not reach).
   */
  free?: NodeWalk;
  /** An upper bound of the tasks of `req` any node of the partition can take. */
  maxTasksPerNode?: number;
}

/** A walk over some of a partition's nodes in partition order (free-nodes.ts FreeNodes). */
export interface NodeWalk {
  /** The first position >= from on the walk, or -1. */
  nextSet(from: number): number;
  item(position: number): NodeUsage | undefined;
}

/** A walk over listed nodes by name. */
class NameWalk implements NodeWalk {
  constructor(
    private readonly names: readonly string[],
    private readonly usage: UsageView,
  ) {}

  nextSet(from: number): number {
    return from < this.names.length ? from : -1;
  }

  item(position: number): NodeUsage | undefined {
    return this.usage.get(this.names[position]!);
  }
}

/**
 * Where a request goes, before any AllocatedNode is made: the chosen nodes' numbers
 * (NodeUsage.index), in partition order, and their tasks. A started job keeps these arrays as
 * its allocation (cluster-state.ts IndexedAllocation): no object per node.
 */
export interface Choice {
  at: number[];
  /** Tasks on each node of `at`, same order. */
  tasksPerNode: number[];
}

/**
 * Where `req` would run now on `partition` given `usage`, or null when it cannot start now.
 * Does not modify usage.
 */
export function tryPlace(
  req: ResourceRequest,
  partition: SimulatedPartitionSpec,
  usage: UsageView,
  hint: PlaceHint = {},
): PlacementResult | null {
  const chosen = choosePlacement(req, partition, usage, hint);
  if (!chosen) return null;
  // the chosen nodes by number (the usage view has them by name)
  const byNumber = new Map<number, SimulatedNodeSpec>();
  for (const name of partition.nodes) {
    const u = usage.get(name);
    if (u) byNumber.set(u.index, u.node);
  }
  const nodes = chosen.at.map((i, k) => allocatedNode(req, byNumber.get(i)!, chosen.tasksPerNode[k]!));
  return { nodes, tasksPerNode: chosen.tasksPerNode };
}

/** The AllocatedNodes of a choice, from the usage by node number (ClusterState.byIndex). */
export function allocatedNodes(
  req: ResourceRequest,
  c: { readonly at: readonly number[]; readonly tasksPerNode: readonly number[] },
  byIndex: readonly NodeUsage[],
): AllocatedNode[] {
  return c.at.map((i, k) => allocatedNode(req, byIndex[i]!.node, c.tasksPerNode[k]!));
}

/** tryPlace's choice of nodes and task layout, without the AllocatedNodes. */
export function choosePlacement(
  req: ResourceRequest,
  partition: SimulatedPartitionSpec,
  usage: UsageView,
  hint: PlaceHint = {},
): Choice | null {
  // The fewest nodes any placement needs: when the first `least` usable nodes hold the job,
  // they are the answer (the fewest nodes, first in partition order) and the scan can stop.
  const want = req.tasksPerNode !== undefined ? Math.min(req.tasksPerNode, req.tasks) : req.tasks;
  const bound = Math.max(1, Math.min(req.tasks, want, hint.maxTasksPerNode ?? Infinity));
  const least = Math.max(req.minNodes, Math.ceil(req.tasks / bound));
  const earlyExit = least <= req.maxNodes && least <= req.tasks;
  // the usable nodes in order and their capacities: the first n of the scratch arrays (no
  // object per node, no array grown per call: most choices are tested, never started)
  const candNodes = scratchNodes;
  const candCaps = scratchCaps;
  let n = 0;
  let maxCap = 0;
  let firstSum = 0;
  const walk = hint.free ?? new NameWalk(partition.nodes, usage);
  const tasks = req.tasks;
  const oneNode = req.minNodes <= 1;
  for (let i = walk.nextSet(0); i >= 0; i = walk.nextSet(i + 1)) {
    const u = walk.item(i);
    if (!u) continue;
    const cap = Math.min(nodeTaskCapacity(req, u), tasks);
    if (cap <= 0) continue;
    if (oneNode && cap >= tasks) {
      // One node holds the whole job: one node is the fewest, and the first such node is
      // the first-fit choice whatever comes before or after it.
      return { at: [u.index], tasksPerNode: [tasks] };
    }
    candNodes[n] = u;
    candCaps[n] = cap;
    n++;
    if (cap > maxCap) maxCap = cap;
    if (earlyExit && n <= least) {
      firstSum += cap;
      if (n === least && firstSum >= tasks) {
        const at = new Array<number>(n);
        for (let k = 0; k < n; k++) at[k] = candNodes[k]!.index;
        return { at, tasksPerNode: blockDistribution(candCaps, tasks, n) };
      }
    }
  }
  const cands = Array.from({ length: n }, (_, i) => ({ u: candNodes[i]!, cap: candCaps[i]! }));
  const chosen = fewestFirst(req, cands, maxCap);
  if (!chosen) return null;
  return {
    at: chosen.map((c) => c.u.index),
    tasksPerNode: blockDistribution(
      chosen.map((c) => c.cap),
      req.tasks,
    ),
  };
}

/** choosePlacement's scratch: reused by every call (it is not re-entered). */
const scratchNodes: NodeUsage[] = [];
const scratchCaps: number[] = [];

/**
 * The placement's nodes when the first usable nodes do not settle it: the fewest candidates
 * (>= minNodes) that hold the tasks, the first ones in partition order; null when none do.
 */
function fewestFirst(
  req: ResourceRequest,
  cands: readonly { u: NodeUsage; cap: number }[],
  maxCap: number,
): { u: NodeUsage; cap: number }[] | null {
  // Capacities are small integers (<= tasks and <= a node's CPUs): count them.
  const counts = new Array<number>(maxCap + 1).fill(0);
  for (const c of cands) counts[c.cap]!++;

  // The fewest nodes (>= minNodes) whose largest capacities hold the tasks.
  const most = Math.min(req.maxNodes, cands.length, req.tasks);
  let count = -1;
  for (let k = req.minNodes; k <= most; k++) {
    if (topSum(counts, k) >= req.tasks) {
      count = k;
      break;
    }
  }
  if (count < 0) return null;

  // The first `count` candidates in partition order, when they suffice (the usual case) ...
  let chosen = cands.slice(0, count);
  if (chosen.reduce((s, c) => s + c.cap, 0) < req.tasks) {
    // ... else the lexicographically first set that does: take a node when the rest can
    // still be completed from the nodes after it.
    chosen = [];
    let have = 0;
    const rest = [...counts];
    let restSize = cands.length;
    for (const c of cands) {
      if (chosen.length === count) break;
      rest[c.cap]!--;
      restSize--;
      const need = count - chosen.length - 1;
      const base = have + c.cap;
      if (restSize < need || base + need * maxCap < req.tasks) continue;
      if (base >= req.tasks || base + topSum(rest, need) >= req.tasks) {
        chosen.push(c);
        have += c.cap;
      }
    }
  }
  return chosen;
}
