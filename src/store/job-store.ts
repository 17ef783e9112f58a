/**
 * Jobs and their events: every write to a job's row. `transition` is the only way a job's state
 * changes: it checks the state machine, compare-and-sets the row and records the event in
 * one transaction, so what the daemon acts on has always been written first. The list query
 * (job-list.ts) and the allocations table (allocation-store.ts) have files of their own; this
 * class hands their calls on, so its callers keep one store of jobs.
 */
import type { Allocation } from '../backends/resource-backend.js';
import { GrmError } from '../errors.js';
import { assertTransition } from '../jobs/job-state.js';
import type { JobDescription, JobEvent, JobRecord, JobState, JobSummaryRecord, RuntimeKind } from '../jobs/job-types.js';
import type { Db } from './database.js';
import { AllocationStore, type StoredAllocation } from './allocation-store.js';
import { listJobs, type JobFilter } from './job-list.js';
import { DEFAULT_REASON, patchSql, toRecord, type JobPatch, type JobRow } from './job-rows.js';

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

export type JobEventListener = (event: JobEvent) => void;

/** The one answer for a job that does not exist, or that the asker may not see (no existence leak). */
export function noSuchJob(id: number): GrmError {
  return new GrmError('E_JOB_NOT_FOUND', `Invalid job id specified: ${id} (no such job)`, { field: 'id' });
}

export class JobStore {
  private readonly listeners: JobEventListener[] = [];
  private readonly allocations: AllocationStore;

  /** `now` is the daemon's clock (tests pass a fake one). */
  constructor(
    private readonly db: Db,
    readonly now: () => number = () => Date.now(),
  ) {
    this.allocations = new AllocationStore(db, now);
  }

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
    return listJobs(this.db, filter);
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
    this.allocations.save(jobId, backend, allocation);
  }

  allocation(jobId: number): StoredAllocation | undefined {
    return this.allocations.get(jobId);
  }

  markReleased(jobId: number): void {
    this.allocations.markReleased(jobId);
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

