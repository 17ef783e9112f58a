/**
 * The audit log: admin actions as one row each, authentication failures coalesced.
 *
 * Failed authentications cost an attacker nothing, so they must not grow the database without
 * bound. Three limits, together:
 *  - failures of one kind (same code, remote address, and user when the token was a real one)
 *    within a minute share one row, whose count and last time go up;
 *  - at most NEW_ROWS_PER_MINUTE new failure rows a minute: beyond that (many addresses, many
 *    kinds) every further failure of that minute is counted in one overflow row;
 *  - at most `maxFailureRows` failure rows in all: the oldest are dropped first.
 * Admin actions are never coalesced nor dropped: only admins can cause them.
 */
import type { AuditQuery, AuditStore } from '../store/audit-store.js';
import { AUTH_FAILURE_ACTION } from '../store/audit-store.js';
import type { AuditEntry, AuditEvent, AuthFailure } from './user-types.js';

const WINDOW_MS = 60_000;
export const NEW_ROWS_PER_MINUTE = 60;
const OVERFLOW = 'overflow';

export interface AuditLogOptions {
  store: AuditStore;
  now: () => number;
  maxFailureRows: number;
}

export class AuditLog {
  /** Open failure rows by kind: further failures of that kind until `until` bump the row. */
  private readonly open = new Map<string, { id: number; until: number }>();
  private windowStart = -Infinity;
  private newRows = 0;

  constructor(private readonly options: AuditLogOptions) {}

  record(entry: AuditEntry): void {
    this.options.store.insert(entry, this.options.now());
  }

  /** Newest first. */
  page(query: AuditQuery): AuditEvent[] {
    return this.options.store.page(query);
  }

  authFailure(failure: AuthFailure, remote: string | null): void {
    const now = this.options.now();
    if (now - this.windowStart >= WINDOW_MS) this.newWindow(now);
    let entry: AuditEntry = {
      actor: null,
      action: AUTH_FAILURE_ACTION,
      target: failure.user === undefined ? null : `user ${failure.user} token ${failure.tokenId}`,
      outcome: failure.code,
      remote,
    };
    let key = JSON.stringify([entry.outcome, entry.remote, entry.target]);
    if (this.bumped(key, now)) return;
    if (this.newRows >= NEW_ROWS_PER_MINUTE) {
      key = OVERFLOW;
      entry = { ...entry, target: `failures beyond ${NEW_ROWS_PER_MINUTE} kinds a minute (any code, any address)`, outcome: 'E_AUTH_*', remote: null };
      if (this.bumped(key, now)) return;
    }
    const { store } = this.options;
    const id = store.insert(entry, now);
    this.newRows += 1;
    this.open.set(key, { id, until: key === OVERFLOW ? this.windowStart + WINDOW_MS : now + WINDOW_MS });
    store.trimFailures(this.options.maxFailureRows);
  }

  /** Counts one more failure in the open row of `key`, if there is one. */
  private bumped(key: string, now: number): boolean {
    const open = this.open.get(key);
    if (!open || open.until <= now) return false;
    this.options.store.bump(open.id, now);
    return true;
  }

  private newWindow(now: number): void {
    this.windowStart = now;
    this.newRows = 0;
    for (const [key, open] of this.open) if (open.until <= now) this.open.delete(key);
  }
}
