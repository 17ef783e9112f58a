/**
 * How many tasks of a request one node can take, and whether nodes of known capacities can
 * hold a request: PURE arithmetic shared by the simulator's scheduler (placement.ts,
 * availability.ts) and the submit-time fit check of both backends (request-fit.ts), so a
 * request the check accepts is one the simulator can place on an empty cluster, and back.
 *
 * Rules (documented for the GRM's users in the simulator's section of the docs):
 * - exclusive: only nodes with no allocation at all; the job gets the whole node (all CPUs,
 *   all GPUs, all memory unless it asked for a memory amount: DefMemPerNode=all).
 * - shared: CPU-level packing; a node takes floor(freeCpus / cpusPerTask) tasks, limited by
 *   free memory and GPUs. Memory when none is asked: DefMemPerCPU = node memory / node CPUs
 *   (a proportional share, so default jobs never run out of memory before CPUs, and a job on
 *   all of a node's CPUs gets all its memory).
 * - memoryPerNodeMiB 0 (or absent) means "not given" (the ResourceRequest contract).
 * - a GPU type, when asked, must be the node's.
 * - tasksPerNode: a node is usable only if it can take that many tasks.
 */
import type { ResourceRequest } from './resource-backend.js';

/** A node's configured hardware. */
export interface NodeHardware {
  cpus: number;
  memoryMiB: number;
  gpus: number;
  gpuType?: string;
}

/** What a node has allocated now. */
export interface NodeLoad {
  node: NodeHardware;
  inService: boolean;
  cpus: number;
  memoryMiB: number;
  gpus: number;
  /** Held by an exclusive allocation: nobody else may use it. */
  exclusive: boolean;
  allocations: number;
}

/** The per-CPU memory a shared job gets when it asks for none: node memory / node CPUs. */
export function defaultMemPerCpuMiB(node: NodeHardware): number {
  return Math.floor(node.memoryMiB / node.cpus);
}

/** Explicit per-CPU memory of a request, or null when it gives per-node memory or none. */
export function explicitMemPerCpu(req: ResourceRequest): number | null {
  if ((req.memoryPerNodeMiB ?? 0) > 0) return null;
  const mpc = req.memoryPerCpuMiB ?? 0;
  return mpc > 0 ? mpc : null;
}

/** How many tasks of `req` this node can take now (0 = unusable). */
export function nodeTaskCapacity(req: ResourceRequest, u: NodeLoad): number {
  return taskCapacity(req, u.node, u.inService, u.exclusive, u.allocations, u.cpus, u.memoryMiB, u.gpus);
}

/**
 * nodeTaskCapacity on a node's load given field by field: the one rule, also for the
 * scheduler's per-node arrays (simulator/usage-table.ts), which keep no object per node.
 */
export function taskCapacity(
  req: ResourceRequest,
  n: NodeHardware,
  inService: boolean,
  exclusive: boolean,
  allocations: number,
  usedCpus: number,
  usedMem: number,
  usedGpus: number,
): number {
  // A node reported without CPUs (SLURM before it registers) takes nothing; the guard also
  // keeps the default memory share below finite.
  if (!inService || !(n.cpus >= 1)) return 0;
  if (req.gpusPerNode > 0 && req.gpuType !== undefined && req.gpuType !== '' && n.gpuType !== req.gpuType) {
    return 0;
  }
  let freeCpus: number;
  let freeMem: number;
  let freeGpus: number;
  if (req.exclusive) {
    if (allocations > 0) return 0;
    freeCpus = n.cpus;
    freeMem = n.memoryMiB;
    freeGpus = n.gpus;
  } else {
    if (exclusive) return 0;
    freeCpus = n.cpus - usedCpus;
    freeMem = n.memoryMiB - usedMem;
    freeGpus = n.gpus - usedGpus;
  }
  if (freeGpus < req.gpusPerNode) return 0;
  // (the scheduler calls this for every node it looks at: a division only when it can bind)
  const cpt = req.cpusPerTask;
  let tasks = cpt === 1 ? freeCpus : Math.floor(freeCpus / cpt);
  // no task's CPUs free: memory and tasksPerNode can only keep it at none (a busy node, the
  // scheduler's most frequent question)
  if (tasks <= 0) return 0;
  const perNode = req.memoryPerNodeMiB ?? 0;
  if (perNode > 0) {
    if (freeMem < perNode) return 0;
  } else {
    const mpc = req.memoryPerCpuMiB ?? 0;
    // min(tasks, floor(freeMem / perTask)), without dividing when memory cannot bind: for the
    // default share, freeMem >= tasks x cpt x memory / CPUs means it holds floor(memory / CPUs) too
    if (mpc > 0) tasks = memoryBound(tasks, freeMem, mpc * cpt);
    else if (!req.exclusive && freeMem * n.cpus < tasks * cpt * n.memoryMiB) {
      tasks = memoryBound(tasks, freeMem, defaultMemPerCpuMiB(n) * cpt);
    }
  }
  if (req.tasksPerNode !== undefined) {
    const want = Math.min(req.tasksPerNode, req.tasks);
    return tasks >= want ? want : 0;
  }
  return Math.max(0, tasks);
}

/** At most `tasks` tasks of perTask MiB each in freeMem MiB (perTask 0: no bound). */
function memoryBound(tasks: number, freeMem: number, perTask: number): number {
  return perTask > 0 && freeMem < tasks * perTask ? Math.min(tasks, Math.floor(freeMem / perTask)) : tasks;
}

/** How many tasks of `req` the node takes when nothing runs on it: what its hardware allows. */
export function emptyNodeTaskCapacity(req: ResourceRequest, node: NodeHardware): number {
  return nodeTaskCapacity(req, { node, inService: true, cpus: 0, memoryMiB: 0, gpus: 0, exclusive: false, allocations: 0 });
}

/** Sum of the k largest capacities, from counts[capacity] = how many nodes have it. */
export function topSum(counts: readonly number[], k: number): number {
  let sum = 0;
  for (let v = counts.length - 1; v > 0 && k > 0; v--) {
    const take = Math.min(k, counts[v]!);
    sum += take * v;
    k -= take;
  }
  return sum;
}

/**
 * Whether nodes whose task capacities are counted in `counts` (counts[c] = how many nodes can
 * take c tasks, c >= 1, capacities capped at req.tasks; `usable` = how many nodes have c >= 1)
 * can hold `req`: exactly when placement.ts's tryPlace finds a placement on them.
 */
export function capacitiesHold(req: ResourceRequest, counts: readonly number[], usable: number): boolean {
  const most = Math.min(req.maxNodes, usable, req.tasks);
  return most >= req.minNodes && topSum(counts, most) >= req.tasks;
}
