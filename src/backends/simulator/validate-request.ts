/**
 * The simulator's submit-time check: the shared fit check (../request-fit.ts) on the
 * simulated cluster's configured hardware. PURE. Node states (drained/down) and partition
 * state do not matter here (SLURM accepts such jobs and keeps them pending).
 */
import type { GrmError } from '../../errors.js';
import { requestHardwareError, requestLimitsError, type FitNode, type FitPartition } from '../request-fit.js';
import type { ResourceRequest } from '../resource-backend.js';
import { findPartition, type SimulatedClusterSpec, type SimulatedPartitionSpec } from './cluster-spec.js';

/** A simulated partition as the fit check reads it (nodes by reference, not copied). */
export function simulatedFitPartition(spec: SimulatedClusterSpec, partition: SimulatedPartitionSpec): FitPartition {
  const byName = new Map(spec.nodes.map((n) => [n.name, n]));
  const nodes = partition.nodes.map((name) => byName.get(name)).filter((n): n is FitNode => n !== undefined);
  // The simulator has no MaxNodes: a job may use every node of its partition.
  return { name: partition.name, nodes, maxTimeMinutes: partition.maxTimeMinutes, maxNodesPerJob: null, totalNodes: nodes.length };
}

function fitPartitionOf(spec: SimulatedClusterSpec, name: string): FitPartition | undefined {
  const partition = findPartition(spec, name);
  return partition && simulatedFitPartition(spec, partition);
}

const throwIf = (error: GrmError | undefined): void => {
  if (error) throw error;
};

/**
 * Throws GrmError E_PARTITION_UNKNOWN, E_NODE_CONFIG_UNAVAILABLE or E_REQUEST_INVALID (see
 * request-fit.ts) for a request the simulated cluster could never run. An empty partition
 * name means the default one.
 */
export function validateRequest(spec: SimulatedClusterSpec, req: ResourceRequest): void {
  const partition = fitPartitionOf(spec, req.partition);
  throwIf(requestLimitsError(partition, req));
  throwIf(requestHardwareError(partition!, req));
}

/**
 * What requestHardwareError reads of a request, types included: equal keys check alike (the
 * time limit is not among them: job shapes repeat, time limits vary).
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
 * validateRequest for a spec that never changes: its partitions mapped once, the check's O(1)
 * half every time, its O(nodes) half once per request shape (a shape accepted once is
 * accepted again).
 */
export class RequestValidator {
  private readonly accepted = new Set<string>();
  private readonly partitions = new Map<string, FitPartition>();

  constructor(private readonly spec: SimulatedClusterSpec) {}

  check(req: ResourceRequest): void {
    const partition = this.partitionOf(req.partition);
    throwIf(requestLimitsError(partition, req));
    const key = hardwareKey(req);
    if (this.accepted.has(key)) return;
    throwIf(requestHardwareError(partition!, req));
    if (this.accepted.size >= VALIDATED_MAX) this.accepted.clear();
    this.accepted.add(key);
  }

  private partitionOf(name: string): FitPartition | undefined {
    let p = this.partitions.get(name);
    if (!p) {
      p = fitPartitionOf(this.spec, name);
      if (p) this.partitions.set(name, p);
    }
    return p;
  }
}
