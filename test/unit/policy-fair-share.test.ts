/**
 * Fair share (src/policy/fair-share.ts, src/policy/account-tree.ts): decayed usage with a
 * half-life, SLURM's classic normalised shares and effective usage (checked against SchedMD's
 * own worked example), and a heavy user moving behind a light one and coming back.
 */
import fc from 'fast-check';
import t, { type Test } from 'tap';
import { AccountTree, type AccountTreeSpec } from '../../src/policy/account-tree.js';
import { UsageLedger, decay, fairShareTable, runCharge, usageAt } from '../../src/policy/fair-share.js';
import type { PolicyJob } from '../../src/policy/policy-types.js';
import { compareQueueOrder, priorityCalculator } from '../../src/policy/priority.js';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function near(t: Test, actual: number, expected: number, what: string, eps = 1e-6): void {
  t.ok(Math.abs(actual - expected) <= eps, `${what}: ${actual} ≈ ${expected}`);
}

function spec(over: Partial<AccountTreeSpec>): AccountTreeSpec {
  return { accounts: [], users: [], defaultAccount: 'default', defaultShares: 1, ...over };
}

t.test('decay: after one half-life the usage is half, after two a quarter; half-life 0 keeps it', async (t) => {
  t.equal(decay(1000, 7 * DAY, 7 * DAY), 500);
  t.equal(decay(1000, 14 * DAY, 7 * DAY), 250);
  t.equal(decay(1000, 30 * DAY, 0), 1000);
  t.equal(decay(1000, -HOUR, DAY), 1000, 'never grows');
  t.equal(usageAt({ value: 800, asOf: T0 }, T0 + DAY, DAY), 400);
  t.equal(usageAt(undefined, T0, DAY), 0);
});

t.test('the ledger charges CPU-seconds and decays them lazily', async (t) => {
  const ledger = new UsageLedger(DAY);
  ledger.charge('lab/alice', 3600, T0);
  t.equal(ledger.usageOf('lab/alice', T0), 3600);
  t.equal(ledger.usageOf('lab/alice', T0 + DAY), 1800, 'half after one half-life');
  ledger.charge('lab/alice', 1000, T0 + DAY);
  t.equal(ledger.usageOf('lab/alice', T0 + DAY), 2800);
  ledger.charge('lab/alice', 1000, T0);
  t.equal(ledger.usageOf('lab/alice', T0 + DAY), 3300, 'a charge valued earlier is decayed to the entry time');
  t.same(ledger.entries(), [['lab/alice', { value: 3300, asOf: T0 + DAY }]]);
  const again = new UsageLedger(DAY, ledger.entries());
  t.equal(again.usageOf('lab/alice', T0 + 2 * DAY), 1650, 'restored from its entries');
  ledger.charge('lab/bob', 0, T0);
  ledger.charge('lab/bob', Number.NaN, T0);
  t.equal([...ledger.keys()].length, 1, 'empty charges are ignored');
});

t.test('a run is charged CPUs × seconds, each second decayed from when it was used', async (t) => {
  t.equal(runCharge(4, T0, T0 + HOUR, 0), 4 * 3600, 'no decay: CPUs × seconds');
  const h = DAY / 1000;
  near(t, runCharge(1, T0, T0 + DAY, DAY), (h / Math.LN2) * 0.5, 'one CPU for one half-life');
  t.ok(runCharge(1, T0, T0 + HOUR, DAY) < 3600, 'less than undecayed');
  t.equal(runCharge(2, T0 + HOUR, T0, DAY), 0, 'an empty interval charges nothing');
});

t.test('a run far shorter than the half-life is charged without rounding loss', async (t) => {
  // found by the property below: 1 − 2^−x lost digits for tiny x before runCharge used expm1
  const pieces = new UsageLedger(333_524_988);
  pieces.chargeRun('a/u', 15, T0, T0 + 11);
  pieces.chargeRun('a/u', 15, T0 + 11, T0 + 22);
  const whole = new UsageLedger(333_524_988);
  whole.chargeRun('a/u', 15, T0, T0 + 22);
  near(t, pieces.usageOf('a/u', T0 + 22), whole.usageOf('a/u', T0 + 22), 'two 11 ms pieces = one 22 ms run', 1e-12);
  near(t, whole.usageOf('a/u', T0 + 22), 15 * 0.022, 'about CPUs × seconds (a hair less: decayed)', 1e-7);
});

t.test('charging a run in pieces equals charging it at once (property)', async () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 64 }), fc.array(fc.integer({ min: 1, max: 10 * DAY }), { minLength: 1, maxLength: 8 }), fc.integer({ min: HOUR, max: 30 * DAY }), (cpus, steps, halfLife) => {
      const pieces = new UsageLedger(halfLife);
      let at = T0;
      for (const s of steps) {
        pieces.chargeRun('a/u', cpus, at, at + s);
        at += s;
      }
      const whole = new UsageLedger(halfLife);
      whole.chargeRun('a/u', cpus, T0, at);
      const a = pieces.usageOf('a/u', at);
      const b = whole.usageOf('a/u', at);
      return Math.abs(a - b) <= 1e-9 * Math.max(1, b);
    }),
    { numRuns: 1000 },
  );
});

/**
 * SchedMD's classic_fair_share.html example: A (40) → B (30) → user1, C (10) → user2, user3;
 * D (60) → E (25) → user4, F (35) → user5. Usage 0.2, 0.25, 0.25 of the machine for users 1, 2
 * and 4; the remaining 0.3 is charged to a 0-share account Z so that shares are unchanged and
 * the normalised usages are the page's (SLURM normalises by the tree's total usage).
 */
function slurmExample(): { tree: AccountTree; ledger: UsageLedger } {
  const tree = new AccountTree(
    spec({
      accounts: [
        { name: 'A', shares: 40 },
        { name: 'B', parent: 'A', shares: 30 },
        { name: 'C', parent: 'A', shares: 10 },
        { name: 'D', shares: 60 },
        { name: 'E', parent: 'D', shares: 25 },
        { name: 'F', parent: 'D', shares: 35 },
        { name: 'Z', shares: 0 },
      ],
      users: [
        { name: 'user1', account: 'B', shares: 1 },
        { name: 'user2', account: 'C', shares: 1 },
        { name: 'user3', account: 'C', shares: 1 },
        { name: 'user4', account: 'E', shares: 1 },
        { name: 'user5', account: 'F', shares: 1 },
        { name: 'other', account: 'Z', shares: 1 },
      ],
      defaultAccount: 'Z',
    }),
  );
  const ledger = new UsageLedger(0);
  for (const [key, v] of [['B/user1', 200], ['C/user2', 250], ['E/user4', 250], ['Z/other', 300]] as const) ledger.charge(key, v, T0);
  return { tree, ledger };
}

t.test("SLURM's classic example: normalised shares, effective usage and fair-share factors", async (t) => {
  const { tree, ledger } = slurmExample();
  const table = fairShareTable(tree, ledger, T0);
  const expected: Array<[string, number, number, number]> = [
    // key, NormShares, EffectvUsage, FairShare (the page's numbers)
    ['B/user1', 0.3, 0.3875, 0.408479],
    ['C/user2', 0.05, 0.275, 0.022097],
    ['C/user3', 0.05, 0.15, 0.125],
    ['E/user4', 0.25, 0.25, 0.5],
    ['F/user5', 0.35, 0.1458333, 0.749154],
  ];
  for (const [key, s, ue, f] of expected) {
    const row = table.row(key)!;
    near(t, row.normShares, s, `${key} NormShares`);
    near(t, row.effectvUsage, ue, `${key} EffectvUsage`);
    near(t, row.fairShare, f, `${key} FairShare`);
  }
  for (const [key, s, ue] of [['A', 0.4, 0.45], ['B', 0.3, 0.3875], ['C', 0.1, 0.3], ['D', 0.6, 0.25], ['E', 0.25, 0.25], ['F', 0.35, 0.1458333]] as const) {
    near(t, table.row(key)!.normShares, s, `account ${key} NormShares`);
    near(t, table.row(key)!.effectvUsage, ue, `account ${key} EffectvUsage`);
  }
  t.equal(table.totalUsage, 1000);
  t.equal(table.row('A')!.rawUsage, 450, 'an account holds the usage of everything below it');
  t.equal(table.factor('nobody/here'), 0);
});

t.test('sshare rows come depth first, users before sub-accounts, with the depth to indent by', async (t) => {
  const { tree, ledger } = slurmExample();
  const rows = fairShareTable(tree, ledger, T0).rows;
  t.same(
    rows.map((r) => `${' '.repeat(r.depth)}${r.account}${r.user ? `/${r.user}` : ''}`),
    [' A', '  B', '   B/user1', '  C', '   C/user2', '   C/user3', ' D', '  E', '   E/user4', '  F', '   F/user5', ' Z', '  Z/other'],
  );
  const u1 = rows.find((r) => r.user === 'user1')!;
  t.same(Object.keys(u1).sort(), ['account', 'depth', 'effectvUsage', 'fairShare', 'key', 'kind', 'normShares', 'normUsage', 'rawShares', 'rawUsage', 'user']);
  t.equal(u1.rawShares, 1);
  t.equal(u1.rawUsage, 200);
  near(t, u1.normUsage, 0.2, 'NormUsage');
});

t.test('no usage at all: every association with shares has factor 1; no shares gives 0', async (t) => {
  const tree = new AccountTree(spec({ accounts: [{ name: 'lab', shares: 1 }, { name: 'idle', shares: 0 }], users: [{ name: 'a', account: 'lab', shares: 1 }, { name: 'b', account: 'idle', shares: 1 }] }));
  const table = fairShareTable(tree, new UsageLedger(DAY), T0);
  t.equal(table.factor('lab/a'), 1);
  t.equal(table.factor('idle/b'), 0, 'an account with 0 shares gives its users nothing');
});

t.test('users the tree does not list join the default account with the default shares', async (t) => {
  const tree = new AccountTree(spec({ accounts: [{ name: 'lab', shares: 3 }], users: [{ name: 'alice', account: 'lab', shares: 2 }], defaultShares: 5 }));
  t.equal(tree.association('alice').key, 'lab/alice', 'a listed user, no account named: their first association');
  t.equal(tree.association('carol').key, 'default/carol');
  t.equal(tree.association('carol').shares, 5);
  t.equal(tree.association('dave', 'lab').key, 'lab/dave', 'a tree account the job names: the user joins it');
  t.equal(tree.association('erin', 'nowhere').key, 'default/erin', 'an account the tree lacks: the default account');
  t.equal(tree.account('default')!.shares, 1, 'an undeclared default account has 1 share under root');
  t.equal(tree.account('lab')!.childShares, 2 + 5);
  const ledger = new UsageLedger(0);
  ledger.charge('lab/zoe', 100, T0);
  const table = fairShareTable(tree, ledger, T0);
  t.ok(table.row('lab/zoe'), 'usage of an association not seen yet is adopted (after a restart)');
  t.equal(table.totalUsage, 100);
});

t.test('normalised shares of the users sum to 1 when every account has users (property)', async () => {
  // random trees: each account hangs under root or an earlier account and has at least one user,
  // so every account passes its whole share down (to its users and sub-accounts)
  const arb = fc.array(
    fc.record({ parent: fc.nat(), underRoot: fc.boolean(), shares: fc.integer({ min: 1, max: 100 }), users: fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 3 }) }),
    { minLength: 1, maxLength: 12 },
  );
  fc.assert(
    fc.property(arb, (accounts) => {
      const tree = new AccountTree(
        spec({
          accounts: accounts.map((a, i) => ({ name: `a${i}`, shares: a.shares, ...(i > 0 && !a.underRoot ? { parent: `a${a.parent % i}` } : {}) })),
          users: accounts.flatMap((a, i) => a.users.map((s, j) => ({ name: `u${j}`, account: `a${i}`, shares: s }))),
          defaultAccount: 'a0',
        }),
      );
      const rows = fairShareTable(tree, new UsageLedger(0), T0).rows;
      const sum = rows.filter((r) => r.kind === 'user').reduce((s, r) => s + r.normShares, 0);
      return Math.abs(sum - 1) < 1e-9;
    }),
  );
});

t.test('fair-share factors stay in [0, 1] and fall as a user uses more (property)', async () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 2, maxLength: 6 }), fc.integer({ min: 1, max: 1_000_000 }), (usages, extra) => {
      const users = usages.map((_, i) => ({ name: `u${i}`, account: 'lab', shares: 1 }));
      const tree = new AccountTree(spec({ accounts: [{ name: 'lab', shares: 1 }], users, defaultAccount: 'lab' }));
      const ledger = new UsageLedger(0);
      usages.forEach((u, i) => ledger.charge(`lab/u${i}`, u, T0));
      const before = fairShareTable(tree, ledger, T0);
      const inRange = before.rows.every((r) => r.fairShare >= 0 && r.fairShare <= 1);
      ledger.charge('lab/u0', extra, T0);
      const after = fairShareTable(tree, ledger, T0);
      return inRange && after.factor('lab/u0') < before.factor('lab/u0') + 1e-12;
    }),
  );
});

t.test('fair share moves a heavy user behind a light one, and the half-life brings them back', async (t) => {
  // one account, two users with equal shares; half-life one day
  const tree = new AccountTree(spec({ accounts: [{ name: 'lab', shares: 1 }], users: [{ name: 'alice', account: 'lab', shares: 1 }, { name: 'bob', account: 'lab', shares: 1 }], defaultAccount: 'lab' }));
  const ledger = new UsageLedger(DAY);
  // alice ran 100 CPUs for a day before T0; from T0 bob runs 10 CPUs without a break
  ledger.charge('lab/alice', 100 * 86_400, T0);
  const settings = { weights: { age: 0, fairshare: 10_000, jobSize: 0, partition: 0, qos: 0 }, maxAgeMs: 7 * DAY, favorSmall: false, partitionFactors: new Map(), qosPriorities: new Map() };
  const orderAt = (now: number): string[] => {
    const fresh = new UsageLedger(DAY, ledger.entries());
    fresh.chargeRun('lab/bob', 10, T0, now);
    const table = fairShareTable(tree, fresh, now);
    const calc = priorityCalculator(settings, { nodes: 8, cpus: 32 }, (j) => table.factor(tree.association(j.user, j.account).key));
    // alice's job is always submitted first
    const jobs: PolicyJob[] = [
      { id: 1, user: 'alice', partition: 'batch', nice: 0, submitTime: now - 2000, eligibleTime: now - 2000, nodes: 1, cpus: 1, gpus: 0, timeLimitMinutes: 60 },
      { id: 2, user: 'bob', partition: 'batch', nice: 0, submitTime: now - 1000, eligibleTime: now - 1000, nodes: 1, cpus: 1, gpus: 0, timeLimitMinutes: 60 },
    ];
    return jobs.map((j) => ({ ...j, priority: calc(j, now).priority })).sort(compareQueueOrder).map((j) => j.user);
  };
  t.same(orderAt(T0 + HOUR), ['bob', 'alice'], 'heavy alice is behind light bob');
  t.equal(ledger.usageOf('lab/alice', T0 + DAY), 50 * 86_400, 'after one half-life alice’s usage is half');
  t.same(orderAt(T0 + DAY), ['bob', 'alice'], 'still behind after one half-life');
  // they cross when 100·2^-t = (10/ln2)(1 − 2^-t), t ≈ 2.99 half-lives
  t.same(orderAt(T0 + 2.9 * DAY), ['bob', 'alice']);
  t.same(orderAt(T0 + 3.1 * DAY), ['alice', 'bob'], 'her usage decayed below bob’s: alice is ahead again');
});

t.test('the account tree refuses unknown parents, loops, duplicates and users of unknown accounts', async (t) => {
  t.throws(() => new AccountTree(spec({ accounts: [{ name: 'a', parent: 'x', shares: 1 }] })), { code: 'E_CONFIG_INVALID', message: /policy\.accounts\[0\]\.parent: account "x" is not defined/ });
  t.throws(
    () => new AccountTree(spec({ accounts: [{ name: 'a', parent: 'b', shares: 1 }, { name: 'b', parent: 'a', shares: 1 }] })),
    { message: /is its own ancestor/ },
  );
  t.throws(() => new AccountTree(spec({ accounts: [{ name: 'a', shares: 1 }, { name: 'a', shares: 2 }] })), { message: /declared twice/ });
  t.throws(() => new AccountTree(spec({ accounts: [{ name: 'root', shares: 1 }] })), { message: /root/ });
  t.throws(() => new AccountTree(spec({ users: [{ name: 'u', account: 'nope', shares: 1 }] })), { message: /policy\.users\[0\]\.account: account "nope" is not defined/ });
  t.throws(() => new AccountTree(spec({ accounts: [{ name: 'a', shares: 1 }], users: [{ name: 'u', account: 'a', shares: 1 }, { name: 'u', account: 'a', shares: 1 }] })), { message: /listed twice/ });
  t.throws(() => new AccountTree(spec({ defaultAccount: 'root' })), { message: /default account/ });
});
