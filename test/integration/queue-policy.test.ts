/**
 * GRM's queue policy in the daemon (src/jobs/queue-policy.ts over src/policy/): limits hold
 * with SLURM's reasons without blocking other users, submit limits refuse with sbatch's
 * words, and fair share puts a heavy user's job behind a light user's (sprio, sshare).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ManualClock } from '../../src/backends/simulator/clock.js';
import { validateConfig } from '../../src/config/load-config.js';
import { QueuePolicy } from '../../src/jobs/queue-policy.js';
import { resolvePolicyConfig } from '../../src/policy/policy-config.js';
import { openDatabase } from '../../src/store/database.js';
import { JobStore } from '../../src/store/job-store.js';
import { PolicyStore } from '../../src/store/policy-store.js';
import { SMALL_CLUSTER, startDaemon } from '../helpers/daemon.js';
import { untilFileExists, waitUntil } from '../helpers/wait.js';

const sh = (body: string) => `#!/bin/bash\n${body}\n`;
const ACCOUNTS = [{ name: 'physics' }, { name: 'chem' }];

async function submit(who: { api: (m: string, r: string, b?: unknown) => Promise<{ status: number; body: any }> }, body: Record<string, unknown>): Promise<number> {
  const res = await who.api('POST', '/api/v1/jobs', body);
  if (res.status !== 201) throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.job_id as number;
}

t.test('MaxJobs holds with its reason and skips, not blocks; MaxSubmitJobs refuses with sbatch\'s words', async (t) => {
  const policy = { accounts: ACCOUNTS, users: [{ name: 'alice', account: 'physics', limits: { maxJobs: 1, maxSubmitJobs: 3 } }] };
  const d = await startDaemon(t, { ...SMALL_CLUSTER, policy });
  const alice = await d.asUser('alice', { accounts: ['physics'] });
  const bob = await d.asUser('bob', { accounts: ['chem'] });
  const go = `${d.dataDir}/go`;
  const a: number[] = [];
  for (let i = 0; i < 3; i++) a.push(await submit(alice, { name: `a${i}`, script: sh(untilFileExists(go)) }));
  const b = await submit(bob, { name: 'b', script: sh('true') });
  await d.waitForState(a[0]!, ['RUNNING']);
  await d.waitForState(b, ['COMPLETED']);
  const waiting = await waitUntil('the limit reason', async () => {
    const j = (await d.api('GET', `/api/v1/jobs/${a[1]}`)).body;
    return j.state_reason === 'AssocMaxJobsLimit' ? j : undefined;
  });
  t.equal(waiting.job_state, 'PENDING', "alice's second job waits on her MaxJobs; bob's, behind it, ran");
  t.equal((await d.api('GET', `/api/v1/jobs/${a[2]}`)).body.job_state, 'PENDING');

  const over = await alice.api('POST', '/api/v1/jobs', { script: sh('true') });
  t.equal(over.status, 400, 'a fourth job is over MaxSubmitJobs=3');
  t.equal(over.body.error.code, 'E_POLICY_LIMIT');
  t.match(over.body.error.message, /^Job violates accounting\/QOS policy \(job submit limit, user's size and\/or time limits\)/);
  t.match(over.body.error.message, /MaxSubmitJobs/);
  const cli = await alice.cli('sbatch', '--wrap', 'true');
  t.equal(cli.code, 1);
  t.match(cli.stderr, /Job violates accounting\/QOS policy/);
  t.equal((await d.api('GET', '/api/v1/jobs?user=alice')).body.total, 3, 'nothing stored for a refused submission');

  fs.writeFileSync(go, '');
  for (const id of a) await d.waitForState(id, ['COMPLETED'], 60_000);
  const starts = a.map((id) => d.daemon.store.events(id).find((e) => e.toState === 'RUNNING')!.id);
  t.ok(starts[0]! < starts[1]! && starts[1]! < starts[2]!, 'one at a time, in order, as the limit released');
});

t.test('an array counts one job per task toward MaxSubmitJobs, before and after its tasks split off, as in SLURM', async (t) => {
  const policy = { accounts: ACCOUNTS, users: [{ name: 'alice', account: 'physics', limits: { maxJobs: 1, maxSubmitJobs: 5 } }] };
  const d = await startDaemon(t, { ...SMALL_CLUSTER, policy });
  const alice = await d.asUser('alice', { accounts: ['physics'] });
  const go = `${d.dataDir}/go`;
  const tooMany = await alice.api('POST', '/api/v1/jobs', { array: '0-5', script: sh('true') });
  t.equal(tooMany.status, 400, 'an array of 6 tasks is over MaxSubmitJobs=5');
  t.match(tooMany.body.error.message, /MaxSubmitJobs/);
  const arr = await submit(alice, { array: '0-3', name: 'arr', script: sh(untilFileExists(go)) });
  // its first task splits off and runs (MaxJobs=1): still 4 jobs toward the limit
  await waitUntil('a task running', async () => ((await d.api('GET', '/api/v1/jobs?user=alice&state=RUNNING')).body.total === 1 ? true : undefined));
  const single = await submit(alice, { name: 'one', script: sh('true') });
  const over = await alice.api('POST', '/api/v1/jobs', { script: sh('true') });
  t.equal(over.status, 400, '4 tasks + 1 job: a sixth is refused, the split task counted once');
  fs.writeFileSync(go, '');
  await d.waitForState(single, ['COMPLETED'], 60_000);
  const tasks = (await d.api('GET', `/api/v1/jobs?user=alice&state=all`)).body.jobs.filter((j: { array_job_id?: number }) => j.array_job_id === arr);
  t.equal(tasks.length, 4, 'every task ran');
  t.ok(tasks.every((j: { job_state: string }) => j.job_state === 'COMPLETED'));
  t.equal((await alice.api('POST', '/api/v1/jobs', { array: '0-4', script: sh('true') })).status, 201, 'all ended: 5 tasks fit again');
});

t.test("the job-size factor is relative to the backend's cluster (SLURM: sinfo), read at each recalculation", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-size-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const db = openDatabase(path.join(dir, 'grm.sqlite'));
  t.teardown(() => db.close());
  const store = new JobStore(db);
  const clock = new ManualClock(Date.now());
  let size = { nodes: 4, cpus: 8 };
  const policy = new QueuePolicy({
    config: resolvePolicyConfig(validateConfig({ policy: { weights: { jobSize: 1000 } } }).policy, { queueDepth: 100 }),
    store,
    policyStore: new PolicyStore(db),
    clock,
    cluster: { nodes: 100, cpus: 400 }, // the configured one: a 4-node job is small in it
    sizeOf: async () => size,
    calcPeriodMs: 60_000,
    onError: (e) => t.fail(String(e)),
  });
  const job = store.insert(
    { name: 'wide', user: 'alice', partition: 'batch', description: { minimum_nodes: 4, tasks: 8 }, script: '#!/bin/sh\ntrue\n', argv: [], runtime: 'command', environment: {}, timeLimitMinutes: null, nice: 0, submitTime: clock.now() },
    'test',
  );
  const factor = () => policy.sprio({ after: 0, limit: 10 }).rows.find((r) => r.jobId === job.id)!.jobSize;
  t.ok(factor() < 100, `against the configured 100 nodes: ${factor()}`);
  await policy.recalculate();
  t.equal(factor(), 1000, 'the whole cluster the backend has: the full weight');
  t.equal(store.require(job.id).priority, 1000, 'the stored priority (the queue order) follows');
  size = { nodes: 8, cpus: 16 };
  await policy.recalculate();
  t.equal(factor(), 500, 'the cluster grew: half of it');
  policy.stop();
});

t.test('fair share: after alice used an hour of CPUs, bob\'s later job starts before hers; sprio and sshare say why', async (t) => {
  const clock = new ManualClock(Date.parse('2026-12-01T08:00:00Z'));
  const policy = { accounts: ACCOUNTS, weights: { fairshare: 10000 }, calcPeriodSeconds: 60 };
  const d = await startDaemon(t, { ...SMALL_CLUSTER, maxConcurrentMasters: 1, policy }, { clock });
  const alice = await d.asUser('alice', { accounts: ['physics'] });
  const bob = await d.asUser('bob', { accounts: ['chem'] });
  const go1 = `${d.dataDir}/go1`;
  const go2 = `${d.dataDir}/go2`;
  const heavy = await submit(alice, { name: 'heavy', tasks: 4, script: sh(untilFileExists(go1)) });
  await d.waitForState(heavy, ['RUNNING']);
  clock.advance(3_600_000); // alice's job holds 4 CPUs for an hour
  fs.writeFileSync(go1, '');
  await d.waitForState(heavy, ['COMPLETED']);

  const blocker = await submit(bob, { name: 'blocker', script: sh(untilFileExists(go2)) });
  await d.waitForState(blocker, ['RUNNING']);
  const a2 = await submit(alice, { name: 'a2', script: sh('true') });
  const b1 = await submit(bob, { name: 'b1', script: sh('true') });
  clock.advance(60_000); // the next PriorityCalcPeriod
  const rows = await waitUntil('priorities recalculated', async () => {
    const jobs = (await d.api('GET', '/api/v1/priority')).body.jobs as any[];
    const [pa, pb] = [jobs.find((j) => j.job_id === a2), jobs.find((j) => j.job_id === b1)];
    return pa && pb && pb.priority > pa.priority ? { pa, pb } : undefined;
  });
  t.ok(rows.pb.fairshare > rows.pa.fairshare, `bob's fair-share factor (${rows.pb.fairshare}) above alice's (${rows.pa.fairshare})`);
  t.equal((await d.api('GET', `/api/v1/jobs/${b1}`)).body.priority, rows.pb.priority, 'the job carries the priority the queue orders by');
  const carol = await d.asUser('carol', { accounts: ['chem'] });
  const c1 = await submit(carol, { name: 'c1', script: sh('true') });
  const pc = (await d.api('GET', `/api/v1/jobs/${c1}`)).body.priority;
  t.ok(pc > rows.pa.priority, `a user never seen before gets her fair share at once (${pc}), not the floor of 1`);

  const sprio = await d.cli('sprio');
  t.equal(sprio.code, 0, sprio.stderr);
  t.match(sprio.stdout, /^\s*JOBID PARTITION\s+USER\s+PRIORITY\s+AGE\s+FAIRSHARE\s+JOBSIZE\s+PARTITION\s+QOS\s+NICE\n/);
  t.match(sprio.stdout, new RegExp(`\\n\\s*${b1} batch\\s+bob\\s+\\d+ `), "bob's job, with its priority now");
  t.same((await alice.api('GET', '/api/v1/priority')).body.jobs.map((j: any) => j.job_id), [a2], 'a user sees only their own jobs');

  const shares = (await d.api('GET', '/api/v1/shares')).body.shares as any[];
  const aliceRow = shares.find((r) => r.user === 'alice');
  const bobRow = shares.find((r) => r.user === 'bob');
  t.ok(aliceRow.raw_usage >= 4 * 3600 * 0.99, `alice's raw usage ~ 4 CPUs x 1 h (${aliceRow.raw_usage} CPU-seconds)`);
  t.ok(aliceRow.fairshare < bobRow.fairshare, 'and her fair-share factor is the lower');
  const sshare = await d.cli('sshare');
  t.match(sshare.stdout, /^Account\s+User\s+RawShares\s+NormShares\s+RawUsage\s+EffectvUsage\s+FairShare\n/);
  t.match(sshare.stdout, /\n\s*physics\s+alice\s+1 /);

  fs.writeFileSync(go2, '');
  await d.waitForState(a2, ['COMPLETED'], 60_000);
  await d.waitForState(c1, ['COMPLETED'], 60_000);
  await d.waitForState(b1, ['COMPLETED'], 60_000);
  const startOf = (id: number) => d.daemon.store.events(id).find((e) => e.toState === 'ALLOCATING')!.id;
  t.ok(startOf(b1) < startOf(a2), "bob's job, submitted after alice's, was sent first");
});

t.test('QOS: an unknown one is refused; a higher one goes first; its MaxJobsPerUser holds with QOSMaxJobsPerUserLimit', async (t) => {
  const policy = {
    weights: { qos: 1000 },
    qos: [{ name: 'normal' }, { name: 'high', priority: 10, limits: { maxJobsPerUser: 1 } }],
    defaultQos: 'normal',
  };
  const d = await startDaemon(t, { ...SMALL_CLUSTER, maxConcurrentMasters: 2, policy });
  const bad = await d.api('POST', '/api/v1/jobs', { qos: 'gold', script: sh('true') });
  t.equal(bad.status, 400);
  t.match(bad.body.error.message, /^Invalid qos specification: "gold" \(defined: normal, high\)/);
  const go = `${d.dataDir}/go`;
  const blockers = [await submit(d, { script: sh(untilFileExists(go)) }), await submit(d, { script: sh(untilFileExists(go)) })];
  for (const id of blockers) await d.waitForState(id, ['RUNNING']);
  const normal = await submit(d, { script: sh('true') });
  const high = await d.api('POST', '/api/v1/jobs', { qos: 'high', script: sh(untilFileExists(`${go}2`)) });
  t.notMatch(JSON.stringify(high.body), /--qos is recorded/, 'no "recorded only" warning: GRM acts on it');
  const high2 = await submit(d, { qos: 'high', script: sh('true') });
  const [pn, ph] = [(await d.api('GET', `/api/v1/jobs/${normal}`)).body.priority, (await d.api('GET', `/api/v1/jobs/${high.body.job_id}`)).body.priority];
  t.ok(ph > pn, `the high QOS job's priority (${ph}) above the normal one's (${pn})`);
  // the queue in GRM's order, a page of one at a time
  const order: number[] = [];
  for (let cursor: string | null = null, pages = 0; pages < 10; pages++) {
    const r: { status: number; body: any } = await d.api('GET', `/api/v1/jobs?state=PD&sort=priority&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
    t.equal(r.status, 200, JSON.stringify(r.body));
    order.push(...r.body.jobs.map((j: any) => j.job_id));
    cursor = r.body.next_cursor;
    if (!cursor) break;
  }
  t.same(order, [high.body.job_id, high2, normal], 'sort=priority: the high QOS jobs first, then the normal one, across pages');
  t.equal((await d.api('GET', '/api/v1/jobs?sort=priority&cursor=12')).status, 400, 'an id cursor is not a queue cursor');
  fs.writeFileSync(go, '');
  await d.waitForState(high.body.job_id, ['RUNNING']);
  await d.waitForState(normal, ['COMPLETED']);
  const waiting = (await d.api('GET', `/api/v1/jobs/${high2}`)).body;
  t.same([waiting.job_state, waiting.state_reason], ['PENDING', 'QOSMaxJobsPerUserLimit'], 'the second high job waits on its QOS, the normal one behind it ran');
  fs.writeFileSync(`${go}2`, '');
  await d.waitForState(high2, ['COMPLETED']);
});

t.test('grm sacctmgr modify: a limit raised at run time lets the waiting job go, holds after a restart; users may not', async (t) => {
  const policy = { accounts: ACCOUNTS, users: [{ name: 'alice', account: 'physics', limits: { maxJobs: 1 } }] };
  const d = await startDaemon(t, { ...SMALL_CLUSTER, policy });
  const alice = await d.asUser('alice', { accounts: ['physics'] });
  const go = `${d.dataDir}/go`;
  const first = await submit(alice, { script: sh(untilFileExists(go)) });
  const second = await submit(alice, { script: sh(untilFileExists(go)) });
  await d.waitForState(first, ['RUNNING']);
  await waitUntil('the second waits on MaxJobs', async () => ((await d.api('GET', `/api/v1/jobs/${second}`)).body.state_reason === 'AssocMaxJobsLimit' ? true : undefined));

  const refused = await alice.cli('sacctmgr', 'modify', 'user', 'name=alice', 'set', 'MaxJobs=5');
  t.equal(refused.code, 1, 'a user may not change limits');
  t.match(refused.stderr, /admin/i);
  const ok = await d.cli('sacctmgr', '-i', 'modify', 'user', 'where', 'name=alice', 'set', 'MaxJobs=2', 'GrpTRES=node=6');
  t.equal(ok.code, 0, ok.stderr);
  t.equal(ok.stdout, 'Modified user physics/alice: MaxJobs=2 GrpTRES=node=6\n');
  await d.waitForState(second, ['RUNNING']);
  t.pass('the waiting job started once the limit went up, without a restart');
  const show = await d.cli('sacctmgr', 'show', 'assoc');
  t.match(show.stdout, /^Kind\s+Name\s+Limits\n/);
  t.match(show.stdout, /\nuser\s+physics\/alice\s+MaxJobs=2 GrpTRES=node=6\n/);
  const bad = await d.api('PATCH', '/api/v1/policy/limits', { account: 'nosuch', set: { grpJobs: 1 } });
  t.equal(bad.status, 400);
  t.match(bad.body.error.message, /Invalid account "nosuch"/);
  const badKey = await d.api('PATCH', '/api/v1/policy/limits', { qos: 'x', account: 'physics', set: { grpJobs: 1 } });
  t.equal(badKey.status, 400, 'one scope at a time');

  fs.writeFileSync(go, '');
  for (const id of [first, second]) await d.waitForState(id, ['COMPLETED']);
  const cleared = await d.cli('sacctmgr', 'modify', 'account', 'name=chem', 'set', 'GrpJobs=3');
  t.equal(cleared.code, 0, cleared.stderr);
  await d.daemon.stop();
  // a daemon started again on the same store: the limits set at run time hold over the config's
  const db = openDatabase(path.join(d.dataDir, 'grm.sqlite'));
  t.teardown(() => db.close());
  const config = validateConfig({ ...SMALL_CLUSTER, policy });
  const store = new JobStore(db);
  const again = new QueuePolicy({
    config: resolvePolicyConfig(config.policy, { queueDepth: 100 }),
    store,
    policyStore: new PolicyStore(db),
    clock: new ManualClock(Date.now()),
    cluster: { nodes: 8, cpus: 32 },
    calcPeriodMs: 60_000,
    onError: (e) => t.fail(String(e)),
  });
  again.start();
  t.teardown(() => again.stop());
  t.same(again.limitsInForce(), [{ kind: 'user', name: 'physics/alice', limits: { maxJobs: 2, grpNodes: 6 } }, { kind: 'account', name: 'chem', limits: { grpJobs: 3 } }], 'the changes outlive a restart, over the configuration');
  t.same(again.modifyLimits({ kind: 'user', name: 'alice' }, { maxJobs: null, grpNodes: null }), {}, 'null (sacctmgr -1) clears');
});

t.test('preemption: a high QOS job takes the nodes of the lowest, latest low one, which is told, requeued and runs again', async (t) => {
  const policy = {
    weights: { qos: 1000 },
    qos: [{ name: 'low', preemptMode: 'requeue', graceSeconds: 5 }, { name: 'high', priority: 10, preempt: ['low'] }],
    defaultQos: 'low',
  };
  const twoNodes = { cluster: { nodes: [{ names: 'n[1-2]', cpus: 2, memory: '4G' }], partitions: [{ name: 'batch', nodes: 'n[1-2]', default: true }] } };
  const d = await startDaemon(t, { ...twoNodes, policy });
  const go = `${d.dataDir}/go`;
  // a training job that checkpoints on SIGTERM, then ends
  const low = sh(`trap 'echo "checkpoint at SIGTERM, run \${SLURM_RESTART_COUNT:-0}"; exit 0' TERM\necho "run \${SLURM_RESTART_COUNT:-0}"\n${untilFileExists(go)} &\nwait`);
  const first = await submit(d, { cpus_per_task: 2, script: low });
  await d.waitForState(first, ['RUNNING']);
  const second = await submit(d, { cpus_per_task: 2, script: low });
  await d.waitForState(second, ['RUNNING']);
  const high = await submit(d, { qos: 'high', cpus_per_task: 2, script: sh('echo high ran') });
  await d.waitForState(high, ['COMPLETED'], 60_000);
  const victim = (await d.api('GET', `/api/v1/jobs/${second}`)).body;
  const events = d.daemon.store.events(second).map((e) => e.reason);
  t.ok(events.some((r) => /^Preempted by job \d+ \(PreemptMode=REQUEUE, GraceTime=5s\)$/.test(r)), `the latest low job was preempted: ${events.join(' | ')}`);
  t.equal(victim.restart_cnt, 1, 'requeued once');
  const log = (await d.cli('logs', String(second))).stdout;
  t.match(log, /checkpoint at SIGTERM, run 0/, `its master got SIGTERM first and could checkpoint: ${log}`);
  t.notOk(d.daemon.store.events(first).some((e) => /Preempted/.test(e.reason)), 'the earlier low job was left alone');
  t.ok(d.daemon.store.events(high).some((e) => e.reason === `preempting job ${second} for its nodes`));
  await d.waitForState(second, ['RUNNING'], 60_000);
  fs.writeFileSync(go, '');
  for (const id of [first, second]) await d.waitForState(id, ['COMPLETED'], 60_000);
  t.match((await d.cli('logs', '--source', 'stdout', String(second))).stdout, /run 0\n.*\nrun 1\n/s, 'it ran again, appending, with SLURM_RESTART_COUNT=1');
});
