/**
 * Handing a finished job's holder to the next waiting one (pure): the pilot-job move. When a
 * GRM job ends, its allocation would go back to SLURM (scancel: ~300 ms until slurmctld has
 * cleaned it up and started the next job) while a holder of the same shape and owner waits in
 * SLURM's queue for exactly such nodes. GRM gives the allocation to that job instead (a new
 * comment, name and time limit on the holder) and withdraws the waiting request.
 *
 * Only when SLURM would have made the same choice: the taker is the first of GRM's waiting
 * holders in SLURM's order (priority, then job id) in that partition, no other SLURM job waits
 * there, and it asks for exactly the same resources as the same account. SLURM's accounting
 * then shows one job where GRM ran several; GRM's own (`grm sacct`) shows each.
 */
import type { ResourceRequest } from '../resource-backend.js';

export interface WaitingHolder {
  backendId: string;
  request: ResourceRequest;
}

const PER_JOB = /^--(?:job-name|comment|time|nice|priority)=/;

/** What must match for a holder to serve another job: its argv less what is the job's own. */
export function shapeKey(holderArgs: readonly string[]): string {
  return holderArgs.filter((a) => !PER_JOB.test(a)).join('\0');
}

/** The order SLURM starts waiting holders in: GRM's priority (passed down), then the older job. */
function slurmOrder(a: WaitingHolder, b: WaitingHolder): number {
  const pa = a.request.priority ?? 0;
  const pb = b.request.priority ?? 0;
  if (pa !== pb) return pb - pa;
  return Number(a.backendId) - Number(b.backendId);
}

/**
 * The waiting holder that gets `from`'s allocation, or undefined (then it goes back to SLURM).
 * `waiting`: GRM's holders waiting in SLURM; `foreignWaiting`: whether any other SLURM job
 * waits in the partition; `key`: shapeKey of a request.
 */
export function pickTaker(
  from: { request: ResourceRequest },
  waiting: readonly WaitingHolder[],
  foreignWaiting: boolean,
  key: (request: ResourceRequest) => string,
): WaitingHolder | undefined {
  if (foreignWaiting) return undefined;
  const here = waiting.filter((w) => w.request.partition === from.request.partition).sort(slurmOrder);
  const first = here[0];
  return first && key(first.request) === key(from.request) ? first : undefined;
}
