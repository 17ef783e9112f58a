/**
 * The `policy` section of the configuration (src/config/config-schema.ts) and its resolution
 * (src/policy/policy-config.ts): neutral defaults (submit order, no limits), SLURM time
 * spellings, and every cross-reference checked with an error naming the key.
 */
import t from 'tap';
import { validateConfig } from '../../src/config/load-config.js';
import { buildAccountTree, resolvePolicyConfig, resolveQos } from '../../src/policy/policy-config.js';
import type { PolicyJob } from '../../src/policy/policy-types.js';
import { compareQueueOrder, priorityCalculator } from '../../src/policy/priority.js';

const DAY_MS = 86_400_000;

function policy(section: Record<string, unknown>) {
  const config = validateConfig({ policy: section });
  return resolvePolicyConfig(config.policy, { queueDepth: config.scheduler.queueDepth });
}

t.test('defaults: every weight 0, 7-day max age and half-life, no QOS, no limits', async (t) => {
  const config = validateConfig({});
  t.same(config.policy.weights, { age: 0, fairshare: 0, jobSize: 0, partition: 0, qos: 0 });
  const p = resolvePolicyConfig(config.policy, { queueDepth: 100 });
  t.equal(p.priority.maxAgeMs, 7 * DAY_MS);
  t.equal(p.halfLifeMs, 7 * DAY_MS);
  t.equal(p.fairShareDampening, 1);
  t.equal(p.qos.size, 0);
  t.equal(p.defaultQos, undefined);
  t.same(p.admission, { queueDepth: 100, scanLimit: 10_000, lookAhead: 16 });
  t.same(p.tree, { accounts: [], users: [], defaultAccount: 'default', defaultShares: 1 });
});

t.test('with the defaults the queue keeps submit order', async (t) => {
  const p = policy({});
  const calc = priorityCalculator(p.priority, { nodes: 8, cpus: 32 }, () => 0.1);
  const jobs: PolicyJob[] = [3, 1, 2].map((id) => ({ id, user: `u${id}`, partition: 'batch', nice: 0, submitTime: id * 1000, eligibleTime: id * 1000, nodes: id, cpus: id, gpus: 0, timeLimitMinutes: null }));
  const ordered = jobs.map((j) => ({ ...j, priority: calc(j, 10 * DAY_MS).priority })).sort(compareQueueOrder);
  t.same(ordered.map((j) => j.id), [1, 2, 3]);
});

t.test('a full section resolves: SLURM times, nested accounts, users, QOS with preemption', async (t) => {
  const p = policy({
    weights: { age: 1000, fairshare: 10000, jobSize: 500, partition: 1000, qos: 2000 },
    maxAge: '14-0',
    decayHalfLife: '1-12:00:00',
    favorSmall: true,
    partitions: { gpu: 10, batch: 1 },
    accounts: [
      { name: 'physics', shares: 40, limits: { grpNodes: 16, maxWall: '2-00:00:00' } },
      { name: 'theory', parent: 'physics', shares: 30, limits: { maxJobs: 4 } },
    ],
    users: [{ name: 'alice', account: 'theory', shares: 2, limits: { maxSubmitJobs: 100 } }],
    qos: [
      { name: 'normal', priority: 10, limits: { maxJobsPerUser: 8, maxWall: 'UNLIMITED' } },
      { name: 'urgent', priority: 100, preempt: ['normal'], limits: { maxWall: '60' } },
    ],
    defaultQos: 'normal',
    lookAhead: 4,
    queueDepth: 50,
  });
  t.same(p.priority.weights, { age: 1000, fairshare: 10000, jobSize: 500, partition: 1000, qos: 2000 });
  t.equal(p.priority.maxAgeMs, 14 * DAY_MS);
  t.equal(p.halfLifeMs, 1.5 * DAY_MS);
  t.equal(p.priority.favorSmall, true);
  t.same([...p.priority.partitionFactors], [['gpu', 10], ['batch', 1]]);
  t.same([...p.priority.qosPriorities], [['normal', 10], ['urgent', 100]]);
  t.same(p.tree.accounts[0], { name: 'physics', parent: 'root', shares: 40, limits: { grpNodes: 16, maxWallMinutes: 2880 } });
  t.same(p.tree.accounts[1]!.limits, { maxJobs: 4 });
  t.same(p.tree.users[0], { name: 'alice', account: 'theory', shares: 2, limits: { maxSubmitJobs: 100 } });
  t.same(p.qos.get('normal'), { name: 'normal', priority: 10, limits: { maxJobsPerUser: 8 }, preempt: [], preemptMode: 'requeue', graceSeconds: 0, denyOnLimit: false }, 'UNLIMITED is no limit');
  t.same(p.qos.get('urgent')!.limits, { maxWallMinutes: 60 });
  t.same(p.admission, { queueDepth: 50, scanLimit: 10_000, lookAhead: 4 });
  const tree = buildAccountTree(p);
  t.equal(tree.association('alice').key, 'theory/alice');
  t.same(tree.levels(tree.association('alice')).map((n) => n.key), ['theory/alice', 'theory', 'physics']);
});

t.test('half-life "0" means no decay', async (t) => {
  t.equal(policy({ decayHalfLife: '0' }).halfLifeMs, 0);
});

t.test('errors name the key', async (t) => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ maxAge: 'soon' }, /policy\.maxAge: "soon" is not a SLURM time/],
    [{ maxAge: 'UNLIMITED' }, /policy\.maxAge: "UNLIMITED" must be a finite time/],
    [{ accounts: [{ name: 'a', parent: 'nope' }] }, /policy\.accounts\[0\]\.parent: account "nope" is not defined/],
    [{ users: [{ name: 'u', account: 'nope' }] }, /policy\.users\[0\]\.account: account "nope" is not defined/],
    [{ accounts: [{ name: 'a', limits: { maxWall: 'forever' } }] }, /policy\.accounts\[0\]\.limits\.maxWall: "forever" is not a SLURM time/],
    [{ qos: [{ name: 'a', preempt: ['b'] }] }, /policy\.qos\[0\]\.preempt: QOS "b" is not defined/],
    [{ qos: [{ name: 'a', preempt: ['b'] }, { name: 'b', preempt: ['a'] }] }, /QOS Preemption loop detected \(a -> b -> a\)/],
    [{ qos: [{ name: 'a', preempt: ['a'] }] }, /QOS Preemption loop detected \(a -> a\)/],
    [{ qos: [{ name: 'a' }, { name: 'a' }] }, /policy\.qos\[1\]\.name: QOS "a" is defined twice/],
    [{ defaultQos: 'gold' }, /policy\.defaultQos: QOS "gold" is not defined/],
  ];
  for (const [section, message] of cases) t.throws(() => policy(section), { code: 'E_CONFIG_INVALID', message }, JSON.stringify(section));
});

t.test('the schema refuses unknown settings and bad values in the section', async (t) => {
  t.throws(() => validateConfig({ policy: { wieghts: {} } }), { message: /policy\.wieghts: is not a known setting/ });
  t.throws(() => validateConfig({ policy: { weights: { age: -1 } } }), { message: /policy\.weights\.age: must be an integer >= 0/ });
  t.throws(() => validateConfig({ policy: { qos: [{ name: 'a', preemptMode: 'suspend' }] } }), { message: /preemptMode: must be one of "requeue", "cancel", "off"/ });
  t.throws(() => validateConfig({ policy: { accounts: [{ name: 'a', limits: { maxJob: 1 } }] } }), { message: /maxJob: is not a known setting/ });
  t.throws(() => validateConfig({ policy: { accounts: [{ name: 'Physics' }] } }), { message: /policy\.accounts\.0\.name/ }, 'account names are lower case, as the users part keeps them');
});

t.test('resolveQos: the asked QOS, else the default; an unknown one is refused as sbatch does', async (t) => {
  const p = policy({ qos: [{ name: 'normal' }, { name: 'high' }], defaultQos: 'normal' });
  t.equal(resolveQos(undefined, p), 'normal');
  t.equal(resolveQos('', p), 'normal');
  t.equal(resolveQos('high', p), 'high');
  t.throws(() => resolveQos('gold', p), { code: 'E_REQUEST_INVALID', message: /Invalid qos specification: "gold" \(defined: normal, high\)/ });
  t.equal(resolveQos(undefined, policy({})), undefined, 'no QOS configured: none');
});
