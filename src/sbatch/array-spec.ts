/**
 * Job arrays in SLURM's notations (reimplemented from SchedMD's slurm_parse_array_tok,
 * _xlate_task_str and scancel's job id parsing):
 *
 *   --array spec    `0-99:3%5`, `1,3,5-7`, `0-15:4%2`, `7`: comma-separated N, N-M or
 *                   N-M:STEP, then an optional %LIMIT (at most LIMIT tasks run at once).
 *   index ranges    what squeue prints for a set of indices: `1-2,6-8,11`, or `2-18:2`.
 *   folded task id  `12_[3-99%5]` for the tasks of array 12 still pending, `12_7` for one.
 *   job id spec     what scancel/scontrol take: `12`, `12_7`, `12_[3-5]`, `12_[1,3-5]`.
 *
 * Stricter than SLURM's strtol-based parsing on purpose: no signs, blanks, hex, exponents
 * or empty elements (SLURM reads `+1` or ` 1` silently; a typo should not become a job).
 * Leading zeros are accepted (`007` is 7), as SLURM does. Pure.
 */
import { GrmError } from '../errors.js';
import { invalidOption } from './slurm-units.js';

/** SLURM's hard ceiling for MaxArraySize is 4000001, so the largest index is 4000000. */
export const MAX_ARRAY_INDEX = 4_000_000;
/** SLURM's default MaxArraySize: indices 0..1000. */
export const DEFAULT_MAX_ARRAY_SIZE = 1001;
/** The %LIMIT is read by SLURM with atoi(), so it is at most a C int. */
const MAX_RUNNING_LIMIT = 2_147_483_647;
/** Job ids are 32-bit; SLURM keeps 0xfffffffe and up as NO_VAL markers. */
export const MAX_JOB_ID = 0xfffffffd;

export interface ArraySpec {
  /** The task indices, sorted ascending, each once. */
  indices: number[];
  /** The %LIMIT: at most this many tasks at once; null when not given. */
  maxRunning: number | null;
}

interface IndexRange {
  first: number;
  last: number;
  step: number;
}

/**
 * Parse one comma-separated list of N, N-M and N-M:STEP elements (no %LIMIT) into ranges,
 * checking each against `maxArraySize`. `bad(why)` builds the error to throw.
 */
function parseIndexList(list: string, maxArraySize: number, bad: (why: string) => Error): IndexRange[] {
  if (list === '') throw bad('no indexes given (use e.g. 1-10, 1,3,5 or 0-15:4, with an optional %N limit)');
  if (maxArraySize === 0) throw bad('job arrays are disabled (MaxArraySize=0)');
  return list.split(',').map((element) => {
    if (element === '') throw bad("an empty index between commas (use e.g. 1,3,5)");
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(element);
    if (!m) throw bad(`'${element}' is not N, N-M or N-M:STEP`);
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    if (first > MAX_ARRAY_INDEX || last > MAX_ARRAY_INDEX) throw bad(`indexes must be at most ${MAX_ARRAY_INDEX}`);
    if (first > last) throw bad(`range '${element}' goes backwards`);
    if (step < 1) throw bad(`step in '${element}' must be at least 1`);
    if (last >= maxArraySize) {
      throw bad(`index ${last} is out of range: indexes must be less than MaxArraySize (${maxArraySize})`);
    }
    // SLURM refuses a step that could never reach a second index below MaxArraySize.
    if (step >= maxArraySize) throw bad(`step in '${element}' must be less than MaxArraySize (${maxArraySize})`);
    return { first, last, step };
  });
}

/** The distinct indices of `ranges`, ascending. */
function expandRanges(ranges: readonly IndexRange[]): number[] {
  const top = Math.max(...ranges.map((r) => r.last));
  const seen = new Uint8Array(top + 1); // a bitmap, as SLURM keeps it: sorted and unique for free
  for (const r of ranges) for (let i = r.first; i <= r.last; i += r.step) seen[i] = 1;
  const indices: number[] = [];
  for (let i = 0; i <= top; i++) if (seen[i] === 1) indices.push(i);
  return indices;
}

function checkMaxArraySize(maxArraySize: number): void {
  if (!Number.isInteger(maxArraySize) || maxArraySize < 0 || maxArraySize > MAX_ARRAY_INDEX + 1) {
    throw new RangeError(`maxArraySize must be an integer from 0 to ${MAX_ARRAY_INDEX + 1}, not ${maxArraySize}`);
  }
}

/**
 * Parse an --array spec. Every index must be below `maxArraySize` (SLURM's MaxArraySize,
 * default 1001), as slurmctld requires. Errors: E_OPTION_INVALID, "Invalid job array
 * specification '<spec>' for <option>: <why>".
 */
export function parseArraySpec(value: string, maxArraySize = DEFAULT_MAX_ARRAY_SIZE, option = '--array'): ArraySpec {
  checkMaxArraySize(maxArraySize);
  const bad = (why: string): Error => invalidOption(option, `Invalid job array specification '${value}' for ${option}: ${why}`);
  const [list, limit, ...more] = value.split('%');
  if (more.length > 0) throw bad("only one '%' limit is allowed");
  let maxRunning: number | null = null;
  if (limit !== undefined) {
    if (!/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_RUNNING_LIMIT) {
      throw bad(`the '%' limit '${limit}' must be a positive integer (at most ${MAX_RUNNING_LIMIT})`);
    }
    maxRunning = Number(limit);
  }
  const indices = expandRanges(parseIndexList(list as string, maxArraySize, bad));
  return { indices, maxRunning };
}

/** Validate an --array spec (see parseArraySpec) and return it as written. */
export function validateArraySpec(value: string, option = '--array', maxArraySize = DEFAULT_MAX_ARRAY_SIZE): string {
  parseArraySpec(value, maxArraySize, option);
  return value;
}

function sortedUnique(indices: readonly number[]): number[] {
  for (const i of indices) {
    if (!Number.isSafeInteger(i) || i < 0) throw new RangeError(`an array index must be a non-negative integer, not ${i}`);
  }
  return [...new Set(indices)].sort((a, b) => a - b);
}

/**
 * Indices in the compact form SLURM prints (squeue, scontrol show job):
 *  - when the indices are one arithmetic progression with a step of 2 or more spanning
 *    more than 10 (`2,4,...,18` → `2-18:2`), `first-last:step`, as SLURM's _xlate_task_str;
 *  - otherwise runs of consecutive indices as `a-b` (even two: `1-2`) and the others
 *    alone, comma-separated, as SLURM's bit_fmt: `1-2,6-8,11`.
 * SLURM never mixes the two forms in one string, so neither does this. Input in any order;
 * duplicates count once; [] gives ''. Unlike squeue, long lists are not cut with "...".
 */
export function formatIndexRanges(indices: readonly number[]): string {
  const sorted = sortedUnique(indices);
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  if (first === undefined || last === undefined) return '';
  if (last - first > 10 && sorted[1] !== first + 1) {
    const step = (sorted[1] as number) - first;
    if (sorted.every((v, i) => v === first + i * step)) return `${first}-${last}:${step}`;
  }
  const parts: string[] = [];
  let start = first;
  for (let i = 1; i <= sorted.length; i++) {
    const prev = sorted[i - 1] as number;
    if (sorted[i] === prev + 1) continue;
    parts.push(start === prev ? String(start) : `${start}-${prev}`);
    start = sorted[i] as number;
  }
  return parts.join(',');
}

/**
 * An array's tasks as one job id, as squeue prints them: `12_[3-99%5]` (the % part only
 * with a limit), `12_7` for a single task (a limit says nothing about one task, so it is
 * left out), and just `12` when no task is left.
 */
export function foldArrayTaskId(arrayJobId: number, indices: readonly number[], maxRunning: number | null): string {
  const sorted = sortedUnique(indices);
  if (sorted.length === 0) return String(arrayJobId);
  if (sorted.length === 1) return `${arrayJobId}_${sorted[0]}`;
  return `${arrayJobId}_[${formatIndexRanges(sorted)}${maxRunning === null ? '' : `%${maxRunning}`}]`;
}

export interface JobIdSpec {
  jobId: number;
  /** The array tasks named (sorted, unique); null when the whole job is meant. */
  tasks: number[] | null;
}

/**
 * A job id as scancel and scontrol take it: `12`, `12_7`, `12_[3-5]` or `12_[1,3-5]`.
 * Inside the brackets the --array list forms are accepted (N, N-M, N-M:STEP), so what
 * squeue prints can be pasted back; a %LIMIT is not a task and is refused.
 * Errors: E_REQUEST_INVALID, "Invalid job id specified: '<text>' ...".
 */
export function parseJobIdSpec(text: string): JobIdSpec {
  const usage = 'use JOBID, JOBID_TASK or JOBID_[TASKS], e.g. 12, 12_7 or 12_[1,3-5]';
  const bad = (why: string): GrmError =>
    new GrmError('E_REQUEST_INVALID', `Invalid job id specified: '${text}' (${why})`, { field: 'job_id' });
  const m = /^(\d+)(?:_(?:(\d+)|\[([^\]]*)\]))?$/.exec(text);
  if (!m) throw bad(usage);
  const jobId = Number(m[1]);
  if (jobId < 1 || jobId > MAX_JOB_ID) throw bad(`job ids run from 1 to ${MAX_JOB_ID}`);
  if (m[2] !== undefined) {
    const task = Number(m[2]);
    if (task > MAX_ARRAY_INDEX) throw bad(`array task ids are at most ${MAX_ARRAY_INDEX}`);
    return { jobId, tasks: [task] };
  }
  if (m[3] === undefined) return { jobId, tasks: null };
  if (m[3].includes('%')) throw bad("a '%' limit is not a task list; name the tasks, e.g. 12_[3-99]");
  return { jobId, tasks: expandRanges(parseIndexList(m[3], MAX_ARRAY_INDEX + 1, bad)) };
}
