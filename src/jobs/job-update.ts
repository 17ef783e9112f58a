/**
 * scontrol update, as SLURM lets a user do it: a pending job's request may change (name,
 * partition, time limit, nice, node count, dependency, begin time) and is checked again as
 * at submit; a job that holds nodes may only have its time limit lowered. Pure: what the
 * update becomes; the service stores it and tells the backend.
 */
import { GrmError } from '../errors.js';
import type { JobDescription, JobRecord } from './job-types.js';

export const UPDATABLE_FIELDS = ['name', 'partition', 'time_limit', 'nice', 'minimum_nodes', 'maximum_nodes', 'dependency', 'begin_time'] as const;
export type JobUpdate = Pick<JobDescription, (typeof UPDATABLE_FIELDS)[number]>;

/** The fields given, refusing an empty update. */
export function givenFields(changes: JobUpdate): (keyof JobUpdate)[] {
  const keys = UPDATABLE_FIELDS.filter((k) => changes[k] !== undefined);
  if (keys.length === 0) {
    throw new GrmError('E_REQUEST_INVALID', `nothing to update: give one of ${UPDATABLE_FIELDS.join(', ')}`, { field: 'body' });
  }
  return keys;
}

/** A pending job's request with the changes applied (Dependency= with nothing clears it). */
export function updatedDescription(job: JobRecord, changes: JobUpdate): JobDescription {
  const description: JobDescription = { ...job.description };
  for (const key of givenFields(changes)) (description as Record<string, unknown>)[key] = changes[key];
  // a new node count replaces the old range whole
  if (changes.minimum_nodes !== undefined && changes.maximum_nodes === undefined) delete description.maximum_nodes;
  if (description.dependency === '') delete description.dependency;
  return description;
}

/**
 * The time limit a job holding nodes may get: only a lower one, as SLURM allows users
 * (minutes; null = UNLIMITED).
 */
export function loweredTimeLimit(job: JobRecord, changes: JobUpdate): number {
  const others = givenFields(changes).filter((k) => k !== 'time_limit');
  if (others.length > 0) {
    throw new GrmError('E_JOB_STATE', `Job is no longer pending execution for job ${job.id}: only TimeLimit can change once it runs (not ${others.join(', ')})`, { field: others[0] });
  }
  const wanted = changes.time_limit;
  if (wanted === undefined || wanted === 'UNLIMITED' || (job.timeLimitMinutes !== null && wanted > job.timeLimitMinutes)) {
    throw new GrmError(
      'E_PERMISSION_DENIED',
      `Access/permission denied for job ${job.id}: a running job's time limit can only be lowered (it is ${job.timeLimitMinutes ?? 'UNLIMITED'} minutes)`,
      { field: 'time_limit' },
    );
  }
  return wanted;
}
