/**
 * What the queue policy keeps (src/jobs/queue-policy.ts): the decayed fair-share usage of each
 * association, when the running jobs were last charged, the jobs' priorities in the queue
 * order's index, and the rows a priority recalculation or a usage rebuild reads.
 */
import type { DecayedUsage } from '../policy/fair-share.js';
import type { JobState } from '../jobs/job-types.js';
import type { Db } from './database.js';

/** A job as the policy reads it in bulk: the columns, and the description still as JSON. */
export interface PolicyRow {
  id: number;
  user: string;
  state: JobState;
  partition: string;
  nice: number;
  submit_time: number;
  begin_time: number | null;
  start_time: number | null;
  time_limit: number | null;
  priority: number;
  description: string;
  array_tasks: string | null;
}

const COLUMNS = 'id, user, state, partition, nice, submit_time, begin_time, start_time, time_limit, priority, description, array_tasks';

export class PolicyStore {
  private readonly pendingStmt;
  private readonly pendingOfStmt;
  private readonly activeStmt;
  private readonly setPriorityStmt;
  private readonly usageStmt;
  private readonly saveUsageStmt;
  private readonly chargedStmt;
  private readonly saveChargedStmt;

  constructor(private readonly db: Db) {
    this.pendingStmt = db.prepare(`SELECT ${COLUMNS} FROM jobs WHERE state = 'PENDING' AND id > ? ORDER BY id LIMIT ?`);
    this.pendingOfStmt = db.prepare(`SELECT ${COLUMNS} FROM jobs WHERE user = ? AND state = 'PENDING' AND id > ? ORDER BY id LIMIT ?`);
    this.activeStmt = db.prepare(`SELECT ${COLUMNS} FROM jobs WHERE state IN ('ALLOCATING', 'RUNNING', 'COMPLETING')`);
    this.setPriorityStmt = db.prepare("UPDATE jobs SET priority = ? WHERE id = ? AND state = 'PENDING'");
    this.usageStmt = db.prepare('SELECT assoc, value, as_of AS asOf FROM fairshare_usage');
    this.saveUsageStmt = db.prepare(
      'INSERT INTO fairshare_usage (assoc, value, as_of) VALUES (?, ?, ?) ON CONFLICT(assoc) DO UPDATE SET value = excluded.value, as_of = excluded.as_of',
    );
    this.chargedStmt = db.prepare('SELECT charged_at FROM policy_state WHERE id = 1').pluck();
    this.saveChargedStmt = db.prepare('INSERT INTO policy_state (id, charged_at) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET charged_at = excluded.charged_at');
  }

  /** Pending jobs in id order, a page at a time (`after`: the last id of the previous page). */
  pendingPage(after: number, limit: number, user?: string): PolicyRow[] {
    if (user !== undefined) return this.pendingOfStmt.all(user, after, limit) as PolicyRow[];
    return this.pendingStmt.all(after, limit) as PolicyRow[];
  }

  /** Jobs holding or awaiting nodes. */
  active(): PolicyRow[] {
    return this.activeStmt.all() as PolicyRow[];
  }

  /** New priorities of pending jobs, in one transaction (a job no longer pending is left alone). */
  setPriorities(changes: ReadonlyArray<readonly [id: number, priority: number]>): void {
    this.db.transaction(() => {
      for (const [id, priority] of changes) this.setPriorityStmt.run(priority, id);
    })();
  }

  usage(): Array<[string, DecayedUsage]> {
    return (this.usageStmt.all() as Array<{ assoc: string; value: number; asOf: number }>).map((r) => [r.assoc, { value: r.value, asOf: r.asOf }]);
  }

  /** The ledger and the time the running jobs were charged up to, together. */
  saveUsage(entries: ReadonlyArray<readonly [string, DecayedUsage]>, chargedAt: number): void {
    this.db.transaction(() => {
      for (const [assoc, u] of entries) this.saveUsageStmt.run(assoc, u.value, u.asOf);
      this.saveChargedStmt.run(chargedAt);
    })();
  }

  /** Limits set at run time, in the order they were set. */
  limitOverrides(): Array<{ kind: 'account' | 'user' | 'qos'; name: string; limits: Record<string, number> }> {
    const rows = this.db.prepare('SELECT kind, name, limits FROM policy_limits ORDER BY rowid').all() as { kind: 'account' | 'user' | 'qos'; name: string; limits: string }[];
    return rows.map((r) => ({ kind: r.kind, name: r.name, limits: JSON.parse(r.limits) as Record<string, number> }));
  }

  saveLimitOverride(kind: 'account' | 'user' | 'qos', name: string, limits: Record<string, number>): void {
    this.db
      .prepare('INSERT INTO policy_limits (kind, name, limits) VALUES (?, ?, ?) ON CONFLICT(kind, name) DO UPDATE SET limits = excluded.limits')
      .run(kind, name, JSON.stringify(limits));
  }

  /** When the running jobs were last charged; null before the first save. */
  chargedAt(): number | null {
    return (this.chargedStmt.get() as number | undefined) ?? null;
  }
}
