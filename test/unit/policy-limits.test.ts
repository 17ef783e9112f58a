/**
 * Limits and quotas (src/policy/limits.ts, src/policy/usage-tracker.ts): every running limit
 * holds with SLURM's exact reason and releases when the usage drops, QOS limits take precedence
 * over association limits, submit limits refuse with a message naming the limit, and the usage
 * tracker's counters stay exact under any sequence of changes.
 */
import fc from 'fast-check';
import t from 'tap';
import { AccountTree } from '../../src/policy/account-tree.js';
import { ACCOUNTING_POLICY_MESSAGE, checkRun, checkSubmit, findRunLimit, formatMinutes, wallLimitFor, type LimitContext, type LimitReason } from '../../src/policy/limits.js';
import type { AssocLimits, PolicyJob, QosDefinition, QosLimits } from '../../src/policy/policy-types.js';
import { NO_USAGE, UsageOverlay, UsageTracker, type Counters } from '../../src/policy/usage-tracker.js';

const T0 = Date.parse('2026-12-01T00:00:00Z');

interface Fixture {
  tree: AccountTree;
  ctx: LimitContext;
  tracker: UsageTracker;
  qos: QosDefinition;
}

/** root → physics → theory (alice, bob); root → chem (carol); QOS normal. */
function fixture(limits: { qos?: QosLimits; denyOnLimit?: boolean; accounts?: Record<string, AssocLimits>; users?: Record<string, AssocLimits> } = {}): Fixture {
  const acc = limits.accounts ?? {};
  const usr = limits.users ?? {};
  const tree = new AccountTree({
    accounts: [
      { name: 'physics', shares: 1, limits: acc.physics ?? {} },
      { name: 'theory', parent: 'physics', shares: 1, limits: acc.theory ?? {} },
      { name: 'chem', shares: 1, limits: acc.chem ?? {} },
    ],
    users: [
      { name: 'alice', account: 'theory', shares: 1, limits: usr.alice ?? {} },
      { name: 'bob', account: 'theory', shares: 1, limits: usr.bob ?? {} },
      { name: 'carol', account: 'chem', shares: 1, limits: usr.carol ?? {} },
    ],
    defaultAccount: 'chem',
    defaultShares: 1,
  });
  const qos: QosDefinition = { name: 'normal', priority: 0, limits: limits.qos ?? {}, preempt: [], preemptMode: 'requeue', graceSeconds: 0, denyOnLimit: limits.denyOnLimit ?? false };
  return { tree, ctx: { tree, qos: new Map([['normal', qos]]) }, tracker: new UsageTracker(tree), qos };
}

let nextId = 1;
function job(user: string, over: Partial<PolicyJob> = {}): PolicyJob {
  const id = nextId++;
  return { id, user, partition: 'batch', qos: 'normal', nice: 0, submitTime: T0 + id, eligibleTime: T0 + id, nodes: 1, cpus: 1, gpus: 0, timeLimitMinutes: 60, ...over };
}

interface Case {
  reason: LimitReason;
  limits: Parameters<typeof fixture>[0];
  /** jobs running before the check */
  running: Array<[string, Partial<PolicyJob>?]>;
  /** the job checked */
  candidate: [string, Partial<PolicyJob>?];
  /** a job of another user or account the limit does not hold back, if any */
  unaffected?: [string, Partial<PolicyJob>?];
}

const CASES: Case[] = [
  { reason: 'QOSGrpJobsLimit', limits: { qos: { grpJobs: 2 } }, running: [['alice'], ['carol']], candidate: ['bob'] },
  { reason: 'QOSMaxJobsPerUserLimit', limits: { qos: { maxJobsPerUser: 2 } }, running: [['alice'], ['alice']], candidate: ['alice'], unaffected: ['bob'] },
  { reason: 'QOSGrpNodeLimit', limits: { qos: { grpNodes: 4 } }, running: [['alice', { nodes: 3 }]], candidate: ['bob', { nodes: 2 }], unaffected: ['carol', { nodes: 1 }] },
  { reason: 'QOSGrpCpuLimit', limits: { qos: { grpCpus: 8 } }, running: [['alice', { cpus: 6 }]], candidate: ['carol', { cpus: 4 }], unaffected: ['bob', { cpus: 2 }] },
  { reason: 'QOSGrpGRES', limits: { qos: { grpGpus: 4 } }, running: [['alice', { gpus: 4 }]], candidate: ['bob', { gpus: 1 }], unaffected: ['bob', { gpus: 0 }] },
  { reason: 'QOSMaxNodePerUserLimit', limits: { qos: { maxNodesPerUser: 2 } }, running: [['alice', { nodes: 2 }]], candidate: ['alice'], unaffected: ['bob', { nodes: 2 }] },
  { reason: 'QOSMaxCpuPerUserLimit', limits: { qos: { maxCpusPerUser: 4 } }, running: [['alice', { cpus: 3 }]], candidate: ['alice', { cpus: 2 }], unaffected: ['bob', { cpus: 4 }] },
  { reason: 'QOSMaxGRESPerUser', limits: { qos: { maxGpusPerUser: 1 } }, running: [['alice', { gpus: 1 }]], candidate: ['alice', { gpus: 1 }], unaffected: ['bob', { gpus: 1 }] },
  { reason: 'AssocGrpJobsLimit', limits: { accounts: { physics: { grpJobs: 2 } } }, running: [['alice'], ['bob']], candidate: ['alice'], unaffected: ['carol'] },
  { reason: 'AssocMaxJobsLimit', limits: { users: { alice: { maxJobs: 1 } } }, running: [['alice']], candidate: ['alice'], unaffected: ['bob'] },
  { reason: 'AssocMaxJobsLimit', limits: { accounts: { physics: { maxJobs: 1 } } }, running: [['alice']], candidate: ['alice'], unaffected: ['bob'] },
  { reason: 'AssocGrpNodeLimit', limits: { accounts: { theory: { grpNodes: 3 } } }, running: [['alice', { nodes: 2 }]], candidate: ['bob', { nodes: 2 }], unaffected: ['carol', { nodes: 2 }] },
  { reason: 'AssocGrpCpuLimit', limits: { users: { alice: { grpCpus: 4 } } }, running: [['alice', { cpus: 4 }]], candidate: ['alice'], unaffected: ['bob', { cpus: 4 }] },
  { reason: 'AssocGrpGRES', limits: { accounts: { physics: { grpGpus: 2 } } }, running: [['bob', { gpus: 2 }]], candidate: ['alice', { gpus: 1 }], unaffected: ['carol', { gpus: 2 }] },
];

for (const c of CASES) {
  const where = JSON.stringify(c.limits);
  t.test(`${c.reason} (${where}) holds with its reason and releases when usage drops`, async (t) => {
    const f = fixture(c.limits);
    const running = c.running.map(([user, over]) => job(user, over));
    for (const r of running) f.tracker.started(r);
    const candidate = job(...c.candidate);
    t.equal(checkRun(candidate, f.tracker, f.ctx), c.reason);
    if (c.unaffected) t.equal(checkRun(job(...c.unaffected), f.tracker, f.ctx), null, 'others are not held back');
    f.tracker.ended(running[running.length - 1]!.id);
    t.equal(checkRun(candidate, f.tracker, f.ctx), null, 'released once a job ends');
  });
}

t.test('a limit found reports its name, value, use and scope', async (t) => {
  const f = fixture({ accounts: { theory: { grpNodes: 3 } } });
  f.tracker.started(job('alice', { nodes: 2 }));
  t.same(findRunLimit(job('bob', { nodes: 2 }), f.tracker, f.ctx), { reason: 'AssocGrpNodeLimit', limitName: 'GrpTRES=node', limit: 3, used: 2, asked: 2, scope: 'account theory' });
});

t.test('QOSMaxWallDurationPerJobLimit: a job longer than MaxWall waits until the limit is raised', async (t) => {
  const f = fixture({ qos: { maxWallMinutes: 60 } });
  const long = job('alice', { timeLimitMinutes: 120 });
  t.equal(checkRun(long, f.tracker, f.ctx), 'QOSMaxWallDurationPerJobLimit');
  t.equal(checkRun(job('alice', { timeLimitMinutes: null }), f.tracker, f.ctx), 'QOSMaxWallDurationPerJobLimit', 'UNLIMITED is over any limit');
  t.equal(checkRun(job('alice', { timeLimitMinutes: 60 }), f.tracker, f.ctx), null, 'exactly the limit is allowed');
  f.qos.limits = { maxWallMinutes: 180 }; // limits change at run time
  t.equal(checkRun(long, f.tracker, f.ctx), null);
});

t.test("AssocMaxWallDurationPerJobLimit: an account's MaxWallDurationPerJob holds for the users below it", async (t) => {
  const f = fixture({ accounts: { physics: { maxWallMinutes: 60 } } });
  const long = job('alice', { timeLimitMinutes: 120 });
  t.equal(checkRun(long, f.tracker, f.ctx), 'AssocMaxWallDurationPerJobLimit');
  t.equal(checkRun(job('carol', { timeLimitMinutes: 120 }), f.tracker, f.ctx), null, 'another account is not held');
  f.tree.setUserLimits('alice', 'theory', { maxWallMinutes: 240 });
  t.equal(checkRun(long, f.tracker, f.ctx), null, "the user's own limit wins over the account's");
  f.tree.setAccountLimits('physics', {});
  f.tree.setUserLimits('alice', 'theory', {});
  t.equal(checkRun(long, f.tracker, f.ctx), null);
});

t.test("a QOS limit takes precedence over the association's limit of the same kind", async (t) => {
  const f = fixture({ qos: { maxJobsPerUser: 3, grpNodes: 10, maxWallMinutes: 180 }, users: { alice: { maxJobs: 1 } }, accounts: { theory: { grpNodes: 2, maxWallMinutes: 60 } } });
  f.tracker.started(job('alice'));
  t.equal(checkRun(job('alice'), f.tracker, f.ctx), null, 'QOS MaxJobsPerUser=3 replaces MaxJobs=1');
  t.equal(checkRun(job('bob', { nodes: 4 }), f.tracker, f.ctx), null, 'QOS GrpTRES=node=10 replaces the account’s node=2');
  t.equal(checkRun(job('alice', { timeLimitMinutes: 120 }), f.tracker, f.ctx), null, 'QOS MaxWall replaces MaxWallDurationPerJob');
  f.tracker.started(job('alice'));
  f.tracker.started(job('alice'));
  t.equal(checkRun(job('alice'), f.tracker, f.ctx), 'QOSMaxJobsPerUserLimit');
  const noQos = job('alice', { qos: undefined });
  t.equal(checkRun(noQos, f.tracker, f.ctx), 'AssocMaxJobsLimit', 'a job without the QOS meets the association limit');
});

t.test('the QOS job-count limits are checked before the association and TRES limits (SLURM order)', async (t) => {
  const f = fixture({ qos: { maxJobsPerUser: 1 }, accounts: { theory: { grpNodes: 1 } } });
  f.tracker.started(job('alice'));
  t.equal(checkRun(job('alice', { nodes: 4 }), f.tracker, f.ctx), 'QOSMaxJobsPerUserLimit');
});

t.test('submit limits refuse with a message naming the limit, and accept once jobs end', async (t) => {
  const cases: Array<{ limits: Parameters<typeof fixture>[0]; user: string; submitted: string[]; reason: string; message: RegExp }> = [
    { limits: { qos: { maxSubmitJobsPerUser: 2 } }, user: 'alice', submitted: ['alice', 'alice'], reason: 'QOSMaxSubmitJobPerUserLimit', message: /MaxSubmitJobsPerUser=2 of QOS normal \(2 submitted, this job would make 3\)/ },
    { limits: { qos: { grpSubmitJobs: 2 } }, user: 'carol', submitted: ['alice', 'bob'], reason: 'QOSGrpSubmitJobsLimit', message: /GrpSubmitJobs=2 of QOS normal/ },
    { limits: { users: { alice: { maxSubmitJobs: 1 } } }, user: 'alice', submitted: ['alice'], reason: 'AssocMaxSubmitJobLimit', message: /MaxSubmitJobs=1 of user alice \(account theory\)/ },
    { limits: { accounts: { physics: { maxSubmitJobs: 1 } } }, user: 'bob', submitted: ['bob'], reason: 'AssocMaxSubmitJobLimit', message: /MaxSubmitJobs=1 of user bob \(account theory\), set on account physics \(1 submitted/ },
    { limits: { accounts: { physics: { grpSubmitJobs: 2 } } }, user: 'bob', submitted: ['alice', 'alice'], reason: 'AssocGrpSubmitJobsLimit', message: /GrpSubmitJobs=2 of account physics/ },
  ];
  for (const c of cases) {
    const f = fixture(c.limits);
    const jobs = c.submitted.map((u) => job(u));
    for (const j of jobs) f.tracker.submitted(j);
    const refusal = checkSubmit(job(c.user), f.tracker, f.ctx);
    t.equal(refusal?.reason, c.reason, c.reason);
    t.equal(refusal?.code, 'E_POLICY_LIMIT');
    t.ok(refusal?.message.startsWith(`${ACCOUNTING_POLICY_MESSAGE}: `), 'sbatch’s words first');
    t.match(refusal?.message, c.message);
    f.tracker.ended(jobs[0]!.id);
    t.equal(checkSubmit(job(c.user), f.tracker, f.ctx), null, `${c.reason} accepts once a job ends`);
  }
});

t.test('pending jobs count toward submit limits, not toward running limits', async (t) => {
  const f = fixture({ qos: { maxSubmitJobsPerUser: 2, maxJobsPerUser: 1 } });
  f.tracker.submitted(job('alice'));
  t.equal(checkRun(job('alice'), f.tracker, f.ctx), null);
  t.equal(f.tracker.qosUser('normal', 'alice').submitted, 1);
  t.equal(f.tracker.qosUser('normal', 'alice').jobs, 0);
});

t.test('an array counts all its tasks against a submit limit', async (t) => {
  const f = fixture({ users: { alice: { maxSubmitJobs: 5 } } });
  f.tracker.submitted(job('alice'));
  f.tracker.submitted(job('alice'));
  t.match(checkSubmit(job('alice'), f.tracker, f.ctx, 4)?.message, /MaxSubmitJobs=5 of user alice \(account theory\) \(2 submitted, these 4 jobs would make 6\)/);
  t.equal(checkSubmit(job('alice'), f.tracker, f.ctx, 3), null);
});

t.test('wall time: refused at submit without a QOS (strict), waits with a QOS, refused with DenyOnLimit', async (t) => {
  const strict = fixture({ accounts: { physics: { maxWallMinutes: 60 } } });
  const noQos = job('alice', { qos: undefined, timeLimitMinutes: 120 });
  t.match(checkSubmit(noQos, strict.tracker, strict.ctx)?.message, /MaxWallDurationPerJob=01:00:00 of account physics \(the job asks 02:00:00\)/);
  t.match(checkSubmit(job('alice', { qos: undefined, timeLimitMinutes: null }), strict.tracker, strict.ctx)?.message, /the job asks UNLIMITED/);
  const lenient = job('alice', { timeLimitMinutes: 120 });
  t.equal(checkSubmit(lenient, strict.tracker, strict.ctx), null, 'a QOS without DenyOnLimit: accepted ...');
  t.equal(checkRun(lenient, strict.tracker, strict.ctx), 'AssocMaxWallDurationPerJobLimit', '... and waits with the reason');
  const deny = fixture({ qos: { maxWallMinutes: 1440 }, denyOnLimit: true });
  const refusal = checkSubmit(job('alice', { timeLimitMinutes: 2 * 1440 }), deny.tracker, deny.ctx);
  t.equal(refusal?.reason, 'QOSMaxWallDurationPerJobLimit');
  t.match(refusal?.message, /MaxWall=1-00:00:00 of QOS normal \(the job asks 2-00:00:00\)/);
});

t.test('size: a job larger alone than a Grp limit is refused when strict, never for what others use', async (t) => {
  const f = fixture({ accounts: { theory: { grpNodes: 4 } } });
  t.match(checkSubmit(job('alice', { qos: undefined, nodes: 8 }), f.tracker, f.ctx)?.message, /GrpTRES=node=4 of account theory \(the job alone asks 8\)/);
  f.tracker.started(job('bob', { nodes: 4 }));
  t.equal(checkSubmit(job('alice', { qos: undefined, nodes: 2 }), f.tracker, f.ctx), null, 'the account is full, but the job fits alone: it waits');
  t.equal(checkRun(job('alice', { qos: undefined, nodes: 2 }), f.tracker, f.ctx), 'AssocGrpNodeLimit');
  t.equal(checkSubmit(job('alice', { nodes: 8 }), f.tracker, f.ctx), null, 'with a QOS (no DenyOnLimit) it is accepted and waits');
});

t.test('wallLimitFor: the limit a job without --time gets, QOS first', async (t) => {
  t.equal(wallLimitFor({ user: 'alice', qos: 'normal' }, fixture({ qos: { maxWallMinutes: 30 }, accounts: { physics: { maxWallMinutes: 60 } } }).ctx), 30);
  t.equal(wallLimitFor({ user: 'alice', qos: 'normal' }, fixture({ accounts: { physics: { maxWallMinutes: 60 } } }).ctx), 60);
  t.equal(wallLimitFor({ user: 'carol' }, fixture({ accounts: { physics: { maxWallMinutes: 60 } } }).ctx), null);
});

t.test('formatMinutes spells SLURM time', async (t) => {
  t.equal(formatMinutes(59), '00:59:00');
  t.equal(formatMinutes(1440 + 61), '1-01:01:00');
});

t.test('the tracker counts each scope: user association, every account above it, QOS, QOS user', async (t) => {
  const f = fixture();
  const j = job('alice', { nodes: 2, cpus: 8, gpus: 1 });
  f.tracker.submitted(j);
  const pending = { jobs: 0, submitted: 1, nodes: 0, cpus: 0, gpus: 0 };
  for (const key of ['theory/alice', 'theory', 'physics']) t.same(f.tracker.assoc(key), pending, key);
  f.tracker.started(j);
  const running = { jobs: 1, submitted: 1, nodes: 2, cpus: 8, gpus: 1 };
  for (const key of ['theory/alice', 'theory', 'physics']) t.same(f.tracker.assoc(key), running, key);
  t.same(f.tracker.qos('normal'), running);
  t.same(f.tracker.qosUser('normal', 'alice'), running);
  t.same(f.tracker.assoc('chem'), NO_USAGE);
  f.tracker.requeued(j.id);
  t.same(f.tracker.assoc('physics'), pending, 'requeued: pending again');
  f.tracker.started(j);
  f.tracker.started(j);
  t.same(f.tracker.assoc('physics'), running, 'a repeated call changes nothing');
  f.tracker.ended(j.id);
  f.tracker.ended(j.id);
  t.same(f.tracker.assoc('physics'), NO_USAGE);
  t.equal(f.tracker.size(), 0);
});

t.test("the tracker's counters equal a recount after any sequence of changes (property)", async () => {
  const users = ['alice', 'bob', 'carol', 'dave'];
  const op = fc.record({ kind: fc.constantFrom('submit', 'start', 'requeue', 'end'), id: fc.integer({ min: 1, max: 12 }), user: fc.constantFrom(...users), nodes: fc.integer({ min: 1, max: 4 }), gpus: fc.nat(2), qos: fc.constantFrom('normal', undefined) });
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const f = fixture();
      const model = new Map<number, { job: PolicyJob; running: boolean }>();
      for (const o of ops) {
        const known = model.get(o.id);
        const j = known?.job ?? { ...job(o.user, { nodes: o.nodes, cpus: o.nodes * 2, gpus: o.gpus, qos: o.qos }), id: o.id };
        if (o.kind === 'submit') {
          f.tracker.submitted(j);
          if (!known) model.set(o.id, { job: j, running: false });
        } else if (o.kind === 'start') {
          f.tracker.started(j);
          model.set(o.id, { job: j, running: true });
        } else if (o.kind === 'requeue') {
          f.tracker.requeued(o.id);
          if (known) known.running = false;
        } else {
          f.tracker.ended(o.id);
          model.delete(o.id);
        }
      }
      return sameCounts(f, model);
    }),
  );
});

function sameCounts(f: Fixture, model: Map<number, { job: PolicyJob; running: boolean }>): boolean {
  const expect = (pick: (j: PolicyJob) => boolean): Counters => {
    const c = { jobs: 0, submitted: 0, nodes: 0, cpus: 0, gpus: 0 };
    for (const { job: j, running } of model.values()) {
      if (!pick(j)) continue;
      c.submitted++;
      if (running) {
        c.jobs++;
        c.nodes += j.nodes;
        c.cpus += j.cpus;
        c.gpus += j.gpus;
      }
    }
    return c;
  };
  const eq = (a: Readonly<Counters>, b: Counters): boolean => a.jobs === b.jobs && a.submitted === b.submitted && a.nodes === b.nodes && a.cpus === b.cpus && a.gpus === b.gpus;
  const account = (j: PolicyJob): string => f.tree.association(j.user, j.account).account.name;
  return (
    eq(f.tracker.assoc('physics'), expect((j) => account(j) === 'theory')) &&
    eq(f.tracker.assoc('theory/alice'), expect((j) => j.user === 'alice')) &&
    eq(f.tracker.assoc('chem'), expect((j) => account(j) === 'chem')) &&
    eq(f.tracker.qos('normal'), expect((j) => j.qos === 'normal')) &&
    eq(f.tracker.qosUser('normal', 'bob'), expect((j) => j.qos === 'normal' && j.user === 'bob')) &&
    f.tracker.size() === model.size
  );
}

t.test('an overlay adds a pass’s admitted jobs without touching the tracker', async (t) => {
  const f = fixture({ qos: { maxJobsPerUser: 1 } });
  const a = job('alice');
  f.tracker.submitted(a);
  const overlay = new UsageOverlay(f.tracker, f.tracker.scopes);
  overlay.start(a);
  t.equal(overlay.qosUser('normal', 'alice').jobs, 1);
  t.equal(overlay.assoc('physics').jobs, 1);
  t.equal(checkRun(job('alice'), overlay, f.ctx), 'QOSMaxJobsPerUserLimit');
  t.same(f.tracker.qosUser('normal', 'alice'), { jobs: 0, submitted: 1, nodes: 0, cpus: 0, gpus: 0 }, 'the tracker is unchanged');
  overlay.start(job('bob'), true);
  t.equal(overlay.assoc('theory').submitted, 2, 'a job the tracker does not count yet is counted as submitted too');
});
