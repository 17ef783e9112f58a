/**
 * Job arrays as slurmctld keeps them: one record holding the indices not started yet, from
 * which the dispatcher splits tasks off as they start. Ids as SLURM prints them: a task is
 * `12_7`, the record with tasks left `12_[3-99%5]`.
 */
import { foldArrayTaskId, MAX_ARRAY_INDEX, parseArraySpec } from '../sbatch/array-spec.js';
import { compressIndices, expandIndices } from './array-tasks.js';
import type { JobRecord } from './job-types.js';
import type { ArrayTaskVars } from '../runtime/master-env.js';

export interface ArrayRecordFields {
  tasks: string;
  maxRunning: number | null;
  count: number;
}

/** The stored form of an --array spec (validated against MaxArraySize). */
export function arrayOf(spec: string, maxArraySize = 1001): ArrayRecordFields {
  const { indices, maxRunning } = parseArraySpec(spec, maxArraySize);
  return { tasks: compressIndices(indices), maxRunning, count: indices.length };
}

/** The id squeue prints: `12`, `12_7`, or `12_[3-99%5]` for an array's pending tasks. */
export function displayJobId(job: Pick<JobRecord, 'id' | 'arrayJobId' | 'arrayTaskId' | 'arrayTasks' | 'arrayMaxRunning'>): string {
  if (job.arrayJobId === null) return String(job.id);
  if (job.arrayTaskId !== null) return `${job.arrayJobId}_${job.arrayTaskId}`;
  return foldArrayTaskId(job.arrayJobId, expandIndices(job.arrayTasks ?? ''), job.arrayMaxRunning);
}

/** SLURM_ARRAY_* of a task: its index, and the count, lowest, highest index and step of its array. */
export function arrayVars(job: JobRecord): ArrayTaskVars {
  if (job.arrayJobId === null || job.arrayTaskId === null || !job.description.array) return {};
  const { indices } = parseArraySpec(job.description.array, MAX_ARRAY_INDEX + 1);
  const steps = new Set(indices.slice(1).map((v, i) => v - indices[i]!));
  return {
    arrayJobId: String(job.arrayJobId),
    arrayTaskId: job.arrayTaskId,
    arrayTaskCount: indices.length,
    arrayTaskMin: indices[0]!,
    arrayTaskMax: indices[indices.length - 1]!,
    // one constant step when the indices are a progression, as sbatch sets it; else 1
    arrayTaskStep: steps.size === 1 ? [...steps][0]! : 1,
  };
}
