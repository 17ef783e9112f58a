/**
 * Jobs, their events and their allocations. `transition` is the only way a job's state
 * changes: it checks the state machine, compare-and-sets the row and records the event in
 * one transaction, so what the daemon acts on has always been written first.
 */
import type { Allocation, AllocatedNode } from '../backends/resource-backend.js';
import { GrmError } from '../errors.js';
import { assertTransition } from '../jobs/job-state.js';
import type { JobDescription, JobEvent, JobRecord, JobState, JobSummaryRecord, RuntimeKind } from '../jobs/job-types.js';
import type { Db } from './database.js';
import { DEFAULT_REASON, patchSql, SUMMARY_COLUMNS, toRecord, toSummaryRecord, type JobPatch, type JobRow } from './job-rows.js';

export type { JobPatch } from './job-rows.js';

export interface NewJob {
  name: string;
  user: string;
  partition: string;
  description: JobDescription;
  script: string;
  argv: string[];
  runtime: RuntimeKind;
  environment: Record<string, string>;
  timeLimitMinutes: number | null;
  nice: number;
  /** The queue policy's priority at submit (src/policy/priority.ts); default 1. */
  priority?: number;
  submitTime: number;
  /** The GRM reason it waits on without being looked at (held, begin time, dependency). */
  blocked?: string | null;
  beginTime?: number | null;
  dependency?: string | null;
  /** The jobs its dependency names (indexed, so their changes wake it). */
  dependsOn?: number[];
  array?: { tasks: string; maxRunning: number | null; count: number };
}

/** What scontrol update may change of a pending job, as stored. */
export interface PendingUpdate {
  name: string;
  partition: string;
  description: JobDescription;
  timeLimitMinutes: number | null;
  nice: number;
  dependency: string | null;
  dependsOn: number[];
  beginTime: number | null;
  blocked: string | null;
}

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

export interface StoredAllocation extends Allocation {
  jobId: number;
  backend: string;
  grantedTime: number;
  releasedTime: number | null;
}

export type JobEventListener = (event: JobEvent) => void;

/** Later than any job time (ms): an open end of a window or of a job's interval. */
const MAX_TIME = 8.64e15;

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

/** The one answer for a job that does not exist, or that the asker may not see (no existence leak). */
export function noSuchJob(id: number): GrmError {
  return new GrmError('E_JOB_NOT_FOUND', `Invalid job id specified: ${id} (no such job)`, { field: 'id' });
}

export class JobStore {
  private readonly listeners: JobEventListener[] = [];

  /** `now` is the daemon's clock (tests pass a fake one). */
  constructor(
    private readonly db: Db,
    readonly now: () => number = () => Date.now(),
  ) {}

  /** Called after each recorded event is committed (the GRM's own log lines come from here). */
  onEvent(listener: JobEventListener): void {
    this.listeners.push(listener);
  }

  insert(job: NewJob, actor: string): JobRecord {
    return this.tx(() => {
      const info = this.db
        .prepare(
          `INSERT INTO jobs (name, user, state, reason, partition, description, script, argv, runtime, environment,
             submit_time, time_limit, nice, updated_time, blocked, begin_time, dependency,
             array_tasks, array_max_running, array_task_count, priority)
           VALUES (?, ?, 'PENDING', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          job.name,
          job.user,
          job.blocked ?? 'None',
          job.partition,
          JSON.stringify(job.description),
          job.script,
          JSON.stringify(job.argv),
          job.runtime,
          JSON.stringify(job.environment),
          job.submitTime,
          job.timeLimitMinutes,
          job.nice,
          job.submitTime,
          job.blocked ?? null,
          job.beginTime ?? null,
          job.dependency ?? null,
          job.array?.tasks ?? null,
          job.array?.maxRunning ?? null,
          job.array?.count ?? null,
          job.priority ?? 1,
        );
      const id = Number(info.lastInsertRowid);
      if (job.array) this.db.prepare('UPDATE jobs SET array_job_id = id WHERE id = ?').run(id);
      const dep = this.db.prepare('INSERT OR IGNORE INTO job_dependencies (depends_on, job_id) VALUES (?, ?)');
      for (const on of job.dependsOn ?? []) dep.run(on, id);
      this.insertEvent(id, null, 'PENDING', 'submitted', actor, job.submitTime);
      return this.require(id);
    });
  }

  get(id: number): JobRecord | undefined {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    return row && toRecord(row);
  }

  require(id: number): JobRecord {
    const job = this.get(id);
    if (!job) throw noSuchJob(id);
    return job;
  }

  /** A page of jobs as lists show them: without script, argv and environment. */
  list(filter: JobFilter = {}): { jobs: JobSummaryRecord[]; total: number } {
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
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.db.prepare(`SELECT count(*) AS n FROM jobs ${clause}`).get(...params) as { n: number }).n;
    if (filter.queueOrder) return { jobs: this.queuePage(clause, params, filter), total };
    const page = filter.afterId === undefined ? clause : `${clause ? `${clause} AND` : 'WHERE'} id ${filter.newestFirst ? '<' : '>'} ?`;
    const rows = this.db
      .prepare(`SELECT ${SUMMARY_COLUMNS} FROM jobs ${page} ORDER BY id ${filter.newestFirst ? 'DESC' : ''} LIMIT ?`)
      .all(...params, ...(filter.afterId === undefined ? [] : [filter.afterId]), filter.limit ?? -1) as JobRow[];
    return { jobs: rows.map(toSummaryRecord), total };
  }

  /** A page in the queue's order (highest priority first), after `afterKey`. */
  private queuePage(clause: string, params: unknown[], filter: JobFilter): JobSummaryRecord[] {
    const k = filter.afterKey;
    // a row value compares key by key: -priority so that "after" is "lower priority"
    const page = k === undefined ? clause : `${clause ? `${clause} AND` : 'WHERE'} (-priority, nice, submit_time, id) > (?, ?, ?, ?)`;
    const keyParams = k === undefined ? [] : [-k.priority, k.nice, k.submitTime, k.id];
    const rows = this.db
      .prepare(`SELECT ${SUMMARY_COLUMNS} FROM jobs ${page} ORDER BY priority DESC, nice, submit_time, id LIMIT ?`)
      .all(...params, ...keyParams, filter.limit ?? -1) as JobRow[];
    return rows.map(toSummaryRecord);
  }

  /** Jobs in `states`, in scheduling order (nice, then submit time, then id). */
  inStates(states: JobState[]): JobRecord[] {
    const rows = this.db
      .prepare(`SELECT * FROM jobs WHERE state IN (${states.map(() => '?').join(',')}) ORDER BY nice, submit_time, id`)
      .all(...states) as JobRow[];
    return rows.map(toRecord);
  }

  countInStates(states: JobState[]): number {
    return (
      this.db.prepare(`SELECT count(*) AS n FROM jobs WHERE state IN (${states.map(() => '?').join(',')})`).get(...states) as {
        n: number;
      }
    ).n;
  }

  /**
   * Moves a job from `from` to `to` if it is still in `from`; records the event. Throws
   * E_JOB_STATE when another actor changed it first (the caller re-reads and decides).
   */
  transition(id: number, from: JobState, to: JobState, reason: string, actor: string, patch: JobPatch = {}): JobRecord {
    assertTransition(id, from, to);
    return this.tx(() => {
      const now = this.now();
      // The reason column holds SLURM-style reason codes; the free text goes to the event.
      const { sets, values } = patchSql({ ...patch, reason: patch.reason ?? DEFAULT_REASON[to] });
      const info = this.db
        .prepare(`UPDATE jobs SET state = ?, updated_time = ?, ${sets.join(', ')} WHERE id = ? AND state = ?`)
        .run(to, now, ...values, id, from);
      if (info.changes !== 1) {
        const current = this.require(id);
        throw new GrmError('E_JOB_STATE', `job ${id} is ${current.state}, not ${from}`, { field: 'state' });
      }
      this.insertEvent(id, from, to, reason, actor, now);
      return this.require(id);
    });
  }

  /** Changes fields that are not the state (backend id, end intent, ...). */
  patch(id: number, patch: JobPatch): JobRecord {
    const { sets, values } = patchSql(patch);
    if (sets.length > 0) this.db.prepare(`UPDATE jobs SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
    return this.require(id);
  }

  /** Sets the pending reason and records an event only when it changes. */
  setReason(id: number, reason: string, actor: string): boolean {
    return this.tx(() => {
      const info = this.db.prepare('UPDATE jobs SET reason = ? WHERE id = ? AND reason <> ?').run(reason, id, reason);
      if (info.changes === 1) this.insertEvent(id, null, null, `reason: ${reason}`, actor, this.now());
      return info.changes === 1;
    });
  }

  /**
   * Moves a pending job into (`blocked` null) or out of the eligible queue, with the reason
   * squeue shows; an event only when the reason changes. False when the job is not PENDING.
   */
  setBlocked(id: number, blocked: string | null, actor: string, why?: string): boolean {
    const reason = blocked ?? 'None';
    return this.tx(() => {
      const before = this.db.prepare("SELECT reason FROM jobs WHERE id = ? AND state = 'PENDING'").pluck().get(id) as string | undefined;
      if (before === undefined) return false;
      this.db.prepare('UPDATE jobs SET blocked = ?, reason = ? WHERE id = ?').run(blocked, reason, id);
      if (before !== reason || why) this.insertEvent(id, null, null, why ?? `reason: ${reason}`, actor, this.now());
      return true;
    });
  }

  /**
   * Starts the array's next task as a job of its own: a new row copying the array's request
   * (id of its own, array_job_id = the array, its index), or, for the last index, the array's
   * own row, which becomes that task as slurmctld's meta record does.
   */
  takeArrayTask(arrayId: number, index: number, rest: string, actor: string): JobRecord {
    return this.tx(() => {
      if (rest === '') {
        this.db.prepare('UPDATE jobs SET array_task_id = ?, array_tasks = NULL WHERE id = ?').run(index, arrayId);
        this.insertEvent(arrayId, null, null, `array task ${arrayId}_${index} (the last)`, actor, this.now());
        return this.require(arrayId);
      }
      this.db.prepare('UPDATE jobs SET array_tasks = ? WHERE id = ?').run(rest, arrayId);
      const info = this.db
        .prepare(
          `INSERT INTO jobs (name, user, state, reason, partition, description, script, argv, runtime, environment,
             submit_time, time_limit, nice, updated_time, dependency, array_job_id, array_task_id, array_max_running, array_task_count)
           SELECT name, user, 'PENDING', 'None', partition, description, script, argv, runtime, environment,
             submit_time, time_limit, nice, ?, dependency, id, ?, array_max_running, array_task_count
           FROM jobs WHERE id = ?`,
        )
        .run(this.now(), index, arrayId);
      const id = Number(info.lastInsertRowid);
      this.insertEvent(id, null, 'PENDING', `task ${index} of array ${arrayId}`, actor, this.now());
      return this.require(id);
    });
  }


  /** The task rows of an array (its own row included once it is a task). */
  arrayTasks(arrayId: number): JobRecord[] {
    const ids = this.db.prepare('SELECT id FROM jobs WHERE array_job_id = ? ORDER BY array_task_id').pluck().all(arrayId) as number[];
    return ids.map((id) => this.require(id));
  }

  /**
   * scontrol update of a pending job: its request and what the queue reads of it (blocked,
   * begin time, dependency and the jobs it names), written with the event, and only while
   * the job is still PENDING (compare-and-set: E_JOB_STATE when it left).
   */
  updatePending(id: number, u: PendingUpdate, actor: string, why: string): JobRecord {
    return this.tx(() => {
      const info = this.db
        .prepare(
          `UPDATE jobs SET name = ?, partition = ?, description = ?, time_limit = ?, nice = ?, dependency = ?, begin_time = ?,
             blocked = ?, reason = ?, updated_time = ? WHERE id = ? AND state = 'PENDING'`,
        )
        .run(u.name, u.partition, JSON.stringify(u.description), u.timeLimitMinutes, u.nice, u.dependency, u.beginTime, u.blocked, u.blocked ?? 'None', this.now(), id);
      if (info.changes !== 1) {
        throw new GrmError('E_JOB_STATE', `Job is no longer pending execution for job ${id} (${this.require(id).state})`, { field: 'id' });
      }
      this.db.prepare('DELETE FROM job_dependencies WHERE job_id = ?').run(id);
      const dep = this.db.prepare('INSERT OR IGNORE INTO job_dependencies (depends_on, job_id) VALUES (?, ?)');
      for (const on of u.dependsOn) dep.run(on, id);
      this.insertEvent(id, null, null, why, actor, this.now());
      return this.require(id);
    });
  }

  /** A new time limit for a job that holds (or is getting) nodes; E_JOB_STATE when it ended. */
  setTimeLimit(id: number, minutes: number | null, actor: string, why: string): JobRecord {
    return this.tx(() => {
      const info = this.db
        .prepare("UPDATE jobs SET time_limit = ?, updated_time = ? WHERE id = ? AND state IN ('ALLOCATING', 'RUNNING')")
        .run(minutes, this.now(), id);
      if (info.changes !== 1) throw new GrmError('E_JOB_STATE', `Job/step already completing or completed for job ${id}`, { field: 'id' });
      this.insertEvent(id, null, null, why, actor, this.now());
      return this.require(id);
    });
  }

  /**
   * Puts a job back in the queue (scontrol requeue) from `from`: COMPLETING once its nodes
   * are released, ALLOCATING, or an end state. What its run left is cleared, its restart
   * count goes up, and it waits on `blocked` (a hold) or is eligible at once (null).
   * Compare-and-set like transition.
   */
  requeue(id: number, from: JobState, blocked: string | null, actor: string, why: string): JobRecord {
    assertTransition(id, from, 'PENDING');
    return this.tx(() => {
      const now = this.now();
      const info = this.db
        .prepare(
          `UPDATE jobs SET state = 'PENDING', updated_time = ?, reason = ?, blocked = ?, restart_count = restart_count + 1,
             start_time = NULL, end_time = NULL, backend_id = NULL, node_list = NULL, num_nodes = 0,
             exit_code = NULL, exit_signal = NULL, end_intent = NULL, command_line = NULL
           WHERE id = ? AND state = ?`,
        )
        .run(now, blocked ?? 'None', blocked, id, from);
      if (info.changes !== 1) {
        throw new GrmError('E_JOB_STATE', `job ${id} is ${this.require(id).state}, not ${from}`, { field: 'state' });
      }
      this.insertEvent(id, from, 'PENDING', why, actor, now);
      return this.require(id);
    });
  }

  /** The highest N of the backend ids `<prefix>N` stored (0 when none). */
  lastBackendSerial(prefix: string): number {
    const n = this.db
      .prepare('SELECT max(CAST(substr(backend_id, ?) AS INTEGER)) FROM jobs WHERE substr(backend_id, 1, ?) = ?')
      .pluck()
      .get(prefix.length + 1, prefix.length, prefix) as number | null;
    return n ?? 0;
  }

  addEvent(id: number, reason: string, actor: string): void {
    this.insertEvent(id, null, null, reason, actor, this.now());
  }

  events(id: number): JobEvent[] {
    return (
      this.db.prepare('SELECT * FROM job_events WHERE job_id = ? ORDER BY id').all(id) as {
        id: number;
        job_id: number;
        time: number;
        from_state: JobState | null;
        to_state: JobState | null;
        reason: string;
        actor: string;
      }[]
    ).map((r) => ({ id: r.id, jobId: r.job_id, time: r.time, fromState: r.from_state, toState: r.to_state, reason: r.reason, actor: r.actor }));
  }

  saveAllocation(jobId: number, backend: string, allocation: Allocation): void {
    this.db
      .prepare(
        `INSERT INTO allocations (job_id, backend, backend_id, partition, node_list, nodes, granted_time, end_time)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(job_id) DO UPDATE SET backend_id = excluded.backend_id, partition = excluded.partition,
           node_list = excluded.node_list, nodes = excluded.nodes, granted_time = excluded.granted_time,
           end_time = excluded.end_time, released_time = NULL`,
      )
      .run(
        jobId,
        backend,
        allocation.backendId,
        allocation.partition,
        allocation.nodeList,
        JSON.stringify(allocation.nodes),
        allocation.startTime,
        allocation.endTime,
      );
  }

  allocation(jobId: number): StoredAllocation | undefined {
    const r = this.db.prepare('SELECT * FROM allocations WHERE job_id = ?').get(jobId) as
      | {
          job_id: number;
          backend: string;
          backend_id: string;
          partition: string;
          node_list: string;
          nodes: string;
          granted_time: number;
          end_time: number | null;
          released_time: number | null;
        }
      | undefined;
    if (!r) return undefined;
    return {
      jobId: r.job_id,
      backend: r.backend,
      backendId: r.backend_id,
      partition: r.partition,
      nodeList: r.node_list,
      nodes: JSON.parse(r.nodes) as AllocatedNode[],
      startTime: r.granted_time,
      endTime: r.end_time,
      grantedTime: r.granted_time,
      releasedTime: r.released_time,
    };
  }

  markReleased(jobId: number): void {
    this.db.prepare('UPDATE allocations SET released_time = ? WHERE job_id = ? AND released_time IS NULL').run(this.now(), jobId);
  }

  private insertEvent(id: number, from: JobState | null, to: JobState | null, reason: string, actor: string, time: number): void {
    const info = this.db
      .prepare('INSERT INTO job_events (job_id, time, from_state, to_state, reason, actor) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, time, from, to, reason, actor);
    if (this.listeners.length === 0) return;
    const event: JobEvent = { id: Number(info.lastInsertRowid), jobId: id, time, fromState: from, toState: to, reason, actor };
    // Listeners hear of the event once the enclosing transaction has committed.
    const notify = () => this.listeners.forEach((l) => l(event));
    if (this.db.inTransaction) this.pendingNotifications.push(notify);
    else notify();
  }

  private pendingNotifications: (() => void)[] = [];

  /** Runs `fn` in a transaction and notifies listeners after it commits. */
  private tx<T>(fn: () => T): T {
    try {
      const result = this.db.transaction(fn)();
      const pending = this.pendingNotifications;
      this.pendingNotifications = [];
      pending.forEach((n) => n());
      return result;
    } catch (e) {
      this.pendingNotifications = [];
      throw e;
    }
  }
}

