/**
 * Authorization: a user sees and acts on their own jobs only; another user's job is a 404
 * exactly as a missing job (no existence leak), on every job route; lists, search, report and
 * nodes show only their own jobs; an admin sees all, and their changes to others' jobs are
 * audited; a job is charged only to an account its user belongs to.
 */
import t from 'tap';
import { SMALL_CLUSTER, startDaemon } from '../helpers/daemon.js';
import { untilFileExists } from '../helpers/wait.js';

const sh = (body: string) => `#!/bin/bash\n${body}\n`;
const MISSING = 999_999;

t.test("user A meets user B's jobs as missing ones; lists and searches hold only A's; an admin sees all", async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const alice = await d.asUser('alice', { accounts: ['physics'] });
  const bob = await d.asUser('bob', { accounts: ['chem'] });
  const submit = async (who: Pick<typeof alice, 'api'>, body: Record<string, unknown>) => {
    const res = await who.api('POST', '/api/v1/jobs', body);
    if (res.status !== 201) throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.job_id as number;
  };
  const bobDone = await submit(bob, { name: 'bobs-secret', script: sh('echo "needle from bob"\necho "bob err" >&2') });
  const bobHeld = await submit(bob, { name: 'bobs-held', hold: true, script: sh('true') });
  const bobLive = await submit(bob, { name: 'bobs-live', script: sh(`echo "live needle"\n${untilFileExists(`${d.dataDir}/never`)}`) });
  const mine = await submit(alice, { name: 'alices', script: sh('echo "needle from alice"') });
  await d.waitForState(bobDone, ['COMPLETED']);
  await d.waitForState(mine, ['COMPLETED']);
  await d.waitForState(bobLive, ['RUNNING']);

  // Every job route, for one of bob's jobs and for a job that does not exist: the same answer.
  const routes: [string, (id: number) => string, unknown?][] = [
    ['GET', (id) => `/api/v1/jobs/${id}`],
    ['GET', (id) => `/api/v1/jobs/${id}/logs`],
    ['GET', (id) => `/api/v1/jobs/${id}/logs.txt`],
    ['GET', (id) => `/api/v1/jobs/${id}/logs/stream`],
    ['GET', (id) => `/api/v1/jobs/${id}/metrics`],
    ['GET', (id) => `/api/v1/jobs/${id}/report`],
    ['GET', (id) => `/api/v1/jobs/${id}/files/project.xml`],
    ['GET', (id) => `/api/v1/jobs/${id}/files/resources.xml`],
    ['DELETE', (id) => `/api/v1/jobs/${id}`],
    ['DELETE', (id) => `/api/v1/jobs/${id}_[1-2]`],
    ['PATCH', (id) => `/api/v1/jobs/${id}`, { time_limit: 5 }],
    ['POST', (id) => `/api/v1/jobs/${id}/hold`],
    ['POST', (id) => `/api/v1/jobs/${id}/release`],
    ['POST', (id) => `/api/v1/jobs/${id}/requeue`, {}],
  ];
  for (const [method, path, body] of routes) {
    const missing = await alice.api(method, path(MISSING), body);
    t.equal(missing.status, 404, `${method} ${path(MISSING)}: a missing job is 404`);
    for (const id of [bobDone, bobHeld, bobLive]) {
      const res = await alice.api(method, path(id), body);
      t.equal(res.status, 404, `${method} ${path(id)} of bob's: 404`);
      t.same(JSON.stringify(res.body).replaceAll(String(id), 'N'), JSON.stringify(missing.body).replaceAll(String(MISSING), 'N'), `${method} ${path(id)}: the same answer as a missing job`);
    }
  }
  const adminView = async (id: number) => (await d.api('GET', `/api/v1/jobs/${id}`)).body;
  t.equal((await adminView(bobHeld)).job_state, 'PENDING', "bob's held job was not cancelled, released or changed");
  t.equal((await adminView(bobHeld)).state_reason, 'JobHeldUser');
  t.equal((await adminView(bobHeld)).time_limit, null);
  t.equal((await adminView(bobLive)).job_state, 'RUNNING', "bob's running job was not cancelled or requeued");
  t.equal((await adminView(bobDone)).restart_cnt, 0, "bob's ended job was not requeued");

  // Lists and searches: alice's jobs only, whatever she asks for.
  const ids = async (who: Pick<typeof alice, 'api'>, query: string) => ((await who.api('GET', `/api/v1/jobs?${query}`)).body.jobs as { job_id: number }[]).map((j) => j.job_id);
  t.same(await ids(alice, 'state=all'), [mine], 'her list: her job only');
  t.same(await ids(alice, 'state=all&user=bob'), [], "asking for bob's: none");
  t.same((await alice.api('GET', '/api/v1/jobs?state=all&user=bob')).body.total, 0, 'counted as none');
  t.same(await ids(alice, `state=all&ids=${bobDone},${bobLive}`), [], "asking for bob's ids: none");
  t.same(await ids(alice, 'state=all&user=alice,bob'), [mine]);
  t.same((await ids(d, 'state=all')).sort((a, b) => a - b), [bobDone, bobHeld, bobLive, mine].sort((a, b) => a - b), 'the admin lists every job');

  await d.daemon.logSearch.catchUp();
  const hits = async (who: Pick<typeof alice, 'api'>, query: string) => ((await who.api('GET', `/api/v1/logs/search?${query}`)).body.hits as { job_id: number }[]).map((h) => h.job_id);
  t.same(await hits(alice, 'q=needle'), [mine], 'her search: her lines only');
  t.same(await hits(alice, 'q=needle&user=bob'), []);
  t.same(await hits(alice, `q=needle&job=${bobDone}`), []);
  t.same((await hits(d, 'q=needle')).sort(), [bobDone, bobLive, mine].sort(), 'the admin searches every job');

  const since = new Date(Date.now() - 3_600_000).toISOString();
  const report = (await alice.api('GET', `/api/v1/report?since=${since}`)).body;
  t.same(report.jobs_by_state, { COMPLETED: 1 }, 'her report counts her jobs');
  t.same(Object.keys(report.node_hours_by_user), ['alice']);
  const nodeJobs = async (who: Pick<typeof alice, 'api'>) => ((await who.api('GET', '/api/v1/nodes')).body.nodes as { jobs: number[] }[]).flatMap((n) => n.jobs);
  t.same(await nodeJobs(alice), [], "bob's running job is not on her view of the nodes");
  t.same(await nodeJobs(bob), [bobLive], 'bob sees his own');
  t.same(await nodeJobs(d), [bobLive], 'the admin sees every job');

  // The admin acts on bob's jobs, and it is in the audit log; on their own, it is not.
  t.equal((await d.api('GET', `/api/v1/jobs/${bobDone}/files/project.xml`)).status, 200, "the admin reads bob's files");
  t.equal((await d.api('DELETE', `/api/v1/jobs/${bobLive}`)).status, 200);
  t.equal((await d.api('PATCH', `/api/v1/jobs/${bobHeld}`, { time_limit: 5 })).status, 200);
  t.equal((await d.api('POST', `/api/v1/jobs/${bobDone}/release`)).status, 409, 'a refused action too');
  const own = await submit(d, { hold: true, script: sh('true') });
  t.equal((await d.api('DELETE', `/api/v1/jobs/${own}`)).status, 200);
  const audit = (await d.api('GET', '/api/v1/audit')).body.events as { actor: string; action: string; target: string; outcome: string; remote: string }[];
  const jobRows = audit.filter((e) => e.action.startsWith('job.')).map((e) => [e.actor, e.action, e.target, e.outcome]);
  const admin = (await d.api('GET', '/api/v1/whoami')).body.user_name;
  t.same(jobRows, [
    [admin, 'job.release', `job ${bobDone} of bob`, 'E_JOB_STATE'],
    [admin, 'job.update', `job ${bobHeld} of bob`, 'ok'],
    [admin, 'job.cancel', `job ${bobLive} of bob`, 'ok'],
  ], "the admin's actions on bob's jobs, newest first; not their reads, not their own jobs");
});

t.test("--dependency on another user's job reads as a missing job; an admin's hold only an admin releases", async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const alice = await d.asUser('alice', { accounts: ['physics'] });
  const bob = await d.asUser('bob', { accounts: ['chem'] });
  const bobs = (await bob.api('POST', '/api/v1/jobs', { hold: true, script: sh('true') })).body.job_id as number;
  const onBob = await alice.api('POST', '/api/v1/jobs', { dependency: `afterok:${bobs}`, script: sh('true') });
  const onMissing = await alice.api('POST', '/api/v1/jobs', { dependency: `afterok:${MISSING}`, script: sh('true') });
  t.equal(onBob.status, 400);
  t.same(JSON.stringify(onBob.body).replace(String(bobs), "N"), JSON.stringify(onMissing.body).replace(String(MISSING), "N"), "bob's job: the same answer as a missing one");
  t.equal((await bob.api('POST', '/api/v1/jobs', { dependency: `afterok:${bobs}`, script: sh('true') })).status, 201, 'bob may depend on his own');
  t.equal((await d.api('POST', '/api/v1/jobs', { dependency: `afterok:${bobs}`, script: sh('true') })).status, 201, 'an admin sees every job');

  const mine = (await alice.api('POST', '/api/v1/jobs', { begin_time: new Date(Date.now() + 3_600_000).toISOString(), script: sh('true') })).body.job_id as number;
  t.equal((await d.api('POST', `/api/v1/jobs/${mine}/hold`)).body.state_reason, 'JobHeldAdmin', "an admin's hold");
  t.equal((await alice.api('POST', `/api/v1/jobs/${mine}/hold`)).body.state_reason, 'JobHeldAdmin', 'her own hold does not weaken it');
  const refused = await alice.api('POST', `/api/v1/jobs/${mine}/release`);
  t.equal(refused.status, 403);
  t.match(refused.body.error.message, /Access\/permission denied: job \d+ is held by an admin \(JobHeldAdmin\)/);
  t.equal((await d.api('POST', `/api/v1/jobs/${mine}/release`)).body.state_reason, 'BeginTime', 'the admin releases it');
  t.equal((await d.api('POST', `/api/v1/jobs/${mine}/hold`, { user: true })).body.state_reason, 'JobHeldUser', 'user: true asks for a user hold (uhold)');
  t.equal((await alice.api('POST', `/api/v1/jobs/${mine}/release`)).body.state_reason, 'BeginTime', 'which she releases');
});

t.test('a job is charged to an account its user belongs to, by default the first; the user is the token\'s', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const alice = await d.asUser('alice', { accounts: ['physics', 'ml'] });
  const refused = await alice.api('POST', '/api/v1/jobs', { account: 'chem', hold: true, script: sh('true') });
  t.equal(refused.status, 400);
  t.same(refused.body.error, { code: 'E_ACCOUNT_INVALID', message: 'Invalid account or account/partition combination specified', field: 'account' });
  const directive = await alice.api('POST', '/api/v1/jobs', { hold: true, script: sh('#SBATCH -A chem\ntrue') });
  t.equal(directive.body.error?.code, 'E_ACCOUNT_INVALID', 'an #SBATCH directive too');
  t.equal((await d.api('GET', '/api/v1/jobs?state=all')).body.total, 0, 'nothing stored');

  const accountOf = async (res: { body: { job_id: number } }) => (await d.api('GET', `/api/v1/jobs/${res.body.job_id}`)).body.request.account;
  const byDefault = await alice.api('POST', '/api/v1/jobs', { hold: true, script: sh('true') });
  t.equal(await accountOf(byDefault), 'physics', 'no account asked: her default');
  t.same(byDefault.body.warnings, [], 'a default account is not an option she gave: no warning');
  const chosen = await alice.api('POST', '/api/v1/jobs', { account: 'ML', hold: true, script: sh('true') });
  t.equal(await accountOf(chosen), 'ml');
  t.equal(chosen.body.job.user_name, 'alice');

  const claimed = await alice.api('POST', '/api/v1/jobs', { user: 'bob', user_name: 'bob', hold: true, script: sh('true') });
  if (claimed.status === 201) t.equal(claimed.body.job.user_name, 'alice', 'a body naming another user changes nothing');
  else t.equal(claimed.status, 400, 'or is refused');
  t.equal(await accountOf(await d.api('POST', '/api/v1/jobs', { account: 'anything', hold: true, script: sh('true') })), 'anything', 'an admin charges any account');
  t.same((await alice.api('GET', '/api/v1/whoami')).body, { user_name: 'alice', role: 'user', accounts: ['physics', 'ml'], default_account: 'physics', token_id: 2 });
});

t.test('users routes are for admins: a user gets 403 in words, and the refusal is audited', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const alice = await d.asUser('alice');
  for (const [method, path, body] of [
    ['GET', '/api/v1/users'],
    ['POST', '/api/v1/users', { name: 'mallory', role: 'admin', token: true }],
    ['PATCH', '/api/v1/users/alice', { role: 'admin' }],
    ['POST', '/api/v1/users/alice/tokens', {}],
    ['DELETE', '/api/v1/users/alice/tokens'],
    ['GET', '/api/v1/audit'],
  ] as [string, string, unknown?][]) {
    const res = await alice.api(method, path, body);
    t.equal(res.status, 403, `${method} ${path}`);
    t.match(res.body.error, { code: 'E_PERMISSION_DENIED', message: /^Access\/permission denied: .* is for administrators \(alice has role user\)$/ });
  }
  const audit = (await d.api('GET', '/api/v1/audit')).body.events as { actor: string; action: string; outcome: string }[];
  t.same(
    audit.filter((e) => e.actor === 'alice').map((e) => [e.action, e.outcome]),
    [['token.revoke', 'E_PERMISSION_DENIED'], ['token.issue', 'E_PERMISSION_DENIED'], ['user.modify', 'E_PERMISSION_DENIED'], ['user.add', 'E_PERMISSION_DENIED']],
    'each refused change is a row',
  );
  t.equal((await d.api('GET', '/api/v1/users/mallory')).status, 404, 'nobody was added');

  t.equal((await d.api('POST', '/api/v1/users', { name: 'Not Unix', role: 'user' })).status, 400);
  t.equal((await d.api('POST', '/api/v1/users', { name: 'eve', role: 'god' })).status, 400);
  const refused = ((await d.api('GET', '/api/v1/audit?action=user.add&limit=2')).body.events as { target: string; outcome: string }[]).map((e) => [e.target, e.outcome]);
  t.same(refused, [['user eve role god', 'E_REQUEST_INVALID'], ['user Not Unix role user', 'E_USER_INVALID']], "an admin's refused actions are rows with the code they were refused with");
});
