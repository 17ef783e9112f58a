/**
 * A holder as the SLURM backend tracks it, and what a poll makes of it (pure): granted with its
 * allocation, a new pending reason, or ended by SLURM with the end state GRM reports.
 */
import { compressHostlist } from '../../hostlist/hostlist.js';
import type { AllocatedNode, Allocation, AllocationEndState, BackendEvent, ResourceRequest } from '../resource-backend.js';
import type { WaitingSalloc } from './slurm-commands.js';
import type { SqueueJobStatus } from './squeue-parse.js';

export interface Tracked {
  backendId: string;
  request: ResourceRequest;
  status: 'PENDING' | 'RUNNING' | 'ENDED';
  reason?: string;
  allocation?: Allocation;
  /** Poll sequence number when tracking began: a poll started earlier cannot judge it. */
  since: number;
  /** The salloc still waiting for this holder's grant, if any. */
  salloc?: WaitingSalloc;
}

/** What Slurm 22.05 shows as the time limit of a running job that has none (365 days). */
const UNLIMITED_MINUTES = 525_600;

const END_STATES: Record<string, AllocationEndState> = {
  TIMEOUT: 'TIMEOUT',
  DEADLINE: 'TIMEOUT',
  NODE_FAIL: 'NODE_FAIL',
  BOOT_FAIL: 'NODE_FAIL',
  CANCELLED: 'CANCELLED',
  PREEMPTED: 'CANCELLED',
};

/** AllocationEndState for a holder that ended by itself, from SLURM's job_state. */
export function endStateOf(slurmState: string): AllocationEndState {
  return END_STATES[slurmState.toUpperCase()] ?? 'FAILED';
}

/**
 * What one poll says of one tracked holder (`job`: its squeue line, absent when SLURM forgot
 * it): the event to emit, if any; `t` is updated. The GRM's own release stops tracking first,
 * so an end seen here is SLURM's own (time limit, node failure, someone's scancel).
 */
export function judgeHolder(t: Tracked, job: SqueueJobStatus | undefined, detail: AllocatedNode[] | undefined): BackendEvent[] {
  const jobId = t.request.jobId;
  if (!job) {
    t.status = 'ENDED';
    t.reason = 'holder job vanished';
    return [{ type: 'ended', jobId, backendId: t.backendId, state: 'CANCELLED', reason: t.reason }];
  }
  if (job.phase === 'PENDING') {
    if (t.status !== 'PENDING' || t.reason === job.reason) return [];
    t.reason = job.reason;
    return [{ type: 'pending', jobId, backendId: t.backendId, reason: job.reason }];
  }
  const events: BackendEvent[] = [];
  if (t.status === 'PENDING' && job.nodes.length > 0) {
    t.status = 'RUNNING';
    delete t.reason;
    t.allocation = allocationFrom(t, job, detail);
    events.push({ type: 'granted', jobId, allocation: structuredClone(t.allocation) });
  }
  if (job.phase === 'RUNNING') return events;
  // granted and ended between two polls: both, in that order
  t.status = 'ENDED';
  const state = endStateOf(job.state);
  t.reason = state === 'FAILED' ? `holder ${job.state}: ${job.reason}` : job.reason !== 'None' ? job.reason : `holder ${job.state}`;
  events.push({ type: 'ended', jobId, backendId: t.backendId, state, reason: t.reason });
  return events;
}

/** The allocation of a holder seen granted: scontrol's per-node detail, else squeue's even split. */
export function allocationFrom(t: Pick<Tracked, 'backendId' | 'request'>, job: SqueueJobStatus, detail: AllocatedNode[] | undefined): Allocation {
  const r = t.request;
  const nodes = (detail ?? job.nodes).map((n) => {
    const node = { ...n };
    if (node.cpus <= 0) node.cpus = (r.tasksPerNode ?? Math.ceil(r.tasks / job.nodes.length)) * r.cpusPerTask;
    if (node.gpus === 0 && r.gpusPerNode > 0) node.gpus = r.gpusPerNode;
    if (node.gpuType === undefined && r.gpuType !== undefined && node.gpus > 0) node.gpuType = r.gpuType;
    return node;
  });
  return {
    backendId: t.backendId,
    partition: job.partition || r.partition,
    nodes,
    nodeList: compressHostlist(nodes.map((n) => n.name)),
    startTime: job.startTime ?? Date.now(),
    // SLURM gives a running job without a limit 365 days (525600 min): that is UNLIMITED.
    endTime: r.timeLimitMinutes === null && (job.timeLimitMinutes ?? UNLIMITED_MINUTES) >= UNLIMITED_MINUTES ? null : job.endTime,
  };
}
