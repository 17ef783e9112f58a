/**
 * The pending queue as SQLite indexes, so that no dispatch pass reads more than it looks at:
 * - the eligible queue (PENDING, nothing blocking it) in priority order: `head(n)` is one
 *   index seek plus n rows (jobs_ready);
 * - begin times as an ordered index (jobs_begin): the earliest is the next timer, and the
 *   due ones are released by a range scan — the timer heap, kept on disk;
 * - dependents by the job they wait on (job_dependencies), singletons by user and name.
 * The queue's priority order lives here, in the one index that keeps it.
 *
 * The queries name their partial index (INDEXED BY): left to itself SQLite's planner picks
 * the (state, id) index, reads every pending job and sorts them, the O(n) pass this avoids.
 */
import type { JobRecord, JobState } from '../jobs/job-types.js';
import type { Db } from './database.js';
import { ACTIVE_STATES } from '../jobs/job-types.js';
import type { JobStore } from './job-store.js';

const ACTIVE_SQL = ACTIVE_STATES.map((s) => `'${s}'`).join(',');

/** A job at the head of the eligible queue, with its place in the queue order. */
export interface QueueEntry {
  id: number;
  /** its pending reason now */
  reason: string;
  priority: number;
  nice: number;
  submitTime: number;
}

export class QueueStore {
  constructor(
    private readonly db: Db,
    private readonly jobs: JobStore,
  ) {}

  /**
   * The first `limit` eligible pending jobs, in priority order (priority, nice, submit time, id): ids
   * and reasons only, read from the index, so a pass that cannot start them parses nothing.
   */
  head(limit: number, after?: QueueEntry): QueueEntry[] {
    const select = "SELECT id, reason, priority, nice, submit_time AS submitTime FROM jobs INDEXED BY jobs_ready WHERE state = 'PENDING' AND blocked IS NULL";
    const order = 'ORDER BY priority DESC, nice, submit_time, id LIMIT ?';
    if (after === undefined) return this.db.prepare(`${select} ${order}`).all(limit) as QueueEntry[];
    // after a place: a range of the index from its priority on (the row value within it)
    return this.db
      .prepare(`${select} AND priority <= ? AND (priority < ? OR (nice, submit_time, id) > (?, ?, ?)) ${order}`)
      .all(after.priority, after.priority, after.nice, after.submitTime, after.id, limit) as QueueEntry[];
  }

  /** Jobs holding (or about to hold) a master slot. */
  countActive(): number {
    return this.db.prepare(`SELECT count(*) FROM jobs WHERE state IN (${ACTIVE_SQL})`).pluck().get() as number;
  }

  /** Jobs sent to the backend and still waiting for its nodes (the admission look-ahead). */
  countAwaitingNodes(): number {
    return this.db.prepare("SELECT count(*) FROM jobs WHERE state = 'ALLOCATING' AND node_list IS NULL").pluck().get() as number;
  }

  /** Active tasks of one array (its % limit). */
  countActiveTasks(arrayJobId: number): number {
    return this.db
      .prepare(`SELECT count(*) FROM jobs WHERE array_job_id = ? AND state IN (${ACTIVE_SQL})`)
      .pluck()
      .get(arrayJobId) as number;
  }

  /** Pending jobs whose begin time has come, earliest first (at most `limit`). */
  dueBeginTimes(now: number, limit: number): JobRecord[] {
    const ids = this.db
      .prepare("SELECT id FROM jobs INDEXED BY jobs_begin WHERE state = 'PENDING' AND blocked = 'BeginTime' AND begin_time <= ? ORDER BY begin_time LIMIT ?")
      .pluck()
      .all(now, limit) as number[];
    return ids.map((id) => this.jobs.require(id));
  }

  /** The earliest begin time still waited for; null when none. */
  nextBeginTime(): number | null {
    return (this.db
      .prepare("SELECT begin_time FROM jobs INDEXED BY jobs_begin WHERE state = 'PENDING' AND blocked = 'BeginTime' ORDER BY begin_time LIMIT 1")
      .pluck()
      .get() ?? null) as number | null;
  }

  /**
   * Pending jobs whose dependency names one of `ids` (or the array one of them belongs to),
   * and which still wait on it.
   */
  dependentsOf(ids: Iterable<number>): number[] {
    const found = new Set<number>();
    const direct = this.db.prepare(
      // CROSS JOIN keeps job_dependencies the outer loop: the planner would rather scan every
      // pending job by state
      `SELECT d.job_id FROM job_dependencies d CROSS JOIN jobs j ON j.id = d.job_id
       WHERE d.depends_on IN (?, coalesce((SELECT array_job_id FROM jobs WHERE id = ?), 0))
         AND j.state = 'PENDING' AND j.blocked = 'Dependency'`,
    );
    for (const id of ids) for (const dep of direct.pluck().all(id, id) as number[]) found.add(dep);
    return [...found];
  }

  /** Pending jobs of this user and name that wait on `singleton`. */
  singletonWaiters(user: string, name: string): number[] {
    return this.db
      .prepare("SELECT id FROM jobs WHERE user = ? AND name = ? AND state = 'PENDING' AND blocked = 'Dependency' AND dependency LIKE '%singleton%'")
      .pluck()
      .all(user, name) as number[];
  }

  /** Another job of this user and name already holds (or is getting) nodes. */
  singletonBusy(user: string, name: string, exceptId: number): boolean {
    return (
      this.db
        .prepare(`SELECT 1 FROM jobs WHERE user = ? AND name = ? AND id <> ? AND state IN (${ACTIVE_SQL}) LIMIT 1`)
        .get(user, name, exceptId) !== undefined
    );
  }

  /**
   * What a dependency sees of a job: its state, or for an array the state of the whole
   * (pending while a task is not started, running while one runs, else completed only when
   * every task completed).
   */
  dependencyState(id: number): JobState | undefined {
    const rows = this.db
      .prepare('SELECT state, array_tasks FROM jobs WHERE id = ? OR array_job_id = ?')
      .all(id, id) as { state: JobState; array_tasks: string | null }[];
    if (rows.length === 0) return undefined;
    if (rows.length === 1) return rows[0]!.state;
    if (rows.some((r) => r.state === 'PENDING' || r.state === 'ALLOCATING')) return 'PENDING';
    if (rows.some((r) => ACTIVE_STATES.includes(r.state))) return 'RUNNING';
    return rows.find((r) => r.state !== 'COMPLETED')?.state ?? 'COMPLETED';
  }

  /** Pending jobs blocked for `reason` (a restart re-checks the Dependency ones). */
  blockedIds(reason: string): number[] {
    return this.db.prepare("SELECT id FROM jobs WHERE state = 'PENDING' AND blocked = ?").pluck().all(reason) as number[];
  }

  /** Records the jobs a dependency names (a restart or an update re-registers them). */
  setDependsOn(jobId: number, dependsOn: number[]): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM job_dependencies WHERE job_id = ?').run(jobId);
      const add = this.db.prepare('INSERT OR IGNORE INTO job_dependencies (depends_on, job_id) VALUES (?, ?)');
      for (const on of dependsOn) add.run(on, jobId);
    })();
  }
}
