/**
 * The "holder" job: one per GRM job, it owns the allocation for the job's lifetime; SLURM's
 * time limit ends it, or the GRM scancels it when the master exits. The GRM runs the master
 * itself with SLURM_JOB_ID=<holder id>, so `srun --jobid=$SLURM_JOB_ID --overlap ...` lands on
 * the holder's nodes. Two kinds, the same request:
 * - `salloc --no-shell` (the default): an allocation with no batch script. slurmctld pushes
 *   the grant to the waiting salloc, which exits at once: GRM learns of it without a poll, and
 *   no batch step is launched on the node nor killed at the end.
 * - a batch job whose script does nothing but wait (`exec sleep infinity`, GNU coreutils
 *   accepts "infinity"): for clusters with InactiveLimit set, where slurmctld ends an
 *   allocation whose salloc has gone away.
 *
 * Submitted by a root daemon for the job's user (`--uid`/`--gid`, which sbatch takes from root
 * only): SLURM then accounts the allocation to that user, and the master, which runs as that
 * user too, may `srun --jobid` into it as into any job of its own.
 *
 * The comment `grm:<instance>:<jobId>` is how a restarted GRM (or a retried allocate) finds the
 * holder again; the instance id (one per GRM data dir) keeps two GRMs on one cluster from
 * adopting each other's holders. Pure: no I/O here.
 */
import type { ResourceRequest } from '../resource-backend.js';

/** The script sbatch reads on stdin (no --wrap: that would be a shell command line). */
export const HOLDER_SCRIPT = '#!/bin/sh\n# GRM allocation holder: keeps the nodes until cancelled or out of time.\nexec sleep infinity\n';

export const HOLDER_COMMENT_PREFIX = 'grm:';

export interface HolderJobOptions {
  /** --chdir of the holder; default /tmp. */
  workDir?: string;
  /** The GRM instance the holder belongs to. */
  instance: string;
  /** The account the holder is submitted for (root daemon, run-as); absent: the daemon's own. */
  account?: { uid: number; gid: number } | null;
  /**
   * The daemon may set a job's priority (root or SlurmUser: SLURM lets only operators): the
   * holder gets GRM's priority as its own (`--priority`), so holders waiting in SLURM start in
   * GRM's order; GRM's priority already counts the job's nice, so --nice is left out.
   */
  setPriority?: boolean;
}

/** SLURM's job priority for GRM's (a positive 32-bit value: 0 would mean held). */
export function slurmPriority(priority: number): number {
  return Math.min(Math.max(1, Math.round(priority)), 4_294_967_293);
}

/** The comment that marks the holder of a GRM job. */
export function holderComment(instance: string, jobId: number): string {
  return `${HOLDER_COMMENT_PREFIX}${instance}:${jobId}`;
}

/** The GRM instance and job id a holder's comment names, or null when it is not a GRM holder. */
export function parseHolderComment(comment: string | null | undefined): { instance: string; jobId: number } | null {
  if (!comment) return null;
  const m = /^grm:([A-Za-z0-9_-]+):(\d+)$/.exec(comment.trim());
  if (!m) return null;
  const n = Number(m[2]);
  return Number.isSafeInteger(n) ? { instance: m[1]!, jobId: n } : null;
}

/** A job name SLURM keeps as given: no whitespace or control characters, bounded length. */
export function holderJobName(request: Pick<ResourceRequest, 'jobId' | 'name'>): string {
  const clean = request.name.replace(/[\s\p{Cc}]+/gu, '_').slice(0, 100);
  return `grm-${request.jobId}${clean ? `-${clean}` : ''}`;
}

/** The sbatch argv (without the binary) of the batch holder for a request. */
export function holderSbatchArgs(request: ResourceRequest, options: HolderJobOptions): string[] {
  // --no-requeue: SLURM would put a batch holder whose node failed back in its queue, out of
  // GRM's sight; GRM ends it and decides the job's requeue itself
  return ['--parsable', ...requestArgs(request, options), '--no-requeue', '--output=/dev/null', '--error=/dev/null', `--chdir=${options.workDir ?? '/tmp'}`];
}

/** The salloc argv (without the binary) of the allocation holder for a request. */
export function holderSallocArgs(request: ResourceRequest, options: HolderJobOptions): string[] {
  return ['--no-shell', ...requestArgs(request, options), `--chdir=${options.workDir ?? '/tmp'}`];
}

/** What sbatch and salloc share: the job's name, comment, resources, limits and owner. */
function requestArgs(request: ResourceRequest, options: HolderJobOptions): string[] {
  const args = [
    `--job-name=${holderJobName(request)}`,
    `--comment=${holderComment(options.instance, request.jobId)}`,
    `--nodes=${request.maxNodes > request.minNodes ? `${request.minNodes}-${request.maxNodes}` : request.minNodes}`,
    `--ntasks=${request.tasks}`,
  ];
  if (request.tasksPerNode !== undefined) args.push(`--ntasks-per-node=${request.tasksPerNode}`);
  args.push(`--cpus-per-task=${request.cpusPerTask}`);
  if (request.memoryPerCpuMiB !== undefined && request.memoryPerCpuMiB > 0) {
    args.push(`--mem-per-cpu=${request.memoryPerCpuMiB}M`);
  } else if (request.memoryPerNodeMiB !== undefined && request.memoryPerNodeMiB > 0) {
    args.push(`--mem=${request.memoryPerNodeMiB}M`);
  } else if (request.memoryPerNodeMiB === 0 && request.exclusive) {
    args.push('--mem=0'); // SLURM: all of each node's memory
  }
  if (request.gpusPerNode > 0) {
    args.push(`--gres=gpu:${request.gpuType ? `${request.gpuType}:` : ''}${request.gpusPerNode}`);
  }
  if (request.timeLimitMinutes !== null) args.push(`--time=${request.timeLimitMinutes}`);
  // No partition: SLURM's default one (an empty --partition= is not that).
  if (request.partition !== '') args.push(`--partition=${request.partition}`);
  if (request.account) args.push(`--account=${request.account}`);
  if (request.qos) args.push(`--qos=${request.qos}`);
  if (request.exclusive) args.push('--exclusive');
  if (options.setPriority && request.priority !== undefined) args.push(`--priority=${slurmPriority(request.priority)}`);
  else if (request.nice !== 0) args.push(`--nice=${request.nice}`);
  if (options.account) args.push(`--uid=${options.account.uid}`, `--gid=${options.account.gid}`);
  return args;
}
