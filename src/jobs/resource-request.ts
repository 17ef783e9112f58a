/**
 * Turns a job description (slurmrestd fields) into what a backend allocates, with SLURM's
 * defaults: one node, one task per node, one CPU per task, the partition's default time.
 */
import type { PartitionInfo, ResourceRequest } from '../backends/resource-backend.js';
import { GrmError } from '../errors.js';
import type { JobDescription } from './job-types.js';

export interface GpuSpec {
  type?: string;
  count: number;
}

/** "gres/gpu", "gres/gpu:2", "gres/gpu:a100:2" (also without the "gres/" prefix). */
export function parseGpuTres(tres: string | undefined): GpuSpec | undefined {
  if (!tres) return undefined;
  for (const item of tres.split(',')) {
    const parts = item.replace(/^gres\//, '').split(':');
    if (parts[0] !== 'gpu') continue;
    if (parts.length === 1) return { count: 1 };
    const last = parts[parts.length - 1]!;
    const count = /^\d+$/.test(last) ? Number(last) : 1;
    const type = parts.length === 3 || (parts.length === 2 && !/^\d+$/.test(last)) ? parts[1] : undefined;
    return type ? { type, count } : { count };
  }
  return undefined;
}

/** Picks the partition: the one named, or the default; unknown names are refused as sbatch does. */
export function choosePartition(name: string | undefined, partitions: PartitionInfo[]): PartitionInfo {
  if (name) {
    const found = partitions.find((p) => p.name === name);
    if (!found) {
      throw new GrmError(
        'E_PARTITION_UNKNOWN',
        `invalid partition specified: ${name} (known: ${partitions.map((p) => p.name).join(', ') || 'none'})`,
        { field: 'partition' },
      );
    }
    return found;
  }
  const def = partitions.find((p) => p.isDefault) ?? partitions[0];
  if (!def) throw new GrmError('E_PARTITION_UNKNOWN', 'no partition specified and the cluster has no default partition', { field: 'partition' });
  return def;
}

/** minutes; null = UNLIMITED. A job without a limit gets the partition's default, else its max. */
export function effectiveTimeLimit(description: JobDescription, partition: PartitionInfo): number | null {
  if (description.time_limit === 'UNLIMITED') return partition.maxTimeMinutes;
  if (description.time_limit !== undefined) return description.time_limit;
  return partition.defaultTimeMinutes ?? partition.maxTimeMinutes;
}

export function toResourceRequest(
  jobId: number,
  user: string,
  description: JobDescription,
  partition: PartitionInfo,
  submitTime: number,
): ResourceRequest {
  const minNodes = description.minimum_nodes ?? 1;
  const tasksPerNode = description.tasks_per_node;
  const tasks = description.tasks ?? (tasksPerNode ? tasksPerNode * minNodes : minNodes);
  // Without -N, SLURM may spread tasks over as many nodes as needed (one task each at most).
  const maxNodes =
    description.maximum_nodes ?? (description.minimum_nodes !== undefined ? minNodes : Math.max(minNodes, tasks));
  // Its shape (node counts, tasks per node) is checked with the rest of the fit, in one place:
  // the backends' validate() (src/backends/request-fit.ts).
  const perNodeGpu = parseGpuTres(description.tres_per_node);
  const perJobGpu = parseGpuTres(description.tres_per_job);
  const gpu = perNodeGpu ?? (perJobGpu && { ...perJobGpu, count: Math.ceil(perJobGpu.count / minNodes) });
  const request: ResourceRequest = {
    jobId,
    name: description.name ?? 'job',
    user,
    partition: partition.name,
    minNodes,
    maxNodes,
    tasks,
    cpusPerTask: description.cpus_per_task ?? 1,
    gpusPerNode: gpu?.count ?? 0,
    timeLimitMinutes: effectiveTimeLimit(description, partition),
    exclusive: description.exclusive ?? false,
    nice: description.nice ?? 0,
    submitTime,
  };
  if (tasksPerNode !== undefined) request.tasksPerNode = tasksPerNode;
  if (description.memory_per_node !== undefined) request.memoryPerNodeMiB = description.memory_per_node;
  if (description.memory_per_cpu !== undefined) request.memoryPerCpuMiB = description.memory_per_cpu;
  if (gpu?.type) request.gpuType = gpu.type;
  if (description.account) request.account = description.account;
  if (description.qos) request.qos = description.qos;
  return request;
}
