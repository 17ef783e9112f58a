/** JSON schemas of the users, tokens and audit routes, and how their records are presented. */
import { Type } from '@sinclair/typebox';
import type { IssuedToken } from '../users/user-service.js';
import type { AuditEvent, Principal, TokenInfo, User } from '../users/user-types.js';

const Time = Type.String({ description: 'ISO 8601' });
const MaybeTime = Type.Union([Time, Type.Null()]);
const Id = Type.Integer({ minimum: 0, maximum: 4294967294 });

export const RunAsSchema = Type.Object(
  { uid: Id, gid: Id, groups: Type.Optional(Type.Array(Id, { maxItems: 1024, description: 'supplementary gids; default none' })) },
  { additionalProperties: false, description: 'the local identity the user\'s masters run as' },
);

export const UserNameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });

export const TokenSchema = Type.Object({
  id: Type.Integer(),
  user_name: Type.String(),
  state: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]),
  created_time: Time,
  expires_time: MaybeTime,
  revoked_time: MaybeTime,
  last_used_time: Type.Union([Time, Type.Null()], { description: 'to the minute' }),
});

export const UserSchema = Type.Object({
  name: Type.String(),
  role: Type.Union([Type.Literal('user'), Type.Literal('admin')]),
  accounts: Type.Array(Type.String()),
  default_account: Type.Union([Type.String(), Type.Null()]),
  enabled: Type.Boolean(),
  run_as: Type.Union([RunAsSchema, Type.Null()]),
  created_time: Time,
  created_by: Type.String(),
  tokens: Type.Optional(Type.Array(TokenSchema)),
});

/** A token as issued: the only answer that ever carries a token's text. */
export const IssuedTokenSchema = Type.Object({
  id: Type.Integer(),
  token: Type.String({ description: 'shown once: the daemon keeps only its hash' }),
  expires_time: MaybeTime,
});

export const WhoamiSchema = Type.Object({
  user_name: Type.String(),
  role: Type.Union([Type.Literal('user'), Type.Literal('admin')]),
  accounts: Type.Array(Type.String()),
  default_account: Type.Union([Type.String(), Type.Null()]),
  token_id: Type.Integer(),
});

export const AuditEventSchema = Type.Object({
  id: Type.Integer(),
  time: Time,
  last_time: Type.String({ description: 'ISO 8601; the last of `count` occurrences (failures are coalesced)' }),
  count: Type.Integer(),
  actor: Type.Union([Type.String(), Type.Null()], { description: 'null: authentication failed' }),
  action: Type.String(),
  target: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.String({ description: 'ok, or the error code' }),
  remote: Type.Union([Type.String(), Type.Null()]),
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function presentToken(t: TokenInfo, now: number) {
  const state = t.revokedTime !== null ? 'revoked' : t.expiresTime !== null && t.expiresTime <= now ? 'expired' : 'active';
  return {
    id: t.id,
    user_name: t.user,
    state: state as 'active' | 'expired' | 'revoked',
    created_time: iso(t.createdTime)!,
    expires_time: iso(t.expiresTime),
    revoked_time: iso(t.revokedTime),
    last_used_time: iso(t.lastUsedTime),
  };
}

export function presentUser(u: User, tokens?: TokenInfo[], now = Date.now()) {
  return {
    name: u.name,
    role: u.role,
    accounts: u.accounts,
    default_account: u.accounts[0] ?? null,
    enabled: u.enabled,
    run_as: u.runAs,
    created_time: iso(u.createdTime)!,
    created_by: u.createdBy,
    ...(tokens ? { tokens: tokens.map((t) => presentToken(t, now)) } : {}),
  };
}

export const presentIssued = (t: IssuedToken) => ({ id: t.id, token: t.token, expires_time: iso(t.expiresTime) });

export const presentWhoami = (p: Principal) => ({
  user_name: p.name,
  role: p.role,
  accounts: p.accounts,
  default_account: p.accounts[0] ?? null,
  token_id: p.tokenId,
});

export const presentAuditEvent = (e: AuditEvent) => ({
  id: e.id,
  time: iso(e.time)!,
  last_time: iso(e.lastTime)!,
  count: e.count,
  actor: e.actor,
  action: e.action,
  target: e.target,
  outcome: e.outcome,
  remote: e.remote,
});
