/**
 * Users and their tokens in SQLite. Tokens are found by the SHA-256 of their text; the text
 * itself is never stored (src/users/tokens.ts says why a fast hash is right for them).
 */
import type Database from 'better-sqlite3';
import { GrmError } from '../errors.js';
import type { RunAs, TokenInfo, TokenLookup, User } from '../users/user-types.js';
import type { Db } from './database.js';

interface UserRow {
  name: string;
  role: string;
  accounts: string;
  enabled: number;
  uid: number | null;
  gid: number | null;
  groups: string | null;
  created_time: number;
  created_by: string;
}

interface TokenRow {
  id: number;
  user: string;
  created_time: number;
  expires_time: number | null;
  revoked_time: number | null;
  last_used_time: number | null;
}

const TOKEN_COLUMNS = 't.id, t.user, t.created_time, t.expires_time, t.revoked_time, t.last_used_time';

function toUser(r: UserRow): User {
  return {
    name: r.name,
    role: r.role as User['role'],
    accounts: JSON.parse(r.accounts) as string[],
    enabled: r.enabled === 1,
    runAs: r.uid === null || r.gid === null ? null : { uid: r.uid, gid: r.gid, groups: r.groups ? (JSON.parse(r.groups) as number[]) : [] },
    createdTime: r.created_time,
    createdBy: r.created_by,
  };
}

function toToken(r: TokenRow): TokenInfo {
  return { id: r.id, user: r.user, createdTime: r.created_time, expiresTime: r.expires_time, revokedTime: r.revoked_time, lastUsedTime: r.last_used_time };
}

export interface NewUser {
  name: string;
  role: User['role'];
  accounts: string[];
  runAs: RunAs | null;
  createdBy: string;
}

export interface UserChanges {
  role?: User['role'];
  accounts?: string[];
  enabled?: boolean;
  /** null removes the mapping */
  runAs?: RunAs | null;
}

export class UserStore {
  /** Every request looks its token up: compiled once. */
  private readonly byHash: Database.Statement;

  constructor(
    private readonly db: Db,
    private readonly now: () => number,
  ) {
    // token columns renamed: users has created_time too
    this.byHash = db.prepare(
      `SELECT u.*, t.id AS t_id, t.created_time AS t_created, t.expires_time AS t_expires, t.revoked_time AS t_revoked, t.last_used_time AS t_used
       FROM user_tokens t JOIN users u ON u.name = t.user WHERE t.hash = ?`,
    );
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
  }

  get(name: string): User | undefined {
    const row = this.db.prepare('SELECT * FROM users WHERE name = ?').get(name) as UserRow | undefined;
    return row ? toUser(row) : undefined;
  }

  require(name: string): User {
    const user = this.get(name);
    if (!user) throw new GrmError('E_USER_NOT_FOUND', `Invalid user: ${name} (no such user)`, { field: 'name' });
    return user;
  }

  list(): User[] {
    return (this.db.prepare('SELECT * FROM users ORDER BY name').all() as UserRow[]).map(toUser);
  }

  /** Enabled admins other than `except`: the last one may not be disabled or demoted. */
  otherEnabledAdmins(except: string): number {
    return (this.db.prepare("SELECT count(*) AS n FROM users WHERE role = 'admin' AND enabled = 1 AND name <> ?").get(except) as { n: number }).n;
  }

  insert(user: NewUser): User {
    try {
      this.db
        .prepare('INSERT INTO users (name, role, accounts, enabled, uid, gid, groups, created_time, created_by) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?)')
        .run(user.name, user.role, JSON.stringify(user.accounts), user.runAs?.uid ?? null, user.runAs?.gid ?? null, user.runAs ? JSON.stringify(user.runAs.groups) : null, this.now(), user.createdBy);
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new GrmError('E_USER_EXISTS', `User ${user.name} already exists`, { field: 'name', cause: e });
      }
      throw e;
    }
    return this.require(user.name);
  }

  update(name: string, changes: UserChanges): User {
    this.require(name);
    const columns: Record<string, unknown> = {};
    if (changes.role !== undefined) columns.role = changes.role;
    if (changes.accounts !== undefined) columns.accounts = JSON.stringify(changes.accounts);
    if (changes.enabled !== undefined) columns.enabled = changes.enabled ? 1 : 0;
    if (changes.runAs !== undefined) {
      columns.uid = changes.runAs?.uid ?? null;
      columns.gid = changes.runAs?.gid ?? null;
      columns.groups = changes.runAs ? JSON.stringify(changes.runAs.groups) : null;
    }
    // column names are the fixed keys above, never input
    const names = Object.keys(columns);
    if (names.length > 0) this.db.prepare(`UPDATE users SET ${names.map((c) => `${c} = ?`).join(', ')} WHERE name = ?`).run(...Object.values(columns), name);
    return this.require(name);
  }

  /** Stores a token's hash for `user`; returns its row. */
  addToken(user: string, hash: string, expiresTime: number | null): TokenInfo {
    const { lastInsertRowid } = this.db
      .prepare('INSERT INTO user_tokens (user, hash, created_time, expires_time) VALUES (?, ?, ?, ?)')
      .run(user, hash, this.now(), expiresTime);
    return this.token(Number(lastInsertRowid))!;
  }

  /** A user and a first token, together or not at all. */
  insertWithToken(user: NewUser, hash: string | null, expiresTime: number | null): { user: User; token: TokenInfo | null } {
    return this.db.transaction(() => {
      const created = this.insert(user);
      return { user: created, token: hash === null ? null : this.addToken(user.name, hash, expiresTime) };
    })();
  }

  token(id: number): TokenInfo | undefined {
    const row = this.db.prepare(`SELECT ${TOKEN_COLUMNS} FROM user_tokens t WHERE t.id = ?`).get(id) as TokenRow | undefined;
    return row ? toToken(row) : undefined;
  }

  tokensOf(user: string): TokenInfo[] {
    return (this.db.prepare(`SELECT ${TOKEN_COLUMNS} FROM user_tokens t WHERE t.user = ? ORDER BY t.id`).all(user) as TokenRow[]).map(toToken);
  }

  /** The token with this hash and its owner: one indexed lookup per request. */
  findByHash(hash: string): TokenLookup | undefined {
    const row = this.byHash.get(hash) as (UserRow & { t_id: number; t_created: number; t_expires: number | null; t_revoked: number | null; t_used: number | null }) | undefined;
    if (!row) return undefined;
    const token = { id: row.t_id, user: row.name, created_time: row.t_created, expires_time: row.t_expires, revoked_time: row.t_revoked, last_used_time: row.t_used };
    return { token: toToken(token), user: toUser(row) };
  }

  touchToken(id: number, time: number): void {
    this.db.prepare('UPDATE user_tokens SET last_used_time = ? WHERE id = ?').run(time, id);
  }

  /** Revokes one token of `user`, or all of them (id null); returns the tokens revoked now. */
  revoke(user: string, id: number | null): TokenInfo[] {
    const now = this.now();
    const ids = (
      id === null
        ? this.db.prepare('SELECT id FROM user_tokens WHERE user = ? AND revoked_time IS NULL').all(user)
        : this.db.prepare('SELECT id FROM user_tokens WHERE user = ? AND id = ? AND revoked_time IS NULL').all(user, id)
    ) as { id: number }[];
    const mark = this.db.prepare('UPDATE user_tokens SET revoked_time = ? WHERE id = ?');
    this.db.transaction(() => ids.forEach((r) => mark.run(now, r.id)))();
    return ids.map((r) => this.token(r.id)!);
  }
}
