/**
 * One admission pass: which pending jobs GRM hands to the backend now (as Kueue admits
 * workloads), so the backend's own queue never decides the order.
 *
 * The pass walks the pending jobs in priority order and, for each:
 * 1. a job over a limit (checkRun) is skipped with the limit's reason; the jobs behind it are
 *    still looked at, so a user at a limit never holds other users back;
 * 2. in a pool (partition) already blocked this pass, it waits with `Priority`: a job ahead of
 *    it waits for resources, and starting this one could take what that one needs;
 * 3. if it fits the free capacity, it is admitted and takes its share of it;
 * 4. if not, it is still admitted while the look-ahead lasts (the backend then holds it, backfills
 *    around it and starts it as soon as it can); the look-ahead counts jobs admitted but not yet
 *    started, so `waitingInBackend` of earlier passes use it up;
 * 5. otherwise it waits with `Resources`, and its pool is blocked for the rest of the pass.
 * Admitted jobs count at once toward the limits of the jobs after them (an overlay on the
 * usage; the caller's tracker is left as it was, the caller records what it really sends).
 *
 * Bounds, whatever the queue's length: at most `depth` jobs are tested against the resources
 * (SLURM's default_queue_depth), at most `scanLimit` jobs are read from the queue (jobs skipped
 * for a limit are cheap but counted), and the pass stops as soon as every pool is blocked. The
 * queue is read lazily, so a blocked head costs O(depth), not O(queue).
 */
import { checkRun, type LimitContext, type LimitReason } from './limits.js';
import type { PolicyJob, Resources } from './policy-types.js';
import { UsageOverlay, type ScopeResolver, type UsageView } from './usage-tracker.js';

/** How the pass sees free resources; ResourcePools is the simple count-based one. */
export interface CapacityModel {
  /** The pool a job draws from; a job that cannot start blocks its pool for the pass. */
  poolOf(job: PolicyJob): string;
  fits(job: PolicyJob): boolean;
  take(job: PolicyJob): void;
  /** True when no job could be admitted any more with these pools blocked. */
  exhausted(blocked: ReadonlySet<string>): boolean;
}

export interface AdmissionOptions {
  /** Jobs tested against the resources per pass (default_queue_depth). */
  depth: number;
  /** Jobs looked at per pass, those skipped for a limit or a blocked pool included. */
  scanLimit: number;
  /** Admitted jobs the backend may hold waiting for resources. */
  lookAhead: number;
  /** Admitted jobs it holds waiting now (from earlier passes). */
  waitingInBackend: number;
}

export type WaitReason = LimitReason | 'Priority' | 'Resources';

export interface AdmissionResult {
  /** In priority order. */
  admit: PolicyJob[];
  /** Jobs looked at and not admitted, with why; jobs not looked at keep their reason. */
  waiting: Array<{ jobId: number; reason: WaitReason }>;
  /** Jobs looked at: admitted or given a reason (a job read when the depth ran out is neither). */
  scanned: number;
  /** Why the pass ended. */
  stoppedBy: 'end' | 'depth' | 'scanLimit' | 'exhausted';
}

export interface AdmissionInput {
  pending: Iterable<PolicyJob>;
  usage: UsageView;
  scopes: ScopeResolver;
  limits: LimitContext;
  capacity: CapacityModel;
  options: AdmissionOptions;
}

export function admissionPass({ pending, usage, scopes, limits, capacity, options }: AdmissionInput): AdmissionResult {
  const result: AdmissionResult = { admit: [], waiting: [], scanned: 0, stoppedBy: 'end' };
  const overlay = new UsageOverlay(usage, scopes);
  const blocked = new Set<string>();
  let lookAhead = Math.max(0, options.lookAhead - options.waitingInBackend);
  let tested = 0;
  for (const job of pending) {
    if (result.scanned >= options.scanLimit) return { ...result, stoppedBy: 'scanLimit' };
    result.scanned++;
    const limit = checkRun(job, overlay, limits);
    if (limit) {
      result.waiting.push({ jobId: job.id, reason: limit });
      continue;
    }
    const pool = capacity.poolOf(job);
    if (blocked.has(pool)) {
      result.waiting.push({ jobId: job.id, reason: 'Priority' });
      continue;
    }
    if (tested >= options.depth) return { ...result, scanned: result.scanned - 1, stoppedBy: 'depth' };
    tested++;
    if (capacity.fits(job)) capacity.take(job);
    else if (lookAhead > 0) lookAhead--;
    else {
      result.waiting.push({ jobId: job.id, reason: 'Resources' });
      blocked.add(pool);
      if (capacity.exhausted(blocked)) return { ...result, stoppedBy: 'exhausted' };
      continue;
    }
    overlay.start(job);
    result.admit.push(job);
  }
  return result;
}

/**
 * Free resources as counts: the cluster's total, and per partition when given (a job must fit
 * both; partitions that share nodes are each charged, so this errs on the side of waiting).
 * Without partitions there is one pool; with them, a job of a partition not listed never fits.
 */
export class ResourcePools implements CapacityModel {
  private readonly total: Resources;
  private readonly partitions: Map<string, Resources> | undefined;

  constructor(free: Resources, partitions?: ReadonlyMap<string, Resources>) {
    this.total = { ...free };
    this.partitions = partitions && new Map([...partitions].map(([name, r]) => [name, { ...r }]));
  }

  poolOf(job: PolicyJob): string {
    return this.partitions ? job.partition : '*';
  }

  fits(job: PolicyJob): boolean {
    const p = this.partitions ? this.partitions.get(job.partition) : this.total;
    return !!p && within(job, this.total) && within(job, p);
  }

  take(job: PolicyJob): void {
    subtract(this.total, job);
    const p = this.partitions?.get(job.partition);
    if (p) subtract(p, job);
  }

  exhausted(blocked: ReadonlySet<string>): boolean {
    if (!this.partitions) return blocked.has('*');
    for (const name of this.partitions.keys()) if (!blocked.has(name)) return false;
    return true;
  }

  /** What is left (for tests and logs). */
  free(partition?: string): Resources {
    return { ...(partition === undefined ? this.total : (this.partitions?.get(partition) ?? { nodes: 0, cpus: 0, gpus: 0 })) };
  }
}

function within(job: Resources, free: Resources): boolean {
  return job.nodes <= free.nodes && job.cpus <= free.cpus && job.gpus <= free.gpus;
}

function subtract(free: Resources, job: Resources): void {
  free.nodes -= job.nodes;
  free.cpus -= job.cpus;
  free.gpus -= job.gpus;
}
