/**
 * The users part: who may use the GRM, with which token, charging which accounts, running as
 * which local identity. The API authenticates every request here; the job service asks it
 * which account a job is charged to; the runtime asks it whom a master runs as (runAsOf).
 */
import { GrmError } from '../errors.js';
import type { UserStore } from '../store/user-store.js';
import type { AuditLog } from './audit-log.js';
import { expiryOf, hashToken, newToken } from './tokens.js';
import { authenticate, bearerToken, chargeAccount, checkAccounts, checkRole, checkRunAs, checkUserName, isAuthFailure } from './user-rules.js';
import type { AuthFailure, Principal, Role, RunAs, TokenInfo, User } from './user-types.js';

/** last_used_time is kept to the minute: one write a minute per token, not one per request. */
const TOUCH_EVERY_MS = 60_000;

export interface UserServiceOptions {
  store: UserStore;
  audit: AuditLog;
  now: () => number;
  /** A new token's lifetime unless its issuer gives one; 0 = never expires. */
  tokenLifetimeDays: number;
}

/** A token as issued: its text is in this answer and nowhere else, ever. */
export interface IssuedToken {
  id: number;
  token: string;
  expiresTime: number | null;
}

export interface NewUserInput {
  name: string;
  role: string;
  accounts?: string[];
  runAs?: RunAs | null;
  /** Issue a first token with the user. */
  token?: boolean;
  /** Its lifetime ("30d", "never"); default the configured one. */
  expires?: string;
}

export interface UserChangesInput {
  role?: string;
  accounts?: string[];
  enabled?: boolean;
  runAs?: RunAs | null;
}

export class UserService {
  readonly audit: AuditLog;
  /** The daemon's time, which token expiry is measured in. */
  readonly now: () => number;
  private readonly store: UserStore;

  constructor(private readonly options: UserServiceOptions) {
    this.store = options.store;
    this.audit = options.audit;
    this.now = options.now;
  }

  /** The principal an Authorization header stands for; a failure is audited and returned. */
  authenticate(header: string | undefined, remote: string | null): Principal | AuthFailure {
    const bearer = bearerToken(header);
    if (isAuthFailure(bearer)) return this.failed(bearer, remote);
    const now = this.options.now();
    const found = this.store.findByHash(hashToken(bearer.token));
    const result = authenticate(found, now);
    if (isAuthFailure(result)) return this.failed(result, remote);
    const used = found!.token.lastUsedTime;
    if (used === null || now - used >= TOUCH_EVERY_MS) this.store.touchToken(result.tokenId, now);
    return result;
  }

  private failed(failure: AuthFailure, remote: string | null): AuthFailure {
    this.audit.authFailure(failure, remote);
    return failure;
  }

  list(): User[] {
    return this.store.list();
  }

  get(name: string): User {
    return this.store.require(name);
  }

  add(createdBy: string, input: NewUserInput): { user: User; token: IssuedToken | null } {
    const fields = {
      name: checkUserName(input.name),
      role: checkRole(input.role),
      accounts: checkAccounts(input.accounts ?? []),
      runAs: input.runAs ? checkRunAs(input.runAs) : null,
      createdBy,
    };
    if (!input.token) return { user: this.store.insertWithToken(fields, null, null).user, token: null };
    const { token, hash } = newToken();
    const expiresTime = expiryOf(this.options.now(), input.expires, this.options.tokenLifetimeDays);
    const created = this.store.insertWithToken(fields, hash, expiresTime);
    return { user: created.user, token: { id: created.token!.id, token, expiresTime } };
  }

  update(name: string, input: UserChangesInput): User {
    const current = this.store.require(name);
    const role: Role | undefined = input.role === undefined ? undefined : checkRole(input.role);
    const losesAdmin = current.role === 'admin' && current.enabled && (input.enabled === false || (role !== undefined && role !== 'admin'));
    if (losesAdmin && this.store.otherEnabledAdmins(name) === 0) {
      throw new GrmError('E_REQUEST_INVALID', `Refused: ${name} is the last enabled admin; make another admin first`, { field: 'name' });
    }
    return this.store.update(name, {
      ...(role !== undefined ? { role } : {}),
      ...(input.accounts !== undefined ? { accounts: checkAccounts(input.accounts) } : {}),
      ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
      ...(input.runAs !== undefined ? { runAs: input.runAs === null ? null : checkRunAs(input.runAs) } : {}),
    });
  }

  issueToken(name: string, expires?: string): IssuedToken {
    this.store.require(name);
    const { token, hash } = newToken();
    const expiresTime = expiryOf(this.options.now(), expires, this.options.tokenLifetimeDays);
    return { id: this.store.addToken(name, hash, expiresTime).id, token, expiresTime };
  }

  tokens(name: string): TokenInfo[] {
    this.store.require(name);
    return this.store.tokensOf(name);
  }

  /** Revokes one token (id) or all of a user's tokens (null); returns those revoked now. */
  revoke(name: string, id: number | null): TokenInfo[] {
    this.store.require(name);
    if (id !== null) {
      const token = this.store.token(id);
      if (!token || token.user !== name) throw new GrmError('E_TOKEN_NOT_FOUND', `Invalid token id specified: ${id} (no such token of ${name})`, { field: 'id' });
    }
    return this.store.revoke(name, id);
  }

  /** Whether `userName` is an enabled admin (admins' -o/-e/-D are not kept to the output roots). */
  isAdmin(userName: string): boolean {
    const user = this.store.get(userName);
    return user !== undefined && user.enabled && user.role === 'admin';
  }

  /** The local identity `userName`'s masters run as; null when an admin mapped none. */
  runAsOf(userName: string): RunAs | null {
    return this.store.get(userName)?.runAs ?? null;
  }

  /** The account a job of `userName` is charged to (JobService's accounts policy). */
  charge(userName: string, requested: string | undefined): string | undefined {
    return chargeAccount(this.store.get(userName), requested);
  }

  /**
   * First start: no user at all. Creates admin `name` (running as `runAs`: the daemon's own
   * identity) with a token that never expires (it lives
   * in a file only the daemon's user reads, as an ssh key does; an admin can revoke it) and
   * hands the token to `keep` BEFORE the user is stored: if keeping it fails, nothing is
   * stored and the next start tries again. Returns whether it bootstrapped.
   * `given`: the token to use instead of a new one (auth.adminTokenFile, already checked).
   */
  bootstrap(name: string, runAs: RunAs | null, keep: (token: string) => void, given?: string): boolean {
    if (this.store.count() > 0) return false;
    const { token, hash } = given === undefined ? newToken() : { token: given, hash: hashToken(given) };
    keep(token);
    this.store.insertWithToken({ name: checkUserName(name), role: 'admin', accounts: [], runAs: runAs && checkRunAs(runAs), createdBy: 'grm (first start)' }, hash, null);
    return true;
  }
}
