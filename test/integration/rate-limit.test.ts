/**
 * Requests per window and caller (config rateLimit): a caller over it gets 429 with
 * Retry-After and a sentence; other callers are not slowed by it.
 */
import t from 'tap';
import { SMALL_CLUSTER, startDaemon } from '../helpers/daemon.js';

t.test('over the limit: 429 with Retry-After, in words; another token has its own count', async (t) => {
  const d = await startDaemon(t, { ...SMALL_CLUSTER, rateLimit: { max: 5, windowMs: 60_000 } });
  // the second user is made first (by the admin: those requests count against its five)
  const bob = await d.asUser('bob');
  const get = () => fetch(`${d.url}/api/v1/jobs`, { headers: { authorization: `Bearer ${d.token}` } });
  let res = await get();
  let answered = 0;
  for (; res.status === 200 && answered < 10; res = await get()) answered++;
  t.ok(answered >= 1 && answered <= 5, `${answered} more answered, then refused`);
  t.equal(res.status, 429);
  const retryAfter = Number(res.headers.get('retry-after'));
  t.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After: ${retryAfter} s`);
  const body = (await res.json()) as { error: { code: string; message: string } };
  t.equal(body.error.code, 'E_RATE_LIMITED');
  t.match(body.error.message, /^too many requests: at most 5 per 60 s for each token or address \(rateLimit\.max, rateLimit\.windowMs\); retry in \d+ s$/);
  t.equal((await bob.api('GET', '/api/v1/jobs')).status, 200, 'bob is not slowed by the admin');
});

t.test('without a token the remote address is the caller; rateLimit.max 0 turns the limit off', async (t) => {
  const limited = await startDaemon(t, { ...SMALL_CLUSTER, rateLimit: { max: 2, windowMs: 60_000 } });
  const health = async (url: string) => (await fetch(`${url}/api/v1/health`)).status;
  t.same([await health(limited.url), await health(limited.url), await health(limited.url)], [200, 200, 429]);
  const open = await startDaemon(t, { ...SMALL_CLUSTER, rateLimit: { max: 0 } });
  const many = await Promise.all(Array.from({ length: 50 }, () => health(open.url)));
  t.ok(many.every((s) => s === 200), 'no limit');
});

t.test('wrong tokens are counted too: guessing is limited like any other traffic', async (t) => {
  const d = await startDaemon(t, { ...SMALL_CLUSTER, rateLimit: { max: 3, windowMs: 60_000 } });
  const guess = async () => (await fetch(`${d.url}/api/v1/jobs`, { headers: { authorization: 'Bearer grm_not-a-token' } })).status;
  t.same([await guess(), await guess(), await guess(), await guess()], [401, 401, 401, 429]);
  t.equal((await fetch(`${d.url}/api/v1/jobs`, { headers: { authorization: `Bearer ${d.token}` } })).status, 200, 'the real token has its own count');
});
