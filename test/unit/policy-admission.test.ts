/**
 * One admission pass (src/policy/admission.ts): limited users are skipped without blocking the
 * others, a job waiting for resources blocks its pool with Resources/Priority, the look-ahead
 * and the depth bound the pass, the queue is read lazily, and a pass over 100,000 pending jobs
 * of 1,000 users is fast (timed with t.comment, never asserted).
 */
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import t from 'tap';
import { admissionPass, ResourcePools, type AdmissionOptions, type CapacityModel } from '../../src/policy/admission.js';
import { AccountTree } from '../../src/policy/account-tree.js';
import { fairShareTable, UsageLedger } from '../../src/policy/fair-share.js';
import { checkRun, type LimitContext } from '../../src/policy/limits.js';
import type { AssocLimits, PolicyJob, QosDefinition, QosLimits, Resources } from '../../src/policy/policy-types.js';
import { compareQueueOrder, priorityCalculator } from '../../src/policy/priority.js';
import { UsageTracker } from '../../src/policy/usage-tracker.js';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const HOUR = 3_600_000;
const PLENTY: Resources = { nodes: 1_000_000, cpus: 1_000_000, gpus: 1_000_000 };
const OPTIONS: AdmissionOptions = { depth: 100, scanLimit: 10_000, lookAhead: 0, waitingInBackend: 0 };

interface World {
  tree: AccountTree;
  tracker: UsageTracker;
  limits: LimitContext;
}

function world(limits: { users?: Record<string, AssocLimits>; qos?: QosLimits } = {}): World {
  const tree = new AccountTree({
    accounts: [{ name: 'lab', shares: 1 }],
    users: Object.entries(limits.users ?? {}).map(([name, l]) => ({ name, account: 'lab', shares: 1, limits: l })),
    defaultAccount: 'lab',
    defaultShares: 1,
  });
  const qos: QosDefinition = { name: 'normal', priority: 0, limits: limits.qos ?? {}, preempt: [], preemptMode: 'requeue', graceSeconds: 0, denyOnLimit: false };
  return { tree, tracker: new UsageTracker(tree), limits: { tree, qos: new Map([['normal', qos]]) } };
}

let nextId = 1;
function job(user: string, over: Partial<PolicyJob> = {}): PolicyJob {
  const id = nextId++;
  return { id, user, partition: 'batch', qos: 'normal', nice: 0, submitTime: T0 + id, eligibleTime: T0 + id, nodes: 1, cpus: 1, gpus: 0, timeLimitMinutes: 60, ...over };
}

function pass(w: World, pending: Iterable<PolicyJob>, capacity: CapacityModel, options: Partial<AdmissionOptions> = {}) {
  return admissionPass({ pending, usage: w.tracker, scopes: w.tracker.scopes, limits: w.limits, capacity, options: { ...OPTIONS, ...options } });
}

function submitAll(w: World, jobs: PolicyJob[]): PolicyJob[] {
  for (const j of jobs) w.tracker.submitted(j);
  return jobs;
}

const reasons = (r: { waiting: Array<{ jobId: number; reason: string }> }): Record<number, string> => Object.fromEntries(r.waiting.map((x) => [x.jobId, x.reason]));

t.test('a user at a limit is skipped, and the users behind are still admitted', async (t) => {
  const w = world({ users: { alice: { maxJobs: 1 } } });
  const [a1, a2, a3, b1, b2] = submitAll(w, [job('alice'), job('alice'), job('alice'), job('bob'), job('bob')]);
  const r = pass(w, [a1!, a2!, a3!, b1!, b2!], new ResourcePools(PLENTY));
  t.same(r.admit.map((j) => j.id), [a1!.id, b1!.id, b2!.id]);
  t.same(reasons(r), { [a2!.id]: 'AssocMaxJobsLimit', [a3!.id]: 'AssocMaxJobsLimit' });
  t.equal(r.stoppedBy, 'end');
  t.same(w.tracker.assoc('lab/alice'), { jobs: 0, submitted: 3, nodes: 0, cpus: 0, gpus: 0 }, 'the caller’s tracker is left as it was');
});

t.test('the jobs admitted in a pass count toward the limits of the jobs after them', async (t) => {
  const w = world({ qos: { maxJobsPerUser: 2, grpNodes: 5 } });
  w.tracker.started(job('carol', { nodes: 1 }));
  const jobs = submitAll(w, [job('alice', { nodes: 2 }), job('alice'), job('alice'), job('bob', { nodes: 2 }), job('bob')]);
  const r = pass(w, jobs, new ResourcePools(PLENTY));
  // alice: 2 of her 3 jobs; then carol's 1 + alice's 3 nodes leave room for 1 node: bob's
  // 2-node job waits on the QOS limit, his 1-node job behind it is still admitted
  t.same(r.admit.map((j) => j.id), [jobs[0]!.id, jobs[1]!.id, jobs[4]!.id]);
  t.same(reasons(r), { [jobs[2]!.id]: 'QOSMaxJobsPerUserLimit', [jobs[3]!.id]: 'QOSGrpNodeLimit' });
});

t.test('the first job that does not fit waits for Resources; the ones behind in its pool for Priority', async (t) => {
  const w = world();
  const jobs = submitAll(w, [job('a', { nodes: 2 }), job('b', { nodes: 4 }), job('c', { nodes: 1 }), job('d', { nodes: 1 })]);
  const pools = new ResourcePools({ nodes: 4, cpus: 100, gpus: 0 }, new Map([['batch', { nodes: 4, cpus: 100, gpus: 0 }], ['debug', { nodes: 2, cpus: 100, gpus: 0 }]]));
  const debug = job('e', { partition: 'debug' });
  const r = pass(w, [...jobs, debug], pools);
  t.same(r.admit.map((j) => j.id), [jobs[0]!.id, debug.id], 'a job of another partition is still admitted');
  t.same(reasons(r), { [jobs[1]!.id]: 'Resources', [jobs[2]!.id]: 'Priority', [jobs[3]!.id]: 'Priority' }, 'job c fits but must not pass b');
  t.same(pools.free('debug'), { nodes: 1, cpus: 99, gpus: 0 });
});

t.test('with every pool blocked the pass stops: what is behind keeps its reason and is not read', async (t) => {
  const w = world();
  const jobs = submitAll(w, [job('a', { nodes: 4 }), job('b', { nodes: 8 }), job('c')]);
  const r = pass(w, jobs, new ResourcePools({ nodes: 4, cpus: 100, gpus: 0 }));
  t.same(r.admit.map((j) => j.id), [jobs[0]!.id]);
  t.same(reasons(r), { [jobs[1]!.id]: 'Resources' });
  t.equal(r.stoppedBy, 'exhausted');
  t.equal(r.scanned, 2);
});

t.test('a blocked head costs O(depth), not O(queue): the queue is read lazily', async (t) => {
  const w = world();
  let pulled = 0;
  function* huge(): Generator<PolicyJob> {
    for (let i = 0; i < 1_000_000; i++) {
      pulled++;
      yield job(`u${i % 1000}`, { nodes: 2 });
    }
  }
  const r = pass(w, huge(), new ResourcePools({ nodes: 1, cpus: 100, gpus: 0 }), { lookAhead: 5 });
  t.equal(r.admit.length, 5, 'the look-ahead');
  t.equal(r.stoppedBy, 'exhausted');
  t.equal(pulled, 6);
});

t.test('the look-ahead admits jobs that do not fit yet, minus those already waiting in the backend', async (t) => {
  const w = world();
  const jobs = submitAll(w, [job('a', { nodes: 4 }), job('b', { nodes: 4 }), job('c', { nodes: 4 })]);
  const free = (): ResourcePools => new ResourcePools({ nodes: 2, cpus: 100, gpus: 0 });
  t.same(pass(w, jobs, free(), { lookAhead: 2 }).admit.map((j) => j.id), [jobs[0]!.id, jobs[1]!.id]);
  const r = pass(w, jobs, free(), { lookAhead: 2, waitingInBackend: 1 });
  t.same(r.admit.map((j) => j.id), [jobs[0]!.id]);
  t.same(reasons(r), { [jobs[1]!.id]: 'Resources' });
  t.same(pass(w, jobs, free(), { lookAhead: 2, waitingInBackend: 5 }).admit, [], 'a backend holding more than the look-ahead gets nothing');
});

t.test('jobs that fit are admitted past the look-ahead ones; the look-ahead does not take capacity', async (t) => {
  const w = world();
  const jobs = submitAll(w, [job('a', { nodes: 8 }), job('b', { nodes: 2 }), job('c', { nodes: 2 })]);
  const pools = new ResourcePools({ nodes: 2, cpus: 100, gpus: 0 });
  const r = pass(w, jobs, pools, { lookAhead: 1 });
  t.same(r.admit.map((j) => j.id), [jobs[0]!.id, jobs[1]!.id], 'the backend backfills b around a');
  t.same(reasons(r), { [jobs[2]!.id]: 'Resources' });
});

t.test('at most `depth` jobs are tested against the resources', async (t) => {
  const w = world();
  const jobs = submitAll(w, Array.from({ length: 10 }, (_, i) => job(`u${i}`)));
  const r = pass(w, jobs, new ResourcePools(PLENTY), { depth: 3 });
  t.equal(r.admit.length, 3);
  t.equal(r.stoppedBy, 'depth');
  t.equal(r.scanned, 3);
  t.same(r.waiting, []);
});

t.test('jobs skipped for a limit do not use the depth, but count toward the scan limit', async (t) => {
  const w = world({ users: { alice: { maxJobs: 0 } } });
  const jobs = submitAll(w, [...Array.from({ length: 50 }, () => job('alice')), job('bob'), job('bob')]);
  const r = pass(w, jobs, new ResourcePools(PLENTY), { depth: 2 });
  t.same(r.admit.map((j) => j.user), ['bob', 'bob'], '50 of alice’s jobs ahead do not hold bob back');
  const capped = pass(w, jobs, new ResourcePools(PLENTY), { depth: 2, scanLimit: 20 });
  t.equal(capped.stoppedBy, 'scanLimit');
  t.equal(capped.scanned, 20);
  t.equal(capped.admit.length, 0);
});

t.test('an admission pass never breaks a limit or overfills the capacity (property)', async () => {
  const arb = fc.record({
    jobs: fc.array(fc.record({ user: fc.constantFrom('a', 'b', 'c', 'd'), nodes: fc.integer({ min: 1, max: 4 }), gpus: fc.nat(2) }), { maxLength: 40 }),
    free: fc.integer({ min: 0, max: 12 }),
    maxJobs: fc.integer({ min: 0, max: 4 }),
    grpNodes: fc.integer({ min: 0, max: 10 }),
    lookAhead: fc.nat(3),
    depth: fc.integer({ min: 1, max: 50 }),
  });
  fc.assert(
    fc.property(arb, (x) => {
      const w = world({ users: { a: { maxJobs: x.maxJobs } }, qos: { grpNodes: x.grpNodes } });
      const jobs = submitAll(w, x.jobs.map((j) => job(j.user, { nodes: j.nodes, cpus: j.nodes, gpus: j.gpus })));
      const r = pass(w, jobs, new ResourcePools({ nodes: x.free, cpus: 1000, gpus: 1000 }), { lookAhead: x.lookAhead, depth: x.depth });
      // replay: each admitted job, in order, passed its limits given the ones admitted before it
      for (const j of r.admit) {
        if (checkRun(j, w.tracker, w.limits) !== null) return false;
        w.tracker.started(j);
      }
      const fitting = r.admit.reduce((s, j) => s + j.nodes, 0);
      const decided = new Set([...r.admit.map((j) => j.id), ...r.waiting.map((x) => x.jobId)]);
      return fitting <= x.free + 4 * x.lookAhead && r.admit.length <= x.depth && decided.size === r.admit.length + r.waiting.length;
    }),
    { numRuns: 300 },
  );
});

t.test('one admission pass over 100,000 pending jobs of 1,000 users', async (t) => {
  const users = Array.from({ length: 1000 }, (_, i) => `user${String(i).padStart(4, '0')}`);
  const tree = new AccountTree({
    accounts: Array.from({ length: 10 }, (_, i) => ({ name: `acct${i}`, shares: 1 + i })),
    users: users.map((name, i) => ({ name, account: `acct${i % 10}`, shares: 1 })),
    defaultAccount: 'acct0',
    defaultShares: 1,
  });
  const qos: QosDefinition = { name: 'normal', priority: 10, limits: { maxJobsPerUser: 4 }, preempt: [], preemptMode: 'requeue', graceSeconds: 0, denyOnLimit: false };
  const limits: LimitContext = { tree, qos: new Map([['normal', qos]]) };
  const now = T0 + 48 * HOUR;
  const ledger = new UsageLedger(7 * 24 * HOUR);
  users.forEach((u, i) => ledger.charge(tree.association(u).key, (i % 37) * 3600 * 16, T0));
  const jobs = Array.from({ length: 100_000 }, (_, i) => ({ ...job(users[i % 1000]!, { submitTime: T0 + i * 1000, eligibleTime: T0 + i * 1000, nodes: 1 + (i % 4), cpus: 4 * (1 + (i % 4)) }) }));
  const tracker = new UsageTracker(tree);

  let start = performance.now();
  for (const j of jobs) tracker.submitted(j);
  const trackMs = performance.now() - start;

  start = performance.now();
  const table = fairShareTable(tree, ledger, now);
  const settings = { weights: { age: 1000, fairshare: 10_000, jobSize: 500, partition: 0, qos: 100 }, maxAgeMs: 7 * 24 * HOUR, favorSmall: false, partitionFactors: new Map(), qosPriorities: new Map([['normal', 10]]) };
  const calc = priorityCalculator(settings, { nodes: 64, cpus: 256 }, (j) => table.factor(tree.association(j.user, j.account).key));
  const ordered = jobs.map((j) => ({ job: j, id: j.id, submitTime: j.submitTime, priority: calc(j, now).priority })).sort(compareQueueOrder);
  const priorityMs = performance.now() - start;

  const queue = function* (): Generator<PolicyJob> {
    for (const o of ordered) yield o.job;
  };
  start = performance.now();
  const usual = admissionPass({ pending: queue(), usage: tracker, scopes: tracker.scopes, limits, capacity: new ResourcePools({ nodes: 64, cpus: 256, gpus: 0 }), options: { depth: 100, scanLimit: 10_000, lookAhead: 16, waitingInBackend: 0 } });
  const usualMs = performance.now() - start;

  // the worst case: nothing bounds the pass but the queue; every job is read and decided
  start = performance.now();
  const whole = admissionPass({ pending: queue(), usage: tracker, scopes: tracker.scopes, limits, capacity: new ResourcePools(PLENTY), options: { depth: 100_000, scanLimit: 100_000, lookAhead: 0, waitingInBackend: 0 } });
  const wholeMs = performance.now() - start;

  t.ok(usual.admit.length > 0 && usual.admit.length <= 100);
  t.equal(whole.scanned, 100_000);
  t.equal(whole.admit.length, 4000, 'MaxJobsPerUser=4 for each of the 1,000 users');
  t.equal(whole.waiting.length, 96_000);
  t.comment(`100,000 pending jobs, 1,000 users: tracker ${trackMs.toFixed(1)} ms; fair share + priority + sort ${priorityMs.toFixed(1)} ms`);
  t.comment(`admission pass (depth 100, look-ahead 16, 64 nodes): ${usualMs.toFixed(2)} ms, ${usual.scanned} read, ${usual.admit.length} admitted, stopped by ${usual.stoppedBy}`);
  t.comment(`admission pass over the whole queue (no bound, no capacity limit): ${wholeMs.toFixed(1)} ms, ${whole.admit.length} admitted`);
});
