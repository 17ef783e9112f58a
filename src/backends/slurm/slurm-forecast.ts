/**
 * The start forecast on SLURM (pure): SLURM's own cluster and jobs, as sinfo, scontrol and
 * squeue show them, turned into the simulator's inputs and replayed (simulate/forecast.ts).
 * Every SLURM job counts, GRM's or not: running ones end at their time limits, waiting ones
 * ask for their CPUs on their node count (GRM's own holders for their whole request), in the
 * order SLURM's schedulers take them: by priority (squeue's %Q; GRM sets its holders' own when
 * it may), the older first at equal priority; then come the jobs GRM still keeps, in its
 * order; a waiting job that wants whole nodes (--exclusive) gets them. What squeue does not show
 * (a running job's memory and GPUs per node) is left out: the forecast counts CPUs and nodes.
 */
import type { SimulatedClusterSpec } from '../simulator/cluster-spec.js';
import type { NodeAdminState, RunningAllocation } from '../simulator/placement.js';
import type { QueuedRequest } from '../simulator/scheduler.js';
import { forecastStarts } from '../../simulate/forecast.js';
import type { NodeInfo, ResourceRequest } from '../resource-backend.js';
import type { ScontrolPartition } from './sinfo-parse.js';
import type { SqueueJobStatus, SqueueWaiting } from './squeue-parse.js';

export interface SlurmForecastInput {
  nodes: readonly NodeInfo[];
  partitions: readonly ScontrolPartition[];
  jobs: readonly SqueueJobStatus[];
  /** Waiting jobs' priorities (squeue's %Q) and whole-node wishes by SLURM job id; a job without one comes last. */
  waitingJobs: ReadonlyMap<string, SqueueWaiting>;
  /** The request of each holder waiting in SLURM for this GRM, by SLURM job id (squeue does not show all of it). */
  holders: ReadonlyMap<string, ResourceRequest>;
  /** Jobs GRM still keeps, in its order. */
  waiting: readonly ResourceRequest[];
  now: number;
  maxJobs: number;
}

function spec(nodes: readonly NodeInfo[], partitions: readonly ScontrolPartition[]): SimulatedClusterSpec {
  return {
    nodes: nodes.map((n) => ({ name: n.name, cpus: n.cpus, memoryMiB: n.memoryMiB, gpus: n.gpus })),
    partitions: partitions.map((p) => ({ name: p.name, nodes: [...p.nodes], default: p.isDefault, maxTimeMinutes: p.maxTimeMinutes })),
  };
}

/** A waiting SLURM job as the simulator's request: its CPUs over its node count. */
function requestOf(j: SqueueJobStatus, jobId: number, defaultPartition: string, exclusive: boolean): ResourceRequest {
  const nodes = Math.max(1, j.nodeCount);
  return {
    jobId,
    name: j.slurmJobId,
    user: String(j.uid),
    partition: j.partition.split(',')[0] || defaultPartition,
    minNodes: nodes,
    maxNodes: nodes,
    tasks: Math.max(nodes, j.cpus),
    cpusPerTask: 1,
    memoryPerNodeMiB: 0,
    gpusPerNode: 0,
    timeLimitMinutes: j.timeLimitMinutes,
    exclusive,
    nice: 0,
    submitTime: 0,
  };
}

/** Expected start by GRM job id (ms; null: none can be given). */
export function slurmForecast(input: SlurmForecastInput): Map<number, number | null> {
  const defaultPartition = input.partitions.find((p) => p.isDefault)?.name ?? input.partitions[0]?.name ?? '';
  const nodeStates = new Map<string, NodeAdminState>();
  for (const n of input.nodes) if (n.state === 'down' || n.state === 'drained') nodeStates.set(n.name, n.state === 'down' ? 'down' : 'drained');
  const running: RunningAllocation[] = input.jobs
    .filter((j) => j.phase === 'RUNNING')
    .map((j) => ({ id: `slurm-${j.slurmJobId}`, exclusive: false, nodes: j.nodes.map((n) => ({ ...n, memoryMiB: 0, gpus: 0 })), endTime: j.endTime }));
  const grmOf = new Map<string, number>();
  const queue: QueuedRequest[] = [];
  const priority = (j: SqueueJobStatus) => input.waitingJobs.get(j.slurmJobId)?.priority ?? -1;
  const pending = input.jobs
    .filter((j) => j.phase === 'PENDING')
    .sort((a, b) => priority(b) - priority(a) || Number(a.slurmJobId) - Number(b.slurmJobId));
  for (const j of pending) {
    const id = `slurm-${j.slurmJobId}`;
    const grm = input.holders.get(j.slurmJobId);
    if (grm !== undefined) grmOf.set(id, grm.jobId);
    queue.push({ id, request: grm ? { ...grm, partition: grm.partition || defaultPartition } : requestOf(j, -1, defaultPartition, input.waitingJobs.get(j.slurmJobId)?.exclusive ?? false) });
  }
  for (const r of input.waiting) {
    grmOf.set(`grm-${r.jobId}`, r.jobId);
    queue.push({ id: `grm-${r.jobId}`, request: { ...r, partition: r.partition || defaultPartition } });
  }
  const starts = forecastStarts({ spec: spec(input.nodes, input.partitions), nodeStates, running, queue, now: input.now }, { maxJobs: input.maxJobs });
  const out = new Map<number, number | null>();
  for (const [id, at] of starts) {
    const grm = grmOf.get(id);
    if (grm !== undefined) out.set(grm, at);
  }
  return out;
}
