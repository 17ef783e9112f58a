/**
 * The last step of a job's run, in one place for the runner, the dispatcher and
 * reconciliation: the end decided earlier (cancel, time limit, node failure, requeue) wins
 * over what the run itself says, and a requeue puts the job back in the queue instead of
 * ending it. The decision is read and acted on in one synchronous step, so a requeue or
 * cancel written while the run was completing is never lost between the two.
 */
import type { JobPatch, JobStore } from '../store/job-store.js';
import { holdReason } from './eligibility.js';
import { isRequeue } from './job-state.js';
import type { EndIntent, EndState, JobRecord } from './job-types.js';

/** slurm.conf's JobRequeue and MaxBatchRequeue, as GRM's config holds them. */
export interface RequeuePolicy {
  /** Jobs that say neither --requeue nor --no-requeue may be requeued (JobRequeue=1). */
  byDefault: boolean;
  /** Restarts after which a job whose nodes fail ends NODE_FAIL instead (MaxBatchRequeue). */
  maxRestarts: number;
}

/**
 * What becomes of a running job whose allocation the backend ended (pure): a node failure is
 * no fault of the job's, so it goes back to the queue when it allows it and has restarts left,
 * as SLURM requeues a batch job; anything else ends it as the backend says. `why`: the event.
 */
export function backendEndIntent(job: JobRecord, ended: EndState, policy: RequeuePolicy): { intent: EndIntent; why: string } {
  if (ended !== 'NODE_FAIL') return { intent: ended, why: '' };
  if (!(job.description.requeue ?? policy.byDefault)) {
    return { intent: 'NODE_FAIL', why: job.description.requeue === false ? 'not requeued: submitted with --no-requeue' : 'not requeued: JobRequeue=0' };
  }
  if (job.restartCount >= policy.maxRestarts) {
    return { intent: 'NODE_FAIL', why: `not requeued: restarted ${job.restartCount} times already (MaxBatchRequeue=${policy.maxRestarts})` };
  }
  return { intent: 'REQUEUE', why: `requeued after a node failure: restart ${job.restartCount + 1} of at most ${policy.maxRestarts}` };
}

export interface RunEnd {
  /** How the run ends if nothing was decided before (from the exit status, or the backend). */
  otherwise: EndState;
  /** The event's text; `$END` is replaced by the state the job ends in. */
  why: string;
  actor: string;
  /** Written with an end state (not with a requeue). */
  patch?: JobPatch;
  /** Reason to record when the run itself failed (not when an earlier decision ended it). */
  failReason?: string;
}

export function endRun(store: JobStore, id: number, from: 'ALLOCATING' | 'COMPLETING', end: RunEnd): JobRecord {
  const intent = store.require(id).endIntent;
  if (isRequeue(intent)) {
    const blocked = intent === 'REQUEUE_HOLD' ? holdReason('user') : null;
    return store.requeue(id, from, blocked, end.actor, `requeued (${end.why.replace('$END', 'requeue')})`);
  }
  // a decision taken earlier (cancel, time limit, node failure) wins, as in SLURM
  const state = intent ?? end.otherwise;
  const patch: JobPatch = { endTime: store.now(), ...end.patch };
  if (!intent && state === 'FAILED' && end.failReason) patch.reason = end.failReason;
  return store.transition(id, from, state, end.why.replace('$END', state), end.actor, patch);
}
