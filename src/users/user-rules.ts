/**
 * The rules of the users part, pure: valid names, who a token makes a request act as, who may
 * see which job, which account a job is charged to. SLURM's words where SLURM has them.
 */
import { GrmError } from '../errors.js';
import { isWellFormedToken } from './tokens.js';
import { ROLES, type AuthFailure, type Principal, type Role, type RunAs, type TokenLookup, type User } from './user-types.js';

/** Unix-style: lower case, digits, `_ . -`, not starting with a digit or `-`; at most 32 (useradd's limit). */
const USER_NAME = /^[a-z_][a-z0-9_.-]{0,31}$/;
/** SLURM keeps account names in lower case; GRM does the same. */
const ACCOUNT_NAME = /^[a-z0-9_][a-z0-9_.-]{0,63}$/;
/** Largest uid/gid: 2^32 - 2 ((uid_t)-1 means "no change" to setuid). */
const MAX_ID = 4_294_967_294;
const MAX_GROUPS = 1024;

export function isUserName(name: string): boolean {
  return USER_NAME.test(name);
}

export function checkUserName(name: string): string {
  if (!isUserName(name)) {
    throw new GrmError('E_USER_INVALID', `Invalid user name "${name}": use lower-case letters, digits, '_', '.', '-' (not first), at most 32`, {
      field: 'name',
    });
  }
  return name;
}

export function checkRole(role: string): Role {
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new GrmError('E_USER_INVALID', `Invalid role "${role}": one of ${ROLES.join(', ')}`, { field: 'role' });
  }
  return role as Role;
}

/** Account names, lower-cased, duplicates dropped, order kept (the first is the default). */
export function checkAccounts(accounts: string[]): string[] {
  const out: string[] = [];
  for (const raw of accounts) {
    const a = raw.trim().toLowerCase();
    if (!ACCOUNT_NAME.test(a)) {
      throw new GrmError('E_USER_INVALID', `Invalid account name "${raw}": letters, digits, '_', '.', '-', at most 64`, { field: 'accounts' });
    }
    if (!out.includes(a)) out.push(a);
  }
  return out;
}

export function checkRunAs(runAs: RunAs): RunAs {
  const id = (n: number, field: string) => {
    if (!Number.isInteger(n) || n < 0 || n > MAX_ID) {
      throw new GrmError('E_USER_INVALID', `Invalid ${field} ${n}: an integer from 0 to ${MAX_ID}`, { field });
    }
    return n;
  };
  if (runAs.groups.length > MAX_GROUPS) throw new GrmError('E_USER_INVALID', `Too many supplementary groups (at most ${MAX_GROUPS})`, { field: 'groups' });
  return { uid: id(runAs.uid, 'uid'), gid: id(runAs.gid, 'gid'), groups: [...new Set(runAs.groups.map((g) => id(g, 'groups')))] };
}

const AUTH_HINT = 'send "Authorization: Bearer <token>" (the grm command reads GRM_TOKEN, else the file GRM_TOKEN_FILE names)';

/** The token an Authorization header carries, or why there is none that could be valid. */
export function bearerToken(header: string | undefined): { token: string } | AuthFailure {
  if (header === undefined || header.trim() === '') return { code: 'E_AUTH_REQUIRED', message: `Authentication required: ${AUTH_HINT}` };
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (!m) return { code: 'E_AUTH_INVALID', message: `Invalid authentication credential: ${AUTH_HINT}` };
  if (!isWellFormedToken(m[1]!)) return { code: 'E_AUTH_INVALID', message: 'Invalid authentication credential' };
  return { token: m[1]! };
}

/** Whether a token found by its hash (or not found) lets its holder in at `now`. */
export function authenticate(found: TokenLookup | undefined, now: number): Principal | AuthFailure {
  if (!found) return { code: 'E_AUTH_INVALID', message: 'Invalid authentication credential' };
  const { token, user } = found;
  const who = { user: user.name, tokenId: token.id };
  if (token.revokedTime !== null) {
    return { code: 'E_AUTH_REVOKED', message: `Invalid authentication credential: token ${token.id} was revoked on ${iso(token.revokedTime)}`, ...who };
  }
  if (token.expiresTime !== null && token.expiresTime <= now) {
    return {
      code: 'E_AUTH_EXPIRED',
      message: `Invalid authentication credential: token ${token.id} expired on ${iso(token.expiresTime)}; an admin issues a new one with "grm user token ${user.name}"`,
      ...who,
    };
  }
  if (!user.enabled) return { code: 'E_AUTH_USER_DISABLED', message: `Invalid authentication credential: user ${user.name} is disabled`, ...who };
  return { name: user.name, role: user.role, accounts: user.accounts, tokenId: token.id };
}

export function isAuthFailure(x: Principal | AuthFailure | { token: string }): x is AuthFailure {
  return 'code' in x;
}

/** Refuses a non-admin, in SLURM's words. */
export function requireAdmin(principal: Principal, what: string): void {
  if (principal.role !== 'admin') {
    throw new GrmError('E_PERMISSION_DENIED', `Access/permission denied: ${what} is for administrators (${principal.name} has role ${principal.role})`);
  }
}

/** A user sees their own jobs; an admin sees every job. */
export function canSeeJobsOf(principal: Pick<Principal, 'name' | 'role'>, owner: string): boolean {
  return principal.role === 'admin' || principal.name === owner;
}

/**
 * The account a job is charged to: the one asked for, if the user belongs to it (an admin may
 * charge any account, as SLURM's operators do); none asked, the user's default (their first).
 */
export function chargeAccount(user: Pick<User, 'name' | 'role' | 'accounts'> | undefined, requested: string | undefined): string | undefined {
  if (requested === undefined || requested.trim() === '') return user?.accounts[0];
  const account = requested.trim().toLowerCase();
  if (user && (user.accounts.includes(account) || (user.role === 'admin' && ACCOUNT_NAME.test(account)))) return account;
  throw new GrmError('E_ACCOUNT_INVALID', 'Invalid account or account/partition combination specified', { field: 'account' });
}

const iso = (ms: number) => new Date(ms).toISOString();
