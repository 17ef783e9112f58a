/** The audit table: authentication failures and admin actions, newest first when read. */
import type { AuditEntry, AuditEvent } from '../users/user-types.js';
import type { Db } from './database.js';

/** The action of an authentication failure row (the only rows ever dropped, oldest first). */
export const AUTH_FAILURE_ACTION = 'auth.fail';

interface AuditRow {
  id: number;
  time: number;
  last_time: number;
  count: number;
  actor: string | null;
  action: string;
  target: string | null;
  outcome: string;
  remote: string | null;
}

export interface AuditQuery {
  /** Keyset paging, newest first: only rows with a smaller id. */
  beforeId?: number;
  limit: number;
  actor?: string;
  action?: string;
}

const toEvent = (r: AuditRow): AuditEvent => ({
  id: r.id,
  time: r.time,
  lastTime: r.last_time,
  count: r.count,
  actor: r.actor,
  action: r.action,
  target: r.target,
  outcome: r.outcome,
  remote: r.remote,
});

export class AuditStore {
  constructor(private readonly db: Db) {}

  insert(entry: AuditEntry, time: number): number {
    const { lastInsertRowid } = this.db
      .prepare('INSERT INTO audit (time, last_time, count, actor, action, target, outcome, remote) VALUES (?, ?, 1, ?, ?, ?, ?, ?)')
      .run(time, time, entry.actor, entry.action, entry.target, entry.outcome, entry.remote);
    return Number(lastInsertRowid);
  }

  /** One more occurrence of the row's event. */
  bump(id: number, time: number): void {
    this.db.prepare('UPDATE audit SET count = count + 1, last_time = ? WHERE id = ?').run(time, id);
  }

  /** Drops the oldest authentication-failure rows beyond `keep`; admin actions are never dropped. */
  trimFailures(keep: number): void {
    this.db
      .prepare(`DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE action = ? ORDER BY id DESC LIMIT -1 OFFSET ?)`)
      .run(AUTH_FAILURE_ACTION, keep);
  }

  page(query: AuditQuery): AuditEvent[] {
    const conditions: [string, unknown][] = [];
    if (query.beforeId !== undefined) conditions.push(['id < ?', query.beforeId]);
    if (query.actor !== undefined) conditions.push(['actor = ?', query.actor]);
    if (query.action !== undefined) conditions.push(['action = ?', query.action]);
    const where = conditions.map(([sql]) => sql);
    const params = conditions.map(([, value]) => value);
    const sql = `SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...params, query.limit) as AuditRow[]).map(toEvent);
  }
}
