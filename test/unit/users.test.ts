/**
 * The users core: token format and hashing, lifetimes, authentication decisions (expired,
 * revoked, disabled), roles, account choice, the audit log's bound on failures; the service
 * against a real SQLite file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { GrmError } from '../../src/errors.js';
import { openDatabase } from '../../src/store/database.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { UserStore } from '../../src/store/user-store.js';
import { AuditLog, NEW_ROWS_PER_MINUTE } from '../../src/users/audit-log.js';
import { adminTokenPath, writeSecretFile } from '../../src/users/first-admin.js';
import { expiryOf, hashToken, isWellFormedToken, newToken, parseTokenLifetime } from '../../src/users/tokens.js';
import { authenticate, bearerToken, canSeeJobsOf, chargeAccount, checkAccounts, checkUserName, isAuthFailure, requireAdmin } from '../../src/users/user-rules.js';
import { UserService } from '../../src/users/user-service.js';
import type { AuthFailure, Principal, TokenLookup, User } from '../../src/users/user-types.js';

const DAY = 86_400_000;

function service(t: { teardown(fn: () => void): void }, options: { lifetimeDays?: number; maxFailureRows?: number } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-users-'));
  const db = openDatabase(path.join(dir, 'grm.sqlite'));
  t.teardown(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const clock = { t: 1_000_000_000_000 };
  const now = () => clock.t;
  const audit = new AuditLog({ store: new AuditStore(db), now, maxFailureRows: options.maxFailureRows ?? 1000 });
  const users = new UserService({ store: new UserStore(db, now), audit, now, tokenLifetimeDays: options.lifetimeDays ?? 90 });
  return { users, clock, db, dir, rows: () => audit.page({ limit: 100_000 }) };
}

const bearer = (token: string) => `Bearer ${token}`;
const failed = (x: Principal | AuthFailure) => (isAuthFailure(x) ? x.code : 'ok');

t.test('a token is grm_ and 43 base64url characters of 32 random bytes, stored as its SHA-256', async (t) => {
  const a = newToken();
  const b = newToken();
  t.match(a.token, /^grm_[A-Za-z0-9_-]{43}$/);
  t.equal(Buffer.from(a.token.slice(4), 'base64url').length, 32, '256 bits');
  t.not(a.token, b.token);
  t.equal(a.hash, hashToken(a.token));
  t.match(a.hash, /^[0-9a-f]{64}$/);
  t.equal(hashToken('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'SHA-256 (FIPS 180-2 test vector)');
  t.ok(isWellFormedToken(a.token));
  for (const bad of ['', 'grm_', 'grm_short', `GRM_${a.token.slice(4)}`, `${a.token}x`, `grm_${'a'.repeat(42)}!`]) t.notOk(isWellFormedToken(bad), bad);
});

t.test('lifetimes: minutes, hours, days, weeks or never; the configured default; bounded', async (t) => {
  t.equal(parseTokenLifetime('90m'), 90 * 60_000);
  t.equal(parseTokenLifetime('12h'), 12 * 3_600_000);
  t.equal(parseTokenLifetime('30d'), 30 * DAY);
  t.equal(parseTokenLifetime('2W'), 14 * DAY);
  t.equal(parseTokenLifetime('never'), null);
  for (const bad of ['0d', '-1d', '1y', '30', 'd', '99999999d', '1.5d']) {
    t.throws(() => parseTokenLifetime(bad), { code: 'E_REQUEST_INVALID', field: 'expires' }, bad);
  }
  t.equal(expiryOf(1000, '1h', 90), 1000 + 3_600_000, 'given');
  t.equal(expiryOf(1000, undefined, 90), 1000 + 90 * DAY, 'configured default');
  t.equal(expiryOf(1000, undefined, 0), null, '0 days: never');
  t.equal(expiryOf(1000, 'never', 90), null);
});

t.test('the Authorization header: none is "required", anything but Bearer <token-shaped> is invalid', async (t) => {
  const { token } = newToken();
  t.same(bearerToken(bearer(token)), { token });
  t.same(bearerToken(`bearer  ${token} `), { token }, 'scheme in any case, spaces around');
  t.equal((bearerToken(undefined) as AuthFailure).code, 'E_AUTH_REQUIRED');
  t.equal((bearerToken('  ') as AuthFailure).code, 'E_AUTH_REQUIRED');
  t.match((bearerToken(undefined) as AuthFailure).message, /^Authentication required: /);
  for (const bad of [`Basic ${token}`, token, 'Bearer', 'Bearer grm_x', `Bearer ${token} extra`]) {
    t.equal((bearerToken(bad) as AuthFailure).code, 'E_AUTH_INVALID', bad);
  }
});

t.test('a found token lets its user in unless revoked, expired or the user is disabled', async (t) => {
  const user: User = { name: 'alice', role: 'user', accounts: ['p1'], enabled: true, runAs: null, createdTime: 0, createdBy: 'root' };
  const token = { id: 7, user: 'alice', createdTime: 0, expiresTime: 2000, revokedTime: null, lastUsedTime: null };
  const found = (t: Partial<TokenLookup['token']>, u: Partial<User> = {}): TokenLookup => ({ token: { ...token, ...t }, user: { ...user, ...u } });
  t.same(authenticate(found({}), 1999), { name: 'alice', role: 'user', accounts: ['p1'], tokenId: 7 });
  t.equal(failed(authenticate(undefined, 0)), 'E_AUTH_INVALID');
  t.equal(failed(authenticate(found({}), 2000)), 'E_AUTH_EXPIRED', 'expired at its expiry time');
  t.equal(failed(authenticate(found({ expiresTime: null }), 1e15)), 'ok', 'never expires');
  t.equal(failed(authenticate(found({ revokedTime: 5 }), 10)), 'E_AUTH_REVOKED');
  t.equal(failed(authenticate(found({}, { enabled: false }), 10)), 'E_AUTH_USER_DISABLED');
  const expired = authenticate(found({}), 3000) as AuthFailure;
  t.match(expired.message, /^Invalid authentication credential: token 7 expired on .*grm user token alice/);
  t.same([expired.user, expired.tokenId], ['alice', 7], 'the failure names whose token it was (for the audit)');
});

t.test('roles: admin routes refuse users in words; users see their own jobs, admins every job', async (t) => {
  const alice: Principal = { name: 'alice', role: 'user', accounts: [], tokenId: 1 };
  const root: Principal = { name: 'root', role: 'admin', accounts: [], tokenId: 2 };
  t.throws(() => requireAdmin(alice, 'grm user add'), { code: 'E_PERMISSION_DENIED', message: /^Access\/permission denied: grm user add is for administrators \(alice has role user\)$/ });
  t.doesNotThrow(() => requireAdmin(root, 'grm user add'));
  t.ok(canSeeJobsOf(alice, 'alice'));
  t.notOk(canSeeJobsOf(alice, 'bob'));
  t.ok(canSeeJobsOf(root, 'bob'));
});

t.test('accounts: the one asked for if the user belongs to it, else the default; admins any', async (t) => {
  const alice = { name: 'alice', role: 'user' as const, accounts: ['physics', 'ml'] };
  t.equal(chargeAccount(alice, undefined), 'physics', 'none asked: the first is the default');
  t.equal(chargeAccount(alice, 'ml'), 'ml');
  t.equal(chargeAccount(alice, ' ML '), 'ml', 'SLURM keeps account names in lower case');
  t.throws(() => chargeAccount(alice, 'chemistry'), new GrmError('E_ACCOUNT_INVALID', 'Invalid account or account/partition combination specified', { field: 'account' }));
  t.equal(chargeAccount({ ...alice, accounts: [] }, undefined), undefined, 'no account at all: none charged');
  t.throws(() => chargeAccount({ ...alice, accounts: [] }, 'physics'), { code: 'E_ACCOUNT_INVALID' });
  t.equal(chargeAccount({ name: 'root', role: 'admin', accounts: [] }, 'chemistry'), 'chemistry', 'an admin charges any account');
  t.throws(() => chargeAccount(undefined, 'x'), { code: 'E_ACCOUNT_INVALID' }, 'an unknown user charges nothing');
  t.same(checkAccounts(['B', 'a', 'b']), ['b', 'a'], 'lower-cased, duplicates dropped, order kept');
  t.throws(() => checkAccounts(['has space']), { code: 'E_USER_INVALID' });
});

t.test('user names are Unix-style', async (t) => {
  for (const ok of ['alice', 'a_b', '_svc', 'x.y-z', 'a'.repeat(32)]) t.equal(checkUserName(ok), ok);
  for (const bad of ['', 'Alice', '1abc', '-x', 'a b', 'a'.repeat(33), 'rm;x', 'é']) t.throws(() => checkUserName(bad), { code: 'E_USER_INVALID' }, bad);
});

t.test('the service: first start makes one admin; tokens authenticate, expire, are revoked', async (t) => {
  const { users, clock } = service(t, { lifetimeDays: 30 });
  let kept = '';
  t.ok(users.bootstrap('root', { uid: 0, gid: 0, groups: [] }, (token) => (kept = token)));
  t.notOk(users.bootstrap('root', null, () => t.fail('a second start keeps nothing')), 'only when there is no user');
  t.same(users.authenticate(bearer(kept), '127.0.0.1'), { name: 'root', role: 'admin', accounts: [], tokenId: 1 });
  t.same(users.runAsOf('root'), { uid: 0, gid: 0, groups: [] }, 'the first admin runs as the daemon');

  const { user, token } = users.add('root', { name: 'alice', role: 'user', accounts: ['P1', 'p2'], token: true });
  t.same(user.accounts, ['p1', 'p2']);
  t.equal(token!.expiresTime, clock.t + 30 * DAY, 'the configured lifetime');
  t.equal(users.runAsOf('alice'), null, 'unmapped');
  t.equal(failed(users.authenticate(bearer(token!.token), null)), 'ok');
  t.equal(users.tokens('alice')[0]!.lastUsedTime, clock.t, 'last used, to the minute');

  const short = users.issueToken('alice', '1h');
  clock.t += 3_600_000;
  t.equal(failed(users.authenticate(bearer(short.token), null)), 'E_AUTH_EXPIRED');
  t.equal(failed(users.authenticate(bearer(token!.token), null)), 'ok', 'the other token lives on');

  t.same(users.revoke('alice', token!.id).map((r) => r.id), [token!.id]);
  t.equal(failed(users.authenticate(bearer(token!.token), null)), 'E_AUTH_REVOKED');
  t.same(users.revoke('alice', token!.id), [], 'revoking twice revokes nothing more');
  t.throws(() => users.revoke('alice', 1), { code: 'E_TOKEN_NOT_FOUND' }, "root's token is not alice's to revoke");

  const again = users.issueToken('alice', 'never');
  t.equal(again.expiresTime, null);
  users.update('alice', { enabled: false });
  t.equal(failed(users.authenticate(bearer(again.token), null)), 'E_AUTH_USER_DISABLED');
  users.update('alice', { enabled: true });
  t.equal(failed(users.authenticate(bearer(again.token), null)), 'ok', 'enabled again');
  t.same(users.revoke('alice', null).map((r) => r.id), [short.id, again.id], '--all: every one not revoked yet (expired ones too)');
  t.throws(() => users.add('root', { name: 'alice', role: 'user' }), { code: 'E_USER_EXISTS' });
  t.throws(() => users.get('nobody'), { code: 'E_USER_NOT_FOUND' });
});

t.test('the last enabled admin cannot be disabled or demoted', async (t) => {
  const { users } = service(t);
  users.bootstrap('root', null, () => undefined);
  t.throws(() => users.update('root', { enabled: false }), { code: 'E_REQUEST_INVALID', message: /last enabled admin/ });
  t.throws(() => users.update('root', { role: 'user' }), { message: /last enabled admin/ });
  users.add('root', { name: 'ops', role: 'admin' });
  t.equal(users.update('root', { enabled: false }).enabled, false, 'with another admin, it can');
});

t.test('failed authentications are coalesced and bounded; admin actions are never dropped', async (t) => {
  const { users, clock, rows } = service(t, { maxFailureRows: 100 });
  users.bootstrap('root', null, () => undefined);
  users.audit.record({ actor: 'root', action: 'user.add', target: 'user alice', outcome: 'ok', remote: '127.0.0.1' });
  for (let i = 0; i < 1000; i++) users.authenticate(undefined, '10.0.0.1');
  let failures = rows().filter((r) => r.action === 'auth.fail');
  t.equal(failures.length, 1, 'a thousand failures of one kind from one address in a minute: one row');
  t.equal(failures[0]!.count, 1000);
  // many addresses within one minute: at most NEW_ROWS_PER_MINUTE rows, then one overflow row
  for (let i = 0; i < 500; i++) users.authenticate(bearer(newToken().token), `10.1.${i >> 8}.${i & 255}`);
  failures = rows().filter((r) => r.action === 'auth.fail');
  t.equal(failures.length, NEW_ROWS_PER_MINUTE + 1, 'new rows a minute are bounded');
  const overflow = failures.find((r) => r.remote === null)!;
  t.equal(overflow.count, 500 - (NEW_ROWS_PER_MINUTE - 1), 'the rest are counted in the overflow row');
  // minute after minute: the oldest failure rows go beyond the cap; the admin action stays
  for (let minute = 0; minute < 10; minute++) {
    clock.t += 60_000;
    for (let i = 0; i < 30; i++) users.authenticate(undefined, `10.2.${minute}.${i}`);
  }
  failures = rows().filter((r) => r.action === 'auth.fail');
  t.equal(failures.length, 100, 'at most auditMaxFailureRows failure rows');
  t.ok(rows().some((r) => r.action === 'user.add'), 'the admin action is kept');
  t.ok(failures.every((r) => r.remote === null || r.remote.startsWith('10.2.') || r.remote.startsWith('10.1.')), 'the oldest went first');
});

t.test('an expired, revoked or disabled token is audited with whose token it was', async (t) => {
  const { users, clock, rows } = service(t);
  users.bootstrap('root', null, () => undefined);
  const { token } = users.add('root', { name: 'bob', role: 'user', token: true, expires: '1h' });
  clock.t += 2 * 3_600_000;
  users.authenticate(bearer(token!.token), '192.0.2.7');
  const [row] = rows();
  t.same([row!.actor, row!.action, row!.target, row!.outcome, row!.remote], [null, 'auth.fail', `user bob token ${token!.id}`, 'E_AUTH_EXPIRED', '192.0.2.7']);
});

t.test('the token file is created 0600 whatever the umask, and replaced whole', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-token-file-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = adminTokenPath(dir);
  t.equal(path.basename(file), 'admin.token');
  const umask = process.umask(0o000); // even with a permissive umask
  try {
    writeSecretFile(file, 'one\n');
  } finally {
    process.umask(umask);
  }
  t.equal(fs.statSync(file).mode & 0o777, 0o600);
  writeSecretFile(file, 'two\n');
  t.equal(fs.readFileSync(file, 'utf8'), 'two\n');
  t.same(fs.readdirSync(dir), ['admin.token'], 'no temp file left');
});
