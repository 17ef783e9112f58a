/**
 * Pure placement: where a request goes right now, on a cluster's usage (usage-table.ts). No time,
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
import { topSum } from '../task-capacity.js';
import type { SimulatedNodeSpec, SimulatedPartitionSpec } from './cluster-spec.js';
import { shareOf } from './shares.js';
import type { UsageTable } from './usage-table.js';

export type { NodeAdminState, NodeUsage, RunningAllocation, Share } from './usage-table.js';

export interface PlacementResult {
  nodes: AllocatedNode[];
  /** Tasks on each node of `nodes`, same order. */
  tasksPerNode: number[];
}

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
  /** The number of the node at this position (-1: none). */
  nodeAt(position: number): number;
}

/** A walk over listed nodes by name. */
class NameWalk implements NodeWalk {
  constructor(
    private readonly names: readonly string[],
    private readonly usage: UsageTable,
  ) {}

  nextSet(from: number): number {
    return from < this.names.length ? from : -1;
  }

  nodeAt(position: number): number {
    return this.usage.numberOf.get(this.names[position]!) ?? -1;
  }
}

/**
 * Where a request goes, before any AllocatedNode is made: the chosen nodes' numbers
 * (UsageTable), in partition order, and their tasks. A started job keeps these arrays as
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
  usage: UsageTable,
  hint: PlaceHint = {},
): PlacementResult | null {
  const chosen = choosePlacement(req, partition, usage, hint);
  if (!chosen) return null;
  return { nodes: allocatedNodes(req, chosen, usage.specs), tasksPerNode: chosen.tasksPerNode };
}

/** The AllocatedNodes of a choice, from the nodes' specs by number (UsageTable.specs). */
export function allocatedNodes(
  req: ResourceRequest,
  c: { readonly at: readonly number[]; readonly tasksPerNode: readonly number[] },
  specs: readonly SimulatedNodeSpec[],
): AllocatedNode[] {
  return c.at.map((i, k) => allocatedNode(req, specs[i]!, c.tasksPerNode[k]!));
}

/** tryPlace's choice of nodes and task layout, without the AllocatedNodes. */
export function choosePlacement(
  req: ResourceRequest,
  partition: SimulatedPartitionSpec,
  usage: UsageTable,
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
  const idle = usage.idleCapacities();
  for (let p = walk.nextSet(0); p >= 0; p = walk.nextSet(p + 1)) {
    const i = walk.nodeAt(p);
    if (i < 0) continue;
    const cap = Math.min(usage.capacityOf(req, i, idle), tasks);
    if (cap <= 0) continue;
    if (oneNode && cap >= tasks) {
      // One node holds the whole job: one node is the fewest, and the first such node is
      // the first-fit choice whatever comes before or after it.
      return { at: [i], tasksPerNode: [tasks] };
    }
    candNodes[n] = i;
    candCaps[n] = cap;
    n++;
    if (cap > maxCap) maxCap = cap;
    if (earlyExit && n <= least) {
      firstSum += cap;
      if (n === least && firstSum >= tasks) {
        return { at: candNodes.slice(0, n), tasksPerNode: blockDistribution(candCaps, tasks, n) };
      }
    }
  }
  const cands = Array.from({ length: n }, (_, k) => ({ i: candNodes[k]!, cap: candCaps[k]! }));
  const chosen = fewestFirst(req, cands, maxCap);
  if (!chosen) return null;
  return {
    at: chosen.map((c) => c.i),
    tasksPerNode: blockDistribution(
      chosen.map((c) => c.cap),
      req.tasks,
    ),
  };
}

/** choosePlacement's scratch: reused by every call (it is not re-entered). */
const scratchNodes: number[] = [];
const scratchCaps: number[] = [];

/**
 * The placement's nodes when the first usable nodes do not settle it: the fewest candidates
 * (>= minNodes) that hold the tasks, the first ones in partition order; null when none do.
 */
function fewestFirst(
  req: ResourceRequest,
  cands: readonly { i: number; cap: number }[],
  maxCap: number,
): { i: number; cap: number }[] | null {
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
