/**
 * Every route of the API, enumerated from /openapi.json (so a route added later is checked
 * too), refuses a request with no token, a malformed or wrong one, an expired or revoked one,
 * or one of a disabled user: 401, the scheme in WWW-Authenticate, a stable code, SLURM's words.
 * Only the explicit allowlist answers without a token. Each failure is in the audit log.
 */
import t from 'tap';
import { ManualClock } from '../../src/backends/simulator/clock.js';
import { PUBLIC_ROUTES } from '../../src/api/auth.js';
import { newToken } from '../../src/users/tokens.js';
import { SMALL_CLUSTER, startDaemon } from '../helpers/daemon.js';

const HOUR = 3_600_000;
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

t.test('no route but the allowlist answers without a valid token', async (t) => {
  const clock = new ManualClock(Date.now());
  const d = await startDaemon(t, SMALL_CLUSTER, { clock });
  const job = (await d.api('POST', '/api/v1/jobs', { script: '#!/bin/bash\ntrue\n', hold: true })).body.job_id as number;
  const alice = await d.asUser('alice');
  const expiring = (await d.api('POST', '/api/v1/users/alice/tokens', { expires: '1h' })).body;
  const revoked = (await d.api('POST', '/api/v1/users/alice/tokens', {})).body;
  t.equal((await d.api('DELETE', `/api/v1/users/alice/tokens/${revoked.id}`)).status, 200);
  const carol = await d.asUser('carol');
  t.equal((await d.api('PATCH', '/api/v1/users/carol', { enabled: false })).status, 200);
  clock.advance(2 * HOUR);
  t.equal((await alice.api('GET', '/api/v1/whoami')).status, 200, "alice's first token still works");

  const credentials: [string, Record<string, string>, string, RegExp][] = [
    ['no token', {}, 'E_AUTH_REQUIRED', /^Authentication required: /],
    ['another scheme', { authorization: `Basic ${Buffer.from('root:x').toString('base64')}` }, 'E_AUTH_INVALID', /^Invalid authentication credential/],
    ['a malformed token', { authorization: 'Bearer nope' }, 'E_AUTH_INVALID', /^Invalid authentication credential$/],
    ['a wrong token', { authorization: `Bearer ${newToken().token}` }, 'E_AUTH_INVALID', /^Invalid authentication credential$/],
    ['an expired token', { authorization: `Bearer ${expiring.token}` }, 'E_AUTH_EXPIRED', /^Invalid authentication credential: token \d+ expired on /],
    ['a revoked token', { authorization: `Bearer ${revoked.token}` }, 'E_AUTH_REVOKED', /^Invalid authentication credential: token \d+ was revoked on /],
    ["a disabled user's token", { authorization: `Bearer ${carol.token}` }, 'E_AUTH_USER_DISABLED', /^Invalid authentication credential: user carol is disabled$/],
  ];

  const spec = (await d.apiWith(null)('GET', '/openapi.json')).body;
  const values: Record<string, string> = { id: String(job), name: 'alice', file: 'project.xml' };
  const routes = Object.entries(spec.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) =>
    METHODS.filter((m) => ops[m]).map((m) => ({ method: m.toUpperCase(), template: p, path: p.replace(/\{(\w+)\}/g, (_, k: string) => values[k] ?? '1') })),
  );
  t.ok(routes.length >= 20, `the OpenAPI document lists the routes (${routes.length})`);
  const open = routes.filter((r) => PUBLIC_ROUTES.has(r.template));
  t.same(open.map((r) => `${r.method} ${r.template}`), ['GET /api/v1/health'], 'the only listed route answered without a token');

  for (const route of routes.filter((r) => !open.includes(r))) {
    for (const [what, headers, code, message] of credentials) {
      const body = route.method === 'POST' || route.method === 'PATCH' ? {} : undefined;
      const res = await d.apiWith(null)(route.method, route.path, body, headers);
      const ok = res.status === 401 && res.body?.error?.code === code && message.test(res.body.error.message);
      if (!ok) t.fail(`${route.method} ${route.template} with ${what}: ${res.status} ${JSON.stringify(res.body)}`);
    }
  }
  t.pass(`${routes.length - open.length} routes × ${credentials.length} credentials: 401 with the expected code and words`);

  const challenge = await fetch(`${d.url}/api/v1/jobs`, { headers: { authorization: `Bearer ${newToken().token}` } });
  t.equal(challenge.headers.get('www-authenticate'), 'Bearer realm="grm", error="invalid_token"', 'RFC 6750 challenge');
  t.equal((await fetch(`${d.url}/api/v1/jobs`)).headers.get('www-authenticate'), 'Bearer realm="grm"');
  t.equal((await d.apiWith(null)('GET', '/api/v1/no-such-route')).status, 401, 'an unknown API path needs a token too: nothing to probe');
  t.equal((await d.api('GET', '/api/v1/no-such-route')).status, 404);

  t.same([...PUBLIC_ROUTES].sort(), ['/*', '/api/v1/health', '/openapi.json', '/states.js'], 'the allowlist, in one place');
  for (const p of ['/api/v1/health', '/openapi.json', '/states.js', '/', '/index.html', '/viewer.js']) {
    t.equal((await d.apiWith(null)('GET', p)).status, 200, `${p} without a token (holds no data)`);
  }

  const failures = (await d.api('GET', '/api/v1/audit?action=auth.fail&limit=1000')).body.events as { outcome: string; count: number; target: string | null; remote: string }[];
  const byCode = new Map<string, number>();
  for (const f of failures) byCode.set(f.outcome, (byCode.get(f.outcome) ?? 0) + f.count);
  for (const [, , code] of credentials) t.ok((byCode.get(code) ?? 0) > 0, `${code} failures are in the audit log`);
  t.ok(failures.length < 20, `coalesced: ${failures.length} rows for ${[...byCode.values()].reduce((a, b) => a + b, 0)} failures`);
  t.ok(failures.some((f) => f.target === 'user carol token 2' || /^user carol token \d+$/.test(f.target ?? '')), "a disabled user's failure names the user");
  t.ok(failures.every((f) => f.remote === '127.0.0.1'), 'with the remote address');
});

t.test('a token is never accepted in the URL, only in the Authorization header', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  for (const q of [`access_token=${d.token}`, `token=${d.token}`]) {
    t.equal((await d.apiWith(null)('GET', `/api/v1/jobs?${q}`)).status, 401, q.split('=')[0]!);
  }
});
