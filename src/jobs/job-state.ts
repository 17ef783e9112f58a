/**
 * The job state machine: the one table of legal transitions. The store's transition
 * method is the only writer of a job's state and checks it here (and compare-and-sets the
 * row), so an illegal transition cannot be written. When the source state is known
 * statically, the `Transition` type rejects an illegal target at compile time too.
 */
import { GrmError } from '../errors.js';
import { ACTIVE_STATES, TERMINAL_STATES, type EndIntent, type EndState, type JobState } from './job-types.js';

export const LEGAL_TRANSITIONS = {
  // queued in the GRM; leaves when handed to the backend, or when cancelled / impossible
  PENDING: ['ALLOCATING', 'CANCELLED', 'FAILED'],
  // asked the backend for nodes; back to PENDING when the backend is lost before granting
  ALLOCATING: ['RUNNING', 'PENDING', 'COMPLETING', 'CANCELLED', 'FAILED', 'NODE_FAIL'],
  // master started; it always ends through COMPLETING (release nodes, drain logs)
  RUNNING: ['COMPLETING'],
  // back to PENDING when requeued: its nodes are released first
  COMPLETING: ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'PENDING'],
  // ended jobs stay ended, unless requeued (scontrol requeue works on finished batch jobs)
  COMPLETED: ['PENDING'],
  FAILED: ['PENDING'],
  CANCELLED: ['PENDING'],
  TIMEOUT: ['PENDING'],
  NODE_FAIL: ['PENDING'],
} as const satisfies Record<JobState, readonly JobState[]>;

export type NextState<S extends JobState> = (typeof LEGAL_TRANSITIONS)[S][number];

export function canTransition(from: JobState, to: JobState): boolean {
  return (LEGAL_TRANSITIONS[from] as readonly JobState[]).includes(to);
}

export function assertTransition(jobId: number, from: JobState, to: JobState): void {
  if (!canTransition(from, to)) {
    const legal = LEGAL_TRANSITIONS[from];
    throw new GrmError(
      'E_TRANSITION_ILLEGAL',
      `job ${jobId}: illegal state change ${from} -> ${to}` +
        ` (from ${from} only ${legal.join(', ')})`,
    );
  }
}

export function isTerminal(state: JobState): boolean {
  return TERMINAL_STATES.has(state);
}

/** Jobs that hold (or are about to hold) a master slot. */
export function isActive(state: JobState): boolean {
  return ACTIVE_STATES.includes(state);
}

/** How a run ends by itself, from its master's exit: 0 without a signal is COMPLETED. */
export function exitState(exitCode: number | null, signal: string | null): EndState {
  return exitCode === 0 && !signal ? 'COMPLETED' : 'FAILED';
}

export type Requeue = Extract<EndIntent, 'REQUEUE' | 'REQUEUE_HOLD'>;

export function isRequeue(intent: EndIntent | null): intent is Requeue {
  return intent === 'REQUEUE' || intent === 'REQUEUE_HOLD';
}
