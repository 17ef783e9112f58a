/**
 * Submit-time check, PURE: refuses a request the simulated cluster could never run, with
 * sbatch's wording, so the API can answer at once instead of queueing it forever. Checks the
 * configured hardware only; node states (drained/down) and partition state do not matter
 * here (SLURM accepts such jobs and keeps them pending).
 */
import { GrmError } from '../../errors.js';
import type { ResourceRequest } from '../resource-backend.js';
import { findPartition, type SimulatedClusterSpec, type SimulatedNodeSpec } from './cluster-spec.js';
import { nodeTaskCapacity, tryPlace, type NodeUsage } from './placement.js';

const NODE_CONFIG = 'Requested node configuration is not available';
const TIME_LIMIT = 'Requested time limit is invalid (missing or exceeds some limit)';

function unavailable(detail: string, field: string): GrmError {
  return new GrmError('E_NODE_CONFIG_UNAVAILABLE', `${NODE_CONFIG}: ${detail}`, { field });
}

function invalid(message: string, field: string): GrmError {
  return new GrmError('E_REQUEST_INVALID', message, { field });
}

function checkShape(req: ResourceRequest): void {
  const int = (v: number, min: number): boolean => Number.isInteger(v) && v >= min;
  if (!int(req.minNodes, 1)) throw invalid(`minimum node count must be an integer >= 1, got ${req.minNodes}`, 'minimum_nodes');
  if (!int(req.maxNodes, req.minNodes)) {
    throw invalid(`maximum node count (${req.maxNodes}) must be an integer >= the minimum (${req.minNodes})`, 'maximum_nodes');
  }
  if (!int(req.tasks, 1)) throw invalid(`task count must be an integer >= 1, got ${req.tasks}`, 'tasks');
  if (req.tasksPerNode !== undefined && !int(req.tasksPerNode, 1)) {
    throw invalid(`tasks per node must be an integer >= 1, got ${req.tasksPerNode}`, 'tasks_per_node');
  }
  if (!int(req.cpusPerTask, 1)) throw invalid(`CPUs per task must be an integer >= 1, got ${req.cpusPerTask}`, 'cpus_per_task');
  if (!int(req.gpusPerNode, 0)) throw invalid(`GPUs per node must be an integer >= 0, got ${req.gpusPerNode}`, 'tres_per_node');
  if (req.memoryPerNodeMiB !== undefined && !int(req.memoryPerNodeMiB, 0)) {
    throw invalid(`memory per node must be an integer number of MiB >= 0, got ${req.memoryPerNodeMiB}`, 'memory_per_node');
  }
  if (req.memoryPerCpuMiB !== undefined && !int(req.memoryPerCpuMiB, 0)) {
    throw invalid(`memory per CPU must be an integer number of MiB >= 0, got ${req.memoryPerCpuMiB}`, 'memory_per_cpu');
  }
  if (req.timeLimitMinutes !== null && !int(req.timeLimitMinutes, 0)) {
    throw invalid(`time limit must be a whole number of minutes, got ${req.timeLimitMinutes}`, 'time_limit');
  }
  if (req.tasks < req.minNodes) {
    throw invalid(`can't run ${req.tasks} processes on ${req.minNodes} nodes: ask for fewer nodes or more tasks`, 'tasks');
  }
}

const mib = (n: number): string => `${n} MiB`;

/**
 * Throws GrmError E_PARTITION_UNKNOWN ("invalid partition specified: X"),
 * E_NODE_CONFIG_UNAVAILABLE ("Requested node configuration is not available: <which limit>",
 * or "Requested time limit is invalid (missing or exceeds some limit): ..."), or
 * E_REQUEST_INVALID for a malformed request. An empty partition name means the default one.
 */
export function validateRequest(spec: SimulatedClusterSpec, req: ResourceRequest): void {
  validateRequestLimits(spec, req);
  validateRequestHardware(spec, req);
}

/**
 * The first half of validateRequest, O(1): the partition exists, the request is well formed,
 * its time limit and node count are within the partition's. Throws as validateRequest does.
 */
export function validateRequestLimits(spec: SimulatedClusterSpec, req: ResourceRequest): void {
  const partition = findPartition(spec, req.partition);
  if (!partition) {
    throw new GrmError('E_PARTITION_UNKNOWN', `invalid partition specified: ${req.partition || '(default)'}`, {
      field: 'partition',
    });
  }
  checkShape(req);
  const pname = partition.name;

  const limit = req.timeLimitMinutes;
  if (limit !== null && limit > 0 && partition.maxTimeMinutes !== null && limit > partition.maxTimeMinutes) {
    throw new GrmError(
      'E_NODE_CONFIG_UNAVAILABLE',
      `${TIME_LIMIT}: ${limit} minutes exceeds the MaxTime of partition ${pname} (${partition.maxTimeMinutes} minutes)`,
      { field: 'time_limit' },
    );
  }
  if (req.minNodes > partition.nodes.length) {
    throw unavailable(
      `partition ${pname} has ${partition.nodes.length} nodes, the job asks for at least ${req.minNodes}`,
      'minimum_nodes',
    );
  }
}

/**
 * The second half of validateRequest, O(partition nodes): the request fits the partition's
 * hardware (CPUs, GPUs, memory, all at once, and its tasks on an empty cluster). Assumes
 * validateRequestLimits passed; reads neither the time limit nor anything but the shape.
 */
export function validateRequestHardware(spec: SimulatedClusterSpec, req: ResourceRequest): void {
  const partition = findPartition(spec, req.partition);
  if (!partition) return;
  const pname = partition.name;
  const inPartition = new Set(partition.nodes);
  const nodes = spec.nodes.filter((n) => inPartition.has(n.name));
  const most = (f: (n: (typeof nodes)[number]) => number, among = nodes): number =>
    among.reduce((m, n) => Math.max(m, f(n)), 0);

  const cpusNeeded = Math.min(req.tasksPerNode ?? 1, req.tasks) * req.cpusPerTask;
  const maxCpus = most((n) => n.cpus);
  if (cpusNeeded > maxCpus) {
    const what =
      req.tasksPerNode !== undefined
        ? `${Math.min(req.tasksPerNode, req.tasks)} tasks per node × ${req.cpusPerTask} CPUs per task`
        : `${req.cpusPerTask} CPUs per task`;
    throw unavailable(
      `${what} requested, the largest node of partition ${pname} has ${maxCpus} CPUs`,
      req.tasksPerNode !== undefined ? 'tasks_per_node' : 'cpus_per_task',
    );
  }

  if (req.gpusPerNode > 0) {
    const typed = req.gpuType ? nodes.filter((n) => n.gpuType === req.gpuType) : nodes;
    const maxGpus = most((n) => n.gpus, typed);
    if (req.gpusPerNode > maxGpus) {
      const kind = req.gpuType ? `${req.gpuType} GPUs` : 'GPUs';
      throw unavailable(
        `${req.gpusPerNode} ${kind} per node requested, no node of partition ${pname} has more than ${maxGpus}`,
        'tres_per_node',
      );
    }
  }

  const perNode = req.memoryPerNodeMiB ?? 0;
  const perCpu = perNode > 0 ? 0 : (req.memoryPerCpuMiB ?? 0);
  const memNeeded = perNode > 0 ? perNode : perCpu * cpusNeeded;
  const maxMem = most((n) => n.memoryMiB);
  if (memNeeded > maxMem) {
    throw unavailable(
      `${mib(memNeeded)} of memory per node requested, the largest node of partition ${pname} has ${mib(maxMem)}`,
      perNode > 0 ? 'memory_per_node' : 'memory_per_cpu',
    );
  }

  // Each limit alone fits somewhere; now together, on an empty cluster (node usage made on
  // demand: a partition of thousands of nodes is read, not copied).
  const empty = (node: SimulatedNodeSpec): NodeUsage => ({
    node,
    inService: true,
    cpus: 0,
    memoryMiB: 0,
    gpus: 0,
    exclusive: false,
    allocations: 0,
  });
  let usable = 0;
  let maxTasksPerNode = 0;
  for (const n of nodes) {
    const cap = nodeTaskCapacity(req, empty(n));
    if (cap > 0) {
      usable++;
      maxTasksPerNode = Math.max(maxTasksPerNode, cap);
    }
  }
  if (usable === 0) {
    const parts = [`${cpusNeeded} CPUs`];
    if (memNeeded > 0) parts.push(mib(memNeeded));
    if (req.gpusPerNode > 0) parts.push(`${req.gpusPerNode} ${req.gpuType ? `${req.gpuType} ` : ''}GPUs`);
    throw unavailable(`no node of partition ${pname} has ${parts.join(', ')} at once`, 'partition');
  }
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const emptyView = {
    get(name: string): NodeUsage | undefined {
      const n = byName.get(name);
      return n && empty(n);
    },
  };
  if (!tryPlace(req, partition, emptyView, { maxTasksPerNode })) {
    throw unavailable(
      `${req.tasks} tasks of ${req.cpusPerTask} CPUs do not fit on ${req.minNodes === req.maxNodes ? '' : 'at most '}${Math.min(req.maxNodes, usable)} usable nodes of partition ${pname}`,
      'tasks',
    );
  }
}

/**
 * What validateRequestHardware reads of a request, types included: equal keys validate alike
 * (the time limit is not among them: job shapes repeat, time limits vary).
 */
function hardwareKey(r: ResourceRequest): string {
  return [
    r.partition,
    r.minNodes,
    r.maxNodes,
    r.tasks,
    r.tasksPerNode,
    r.cpusPerTask,
    r.memoryPerNodeMiB,
    r.memoryPerCpuMiB,
    r.gpusPerNode,
    r.gpuType,
    r.exclusive,
  ]
    .map((v: unknown) => `${typeof v}:${typeof v === 'string' ? JSON.stringify(v) : String(v)}`)
    .join(',');
}

/** Accepted request shapes kept at most (a cache, not a record). */
const VALIDATED_MAX = 10_000;

/**
 * validateRequest for a spec that never changes: its O(1) half every time, its O(nodes) half
 * once per request shape (a shape accepted once is accepted again).
 */
export class RequestValidator {
  private readonly accepted = new Set<string>();

  constructor(private readonly spec: SimulatedClusterSpec) {}

  check(req: ResourceRequest): void {
    validateRequestLimits(this.spec, req);
    const key = hardwareKey(req);
    if (this.accepted.has(key)) return;
    validateRequestHardware(this.spec, req);
    if (this.accepted.size >= VALIDATED_MAX) this.accepted.clear();
    this.accepted.add(key);
  }
}
