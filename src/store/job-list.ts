/**
 * The job list as squeue and sacct read it: a filter (states now or during a window, users,
 * names, partitions, ids and array tasks, a time window) turned into one WHERE clause, and a
 * page of summaries by id or in the queue's order, with keyset cursors. Kept apart from
 * JobStore, which owns the writes: this is the one query that grows with every list option.
 */
import type { JobState, JobSummaryRecord } from '../jobs/job-types.js';
import type { Db } from './database.js';
import { SUMMARY_COLUMNS, toSummaryRecord, type JobRow } from './job-rows.js';

/** A job's place in the queue order, as a keyset cursor. */
export interface QueueKey {
  priority: number;
  nice: number;
  submitTime: number;
  id: number;
}

export interface JobFilter {
  states?: JobState[];
  users?: string[];
  names?: string[];
  partitions?: string[];
  ids?: number[];
  /** Array tasks by array id and index (`12_7`), or'ed with `ids`. */
  tasks?: { arrayJobId: number; index: number }[];
  /**
   * sacct's window (ms): jobs submitted at or before `until` that had not ended before
   * `since` (still pending or running, or ended at or after it).
   */
  since?: number;
  until?: number;
  /**
   * sacct -s: `states` are the states jobs were in during the since/until window, not now
   * (an ended state: ended in the window; RUNNING: ran during it; PENDING: waited during it).
   */
  statesDuringWindow?: boolean;
  /** Keyset paging: only jobs with a larger id. */
  afterId?: number;
  /** Newest first; then the keyset is "a smaller id". */
  newestFirst?: boolean;
  /**
   * The queue's order (priority, nice, submit time, id: the jobs_ready index's) instead of ids;
   * then the keyset is `afterKey`, the last job's place.
   */
  queueOrder?: boolean;
  afterKey?: QueueKey;
  limit?: number;
}

/** Later than any job time (ms): an open end of a window or of a job's interval. */
const MAX_TIME = 8.64e15;

interface Where {
  clause: string;
  params: unknown[];
}

/**
 * Jobs that were in one of `states` at some time in [since, until], from the times of their
 * (last) run as slurmdbd reads them: an end state counts when the job ended in the window,
 * RUNNING when its run overlaps it, PENDING when its wait (submit to start, or to its end
 * if it never started) overlaps it; the states a job passes through in a moment (ALLOCATING,
 * COMPLETING) count only while it is in them.
 */
function statesDuring(states: JobState[], since: number, until: number): { sql: string; params: unknown[] } {
  const any: string[] = [];
  const params: unknown[] = [];
  for (const state of new Set(states)) {
    if (state === 'RUNNING') {
      any.push(`(start_time IS NOT NULL AND start_time <= ? AND coalesce(end_time, ${MAX_TIME}) >= ?)`);
      params.push(until, since);
    } else if (state === 'PENDING') {
      any.push(`(submit_time <= ? AND coalesce(start_time, end_time, ${MAX_TIME}) >= ?)`);
      params.push(until, since);
    } else if (state === 'ALLOCATING' || state === 'COMPLETING') {
      any.push('state = ?');
      params.push(state);
    } else {
      any.push('(state = ? AND end_time BETWEEN ? AND ?)');
      params.push(state, since, until);
    }
  }
  return { sql: `(${any.join(' OR ')})`, params };
}

/** The filter as one WHERE clause ('' when it selects every job) and its parameters. */
function filterWhere(filter: JobFilter): Where {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.states?.length && filter.statesDuringWindow) {
    const during = statesDuring(filter.states, filter.since ?? -MAX_TIME, filter.until ?? MAX_TIME);
    where.push(during.sql);
    params.push(...during.params);
  } else if (filter.states?.length) {
    where.push(`state IN (${filter.states.map(() => '?').join(',')})`);
    params.push(...filter.states);
  }
  for (const [column, values] of [['user', filter.users], ['name', filter.names], ['partition', filter.partitions]] as const) {
    if (!values?.length) continue;
    where.push(`${column} IN (${values.map(() => '?').join(',')})`);
    params.push(...values);
  }
  if (filter.ids?.length || filter.tasks?.length) {
    // an array's id selects every task of the array, as squeue -j does
    const any: string[] = [];
    if (filter.ids?.length) {
      const list = filter.ids.map(() => '?').join(',');
      any.push(`id IN (${list}) OR array_job_id IN (${list})`);
      params.push(...filter.ids, ...filter.ids);
    }
    for (const task of filter.tasks ?? []) {
      any.push('(array_job_id = ? AND array_task_id = ?)');
      params.push(task.arrayJobId, task.index);
    }
    where.push(`(${any.join(' OR ')})`);
  }
  if (filter.until !== undefined) {
    where.push('submit_time <= ?');
    params.push(filter.until);
  }
  if (filter.since !== undefined) {
    where.push('(end_time IS NULL OR end_time >= ?)');
    params.push(filter.since);
  }
  return { clause: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
}

/** A page of jobs as lists show them (without script, argv and environment), and how many match. */
export function listJobs(db: Db, filter: JobFilter): { jobs: JobSummaryRecord[]; total: number } {
  const { clause, params } = filterWhere(filter);
  const total = (db.prepare(`SELECT count(*) AS n FROM jobs ${clause}`).get(...params) as { n: number }).n;
  if (filter.queueOrder) return { jobs: queuePage(db, { clause, params }, filter), total };
  const page = filter.afterId === undefined ? clause : `${clause ? `${clause} AND` : 'WHERE'} id ${filter.newestFirst ? '<' : '>'} ?`;
  const rows = db
    .prepare(`SELECT ${SUMMARY_COLUMNS} FROM jobs ${page} ORDER BY id ${filter.newestFirst ? 'DESC' : ''} LIMIT ?`)
    .all(...params, ...(filter.afterId === undefined ? [] : [filter.afterId]), filter.limit ?? -1) as JobRow[];
  return { jobs: rows.map(toSummaryRecord), total };
}

/** A page in the queue's order (highest priority first), after `afterKey`. */
function queuePage(db: Db, { clause, params }: Where, filter: JobFilter): JobSummaryRecord[] {
  const k = filter.afterKey;
  // a row value compares key by key: -priority so that "after" is "lower priority"
  const page = k === undefined ? clause : `${clause ? `${clause} AND` : 'WHERE'} (-priority, nice, submit_time, id) > (?, ?, ?, ?)`;
  const keyParams = k === undefined ? [] : [-k.priority, k.nice, k.submitTime, k.id];
  const rows = db
    .prepare(`SELECT ${SUMMARY_COLUMNS} FROM jobs ${page} ORDER BY priority DESC, nice, submit_time, id LIMIT ?`)
    .all(...params, ...keyParams, filter.limit ?? -1) as JobRow[];
  return rows.map(toSummaryRecord);
}
