/**
 * The submit-time "does this request fit the cluster at all" check, PURE, shared by both
 * backends: it refuses, with sbatch's wording, a request its partition could never run even
 * with nothing else running, so the API answers at once instead of queueing it forever.
 * Node states (drained/down) and partition state do not matter here: SLURM accepts such jobs
 * and keeps them pending.
 *
 * The hardware half uses task-capacity.ts, the simulator scheduler's own arithmetic: a
 * well-formed request passes exactly when the simulator places it on its empty partition.
 * The SLURM backend maps sinfo/scontrol data to a FitPartition and, once this passes, still
 * asks `sbatch --test-only` for SLURM's final word (QOS, accounts, its own defaults).
 *
 * Errors: E_PARTITION_UNKNOWN, E_REQUEST_INVALID (malformed), E_NODE_CONFIG_UNAVAILABLE
 * ("Requested node configuration is not available: ..." or "Requested time limit is invalid
 * (missing or exceeds some limit): ..."); `field` is the slurmrestd JobDescription field.
 */
import { GrmError } from '../errors.js';
import type { ResourceRequest } from './resource-backend.js';
import { emptyNodeTaskCapacity, topSum, type NodeHardware } from './task-capacity.js';

export interface FitNode extends NodeHardware {
  name: string;
}

/** A partition as the check reads it: its configured nodes and its per-job limits. */
export interface FitPartition {
  name: string;
  nodes: readonly FitNode[];
  /** MaxTime in minutes; null = UNLIMITED. */
  maxTimeMinutes: number | null;
  /** MaxNodes a job may use; null = UNLIMITED. */
  maxNodesPerJob: number | null;
  /**
   * TotalNodes. `nodes` may describe fewer when the backend does not report them all; with
   * none described the hardware is not judged here (the backend's own check is left).
   */
  totalNodes: number;
}

const NODE_CONFIG = 'Requested node configuration is not available';
const TIME_LIMIT = 'Requested time limit is invalid (missing or exceeds some limit)';

function unavailable(detail: string, field: string): GrmError {
  return new GrmError('E_NODE_CONFIG_UNAVAILABLE', `${NODE_CONFIG}: ${detail}`, { field });
}

function invalid(message: string, field: string): GrmError {
  return new GrmError('E_REQUEST_INVALID', message, { field });
}

/** "1 CPU", "4 CPUs". */
const count = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? '' : 's'}`;
const mib = (n: number): string => `${n} MiB`;

/** Whether a time limit (minutes; null or 0 = not given) exceeds a MaxTime (null = UNLIMITED). */
export function exceedsMaxTime(limit: number | null, maxTimeMinutes: number | null): boolean {
  return limit !== null && limit > 0 && maxTimeMinutes !== null && limit > maxTimeMinutes;
}

/** The request is well formed (integers in range, as sbatch's option parser would have them). */
export function requestShapeError(req: ResourceRequest): GrmError | undefined {
  const int = (v: number, min: number): boolean => Number.isInteger(v) && v >= min;
  if (!int(req.minNodes, 1)) return invalid(`minimum node count must be an integer >= 1, got ${req.minNodes}`, 'minimum_nodes');
  if (!int(req.maxNodes, req.minNodes)) {
    return invalid(`maximum node count (${req.maxNodes}) must be an integer >= the minimum (${req.minNodes})`, 'maximum_nodes');
  }
  if (!int(req.tasks, 1)) return invalid(`task count must be an integer >= 1, got ${req.tasks}`, 'tasks');
  if (req.tasksPerNode !== undefined && !int(req.tasksPerNode, 1)) {
    return invalid(`tasks per node must be an integer >= 1, got ${req.tasksPerNode}`, 'tasks_per_node');
  }
  if (!int(req.cpusPerTask, 1)) return invalid(`CPUs per task must be an integer >= 1, got ${req.cpusPerTask}`, 'cpus_per_task');
  if (!int(req.gpusPerNode, 0)) return invalid(`GPUs per node must be an integer >= 0, got ${req.gpusPerNode}`, 'tres_per_node');
  if (req.memoryPerNodeMiB !== undefined && !int(req.memoryPerNodeMiB, 0)) {
    return invalid(`memory per node must be an integer number of MiB >= 0, got ${req.memoryPerNodeMiB}`, 'memory_per_node');
  }
  if (req.memoryPerCpuMiB !== undefined && !int(req.memoryPerCpuMiB, 0)) {
    return invalid(`memory per CPU must be an integer number of MiB >= 0, got ${req.memoryPerCpuMiB}`, 'memory_per_cpu');
  }
  // The backends would read both differently (the simulator's placement takes per node, the
  // holder job's sbatch line per CPU); sbatch itself refuses the pair.
  if ((req.memoryPerNodeMiB ?? 0) > 0 && (req.memoryPerCpuMiB ?? 0) > 0) {
    return invalid('memory_per_node and memory_per_cpu are mutually exclusive (sbatch: --mem, --mem-per-cpu)', 'memory_per_cpu');
  }
  if (req.timeLimitMinutes !== null && !int(req.timeLimitMinutes, 0)) {
    return invalid(`time limit must be a whole number of minutes, got ${req.timeLimitMinutes}`, 'time_limit');
  }
  if (req.tasks < req.minNodes) {
    return invalid(`can't run ${req.tasks} processes on ${req.minNodes} nodes: ask for fewer nodes or more tasks`, 'tasks');
  }
  return undefined;
}

/**
 * The O(1) half: the partition exists (undefined = the request's partition is unknown), the
 * request is well formed, its time limit and node count are within the partition's.
 */
export function requestLimitsError(partition: FitPartition | undefined, req: ResourceRequest): GrmError | undefined {
  if (!partition) {
    const message = req.partition
      ? `invalid partition specified: ${req.partition}`
      : 'no partition specified and the cluster has no default partition';
    return new GrmError('E_PARTITION_UNKNOWN', message, { field: 'partition' });
  }
  const shape = requestShapeError(req);
  if (shape) return shape;
  const pname = partition.name;
  if (exceedsMaxTime(req.timeLimitMinutes, partition.maxTimeMinutes)) {
    return new GrmError(
      'E_NODE_CONFIG_UNAVAILABLE',
      `${TIME_LIMIT}: ${req.timeLimitMinutes} minutes exceeds the MaxTime of partition ${pname} (${partition.maxTimeMinutes} minutes)`,
      { field: 'time_limit' },
    );
  }
  if (req.minNodes > partition.totalNodes) {
    return unavailable(`partition ${pname} has ${count(partition.totalNodes, 'node')}, the job asks for at least ${req.minNodes}`, 'minimum_nodes');
  }
  const maxNodes = partition.maxNodesPerJob;
  if (maxNodes !== null && req.minNodes > maxNodes) {
    return unavailable(
      `partition ${pname} allows at most ${count(maxNodes, 'node')} per job (MaxNodes), the job asks for at least ${req.minNodes}`,
      'minimum_nodes',
    );
  }
  return undefined;
}

/** What one node must have at least for one node's share of the request. */
interface PerNodeNeed {
  tasks: number;
  cpus: number;
  memoryMiB: number;
}

function perNodeNeed(req: ResourceRequest): PerNodeNeed {
  const tasks = Math.min(req.tasksPerNode ?? 1, req.tasks);
  const cpus = tasks * req.cpusPerTask;
  const perNode = req.memoryPerNodeMiB ?? 0;
  return { tasks, cpus, memoryMiB: perNode > 0 ? perNode : (req.memoryPerCpuMiB ?? 0) * cpus };
}

const largest = (nodes: readonly FitNode[], f: (n: FitNode) => number): number =>
  nodes.reduce((m, n) => Math.max(m, f(n)), 0);

/** Each per-node need alone against the partition's largest node (the plainest reason). */
function perNodeLimitError(partition: FitPartition, req: ResourceRequest, need: PerNodeNeed): GrmError | undefined {
  const pname = partition.name;
  const nodes = partition.nodes;
  const maxCpus = largest(nodes, (n) => n.cpus);
  if (need.cpus > maxCpus) {
    const what =
      req.tasksPerNode !== undefined
        ? `${count(need.tasks, 'task')} per node × ${count(req.cpusPerTask, 'CPU')} per task`
        : `${count(req.cpusPerTask, 'CPU')} per task`;
    return unavailable(
      `${what} requested, the largest node of partition ${pname} has ${count(maxCpus, 'CPU')}`,
      req.tasksPerNode !== undefined ? 'tasks_per_node' : 'cpus_per_task',
    );
  }
  if (req.gpusPerNode > 0) {
    const kind = req.gpuType ? `${req.gpuType} GPU` : 'GPU';
    const typed = req.gpuType ? nodes.filter((n) => n.gpuType === req.gpuType) : nodes;
    const maxGpus = largest(typed, (n) => n.gpus);
    if (req.gpusPerNode > maxGpus) {
      const has = maxGpus === 0 ? `partition ${pname} has no ${kind}s` : `no node of partition ${pname} has more than ${maxGpus}`;
      return unavailable(`${count(req.gpusPerNode, kind)} per node requested, ${has}`, 'tres_per_node');
    }
  }
  const maxMem = largest(nodes, (n) => n.memoryMiB);
  if (need.memoryMiB > maxMem) {
    const perNode = (req.memoryPerNodeMiB ?? 0) > 0;
    const how = perNode ? '' : ` (${mib(req.memoryPerCpuMiB ?? 0)} per CPU × ${count(need.cpus, 'CPU')})`;
    return unavailable(
      `${mib(need.memoryMiB)} of memory per node requested${how}, the largest node of partition ${pname} has ${mib(maxMem)}`,
      perNode ? 'memory_per_node' : 'memory_per_cpu',
    );
  }
  return undefined;
}

/**
 * The O(partition nodes) half: the request fits the partition's hardware, each need alone,
 * then all at once, then its tasks over the nodes it may use. Assumes requestLimitsError
 * passed; reads neither the time limit nor anything but the request's shape.
 */
export function requestHardwareError(partition: FitPartition, req: ResourceRequest): GrmError | undefined {
  if (partition.nodes.length === 0) return undefined;
  const need = perNodeNeed(req);
  const alone = perNodeLimitError(partition, req, need);
  if (alone) return alone;
  const pname = partition.name;
  // counts[c] = nodes that take c tasks (capped at the job's tasks, as the scheduler counts).
  const counts: number[] = [0];
  let usable = 0;
  for (const n of partition.nodes) {
    const cap = Math.min(emptyNodeTaskCapacity(req, n), req.tasks);
    if (!(cap > 0)) continue;
    usable++;
    while (counts.length <= cap) counts.push(0);
    counts[cap]!++;
  }
  if (usable === 0) {
    const parts = [count(need.cpus, 'CPU')];
    if (need.memoryMiB > 0) parts.push(mib(need.memoryMiB));
    if (req.gpusPerNode > 0) parts.push(count(req.gpusPerNode, `${req.gpuType ? `${req.gpuType} ` : ''}GPU`));
    const all = parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)!}` : parts[0]!;
    return unavailable(`no node of partition ${pname} has ${all} at once`, 'partition');
  }
  const most = Math.min(req.maxNodes, partition.maxNodesPerJob ?? Infinity, usable, req.tasks);
  if (most < req.minNodes) {
    return unavailable(
      `the job asks for at least ${count(req.minNodes, 'node')}, only ${usable} of partition ${pname} can run its tasks`,
      'minimum_nodes',
    );
  }
  if (topSum(counts, most) < req.tasks) {
    return unavailable(
      `${count(req.tasks, 'task')} of ${count(req.cpusPerTask, 'CPU')} each do not fit on ${most === req.minNodes ? '' : 'at most '}` +
        `${count(most, 'node')} of partition ${pname}: a node takes at most ${counts.length - 1} of them`,
      'tasks',
    );
  }
  return undefined;
}

/** The whole check: undefined when the request fits `partition` (undefined = unknown partition). */
export function requestFitError(partition: FitPartition | undefined, req: ResourceRequest): GrmError | undefined {
  return requestLimitsError(partition, req) ?? (partition && requestHardwareError(partition, req));
}
