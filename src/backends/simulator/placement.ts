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
}

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
  for (const node of spec.nodes) {
    const admin = adminStates.get(node.name) ?? 'idle';
    usage.set(node.name, {
      node,
      inService: admin === 'idle',
      cpus: 0,
      memoryMiB: 0,
      gpus: 0,
      exclusive: false,
      allocations: 0,
    });
  }
  for (const a of running) applyAllocation(usage, a, 1);
  return usage;
}

/** Adds (sign 1) or removes (sign -1) an allocation's resources. */
export function applyAllocation(usage: UsageMap, alloc: RunningAllocation, sign: 1 | -1): void {
  for (const n of alloc.nodes) {
    const u = usage.get(n.name);
    if (!u) continue;
    u.cpus += sign * n.cpus;
    u.memoryMiB += sign * n.memoryMiB;
    u.gpus += sign * n.gpus;
    u.allocations += sign;
    if (alloc.exclusive) u.exclusive = sign === 1;
  }
}

export function cloneUsage(usage: UsageMap): UsageMap {
  const copy: UsageMap = new Map();
  for (const [name, u] of usage) copy.set(name, { ...u });
  return copy;
}

/** The resources one node gives a job that runs `tasks` tasks on it. */
function allocatedNode(req: ResourceRequest, node: SimulatedNodeSpec, tasks: number): AllocatedNode {
  const perNode = req.memoryPerNodeMiB ?? 0;
  const perCpu = explicitMemPerCpu(req);
  let cpus: number;
  let memoryMiB: number;
  let gpus: number;
  if (req.exclusive) {
    cpus = node.cpus;
    gpus = node.gpus;
    memoryMiB = perNode > 0 ? perNode : perCpu !== null ? Math.min(node.memoryMiB, cpus * perCpu) : node.memoryMiB;
  } else {
    cpus = tasks * req.cpusPerTask;
    gpus = req.gpusPerNode;
    memoryMiB = perNode > 0 ? perNode : cpus * (perCpu ?? defaultMemPerCpuMiB(node));
  }
  const out: AllocatedNode = { name: node.name, cpus, memoryMiB, gpus };
  if (gpus > 0 && node.gpuType !== undefined) out.gpuType = node.gpuType;
  return out;
}

/** SLURM block distribution over nodes of the given capacities (which together hold `tasks`). */
export function blockDistribution(capacities: readonly number[], tasks: number): number[] {
  const out: number[] = [];
  let remaining = tasks;
  capacities.forEach((cap, i) => {
    const later = capacities.length - i - 1;
    const t = Math.min(cap, remaining - later);
    out.push(t);
    remaining -= t;
  });
  return out;
}

/** What the caller knows that lets tryPlace look at fewer nodes; the answer does not change. */
export interface PlaceHint {
  /**
   * The nodes to look at, in partition order: a subsequence of partition.nodes that holds
   * every node on which the request could get a task (e.g. the nodes with a free CPU).
   */
  nodes?: readonly string[];
  /** The same as `nodes` given by their usage records (taken instead of `nodes`: no look-ups). */
  usages?: readonly NodeUsage[];
  /** An upper bound of the tasks of `req` any node of the partition can take. */
  maxTasksPerNode?: number;
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
  const names = hint.nodes ?? partition.nodes;
  // The fewest nodes any placement needs: when the first `least` usable nodes hold the job,
  // they are the answer (the fewest nodes, first in partition order) and the scan can stop.
  const want = req.tasksPerNode !== undefined ? Math.min(req.tasksPerNode, req.tasks) : req.tasks;
  const bound = Math.max(1, Math.min(req.tasks, want, hint.maxTasksPerNode ?? Infinity));
  const least = Math.max(req.minNodes, Math.ceil(req.tasks / bound));
  const earlyExit = least <= req.maxNodes && least <= req.tasks;
  // the usable nodes in order and their capacities (two arrays: no object per node)
  const candNodes: SimulatedNodeSpec[] = [];
  const candCaps: number[] = [];
  let maxCap = 0;
  let firstSum = 0;
  const usages = hint.usages;
  const length = usages ? usages.length : names.length;
  for (let i = 0; i < length; i++) {
    const u = usages ? usages[i] : usage.get(names[i]!);
    if (!u) continue;
    const cap = Math.min(nodeTaskCapacity(req, u), req.tasks);
    if (cap <= 0) continue;
    if (req.minNodes <= 1 && cap >= req.tasks) {
      // One node holds the whole job: one node is the fewest, and the first such node is
      // the first-fit choice whatever comes before or after it.
      return { nodes: [allocatedNode(req, u.node, req.tasks)], tasksPerNode: [req.tasks] };
    }
    candNodes.push(u.node);
    candCaps.push(cap);
    if (cap > maxCap) maxCap = cap;
    if (earlyExit && candCaps.length <= least) {
      firstSum += cap;
      if (candCaps.length === least && firstSum >= req.tasks) return layout(req, candNodes, candCaps);
    }
  }
  const chosen = fewestFirst(
    req,
    candNodes.map((node, i) => ({ node, cap: candCaps[i]! })),
    maxCap,
  );
  return chosen
    ? layout(
        req,
        chosen.map((c) => c.node),
        chosen.map((c) => c.cap),
      )
    : null;
}

/**
 * The placement's nodes when the first usable nodes do not settle it: the fewest candidates
 * (>= minNodes) that hold the tasks, the first ones in partition order; null when none do.
 */
function fewestFirst(
  req: ResourceRequest,
  cands: readonly { node: SimulatedNodeSpec; cap: number }[],
  maxCap: number,
): { node: SimulatedNodeSpec; cap: number }[] | null {
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

function layout(req: ResourceRequest, nodes: readonly SimulatedNodeSpec[], caps: readonly number[]): PlacementResult {
  const tasksPerNode = blockDistribution(caps, req.tasks);
  return {
    nodes: nodes.map((node, i) => allocatedNode(req, node, tasksPerNode[i]!)),
    tasksPerNode,
  };
}
