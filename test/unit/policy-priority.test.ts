/**
 * Multifactor priority (src/policy/priority.ts): each factor alone reorders the queue as its
 * weight says, the numbers are SLURM's, and with no weights the queue stays in submit order.
 */
import fc from 'fast-check';
import t from 'tap';
import type { PolicyJob } from '../../src/policy/policy-types.js';
import {
  NICE_MAX,
  ageFactor,
  checkNice,
  compareQueueOrder,
  jobSizeFactor,
  priorityCalculator,
  sprioRow,
  type PrioritySettings,
  type PriorityWeights,
} from '../../src/policy/priority.js';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CLUSTER = { nodes: 8, cpus: 32 };

function job(id: number, over: Partial<PolicyJob> = {}): PolicyJob {
  const submitTime = over.submitTime ?? T0 + id * 1000;
  return { id, user: 'alice', partition: 'batch', nice: 0, submitTime, eligibleTime: submitTime, nodes: 1, cpus: 1, gpus: 0, timeLimitMinutes: 60, ...over };
}

function settings(weights: Partial<PriorityWeights>, over: Partial<PrioritySettings> = {}): PrioritySettings {
  return {
    weights: { age: 0, fairshare: 0, jobSize: 0, partition: 0, qos: 0, ...weights },
    maxAgeMs: 7 * DAY,
    favorSmall: false,
    partitionFactors: new Map(),
    qosPriorities: new Map(),
    ...over,
  };
}

/** The job ids in queue order at `now`. */
function order(jobs: PolicyJob[], s: PrioritySettings, now: number, fairShare: (j: PolicyJob) => number = () => 0): number[] {
  const calc = priorityCalculator(s, CLUSTER, fairShare);
  return jobs
    .map((j) => ({ ...j, priority: calc(j, now).priority }))
    .sort(compareQueueOrder)
    .map((j) => j.id);
}

t.test('with every weight 0 (the default) all jobs have priority 1 and the queue is in submit order', async (t) => {
  const jobs = [job(3, { submitTime: T0 + 5 }), job(1, { submitTime: T0 + 9 }), job(2, { submitTime: T0 + 5 })];
  const calc = priorityCalculator(settings({}), CLUSTER, () => 1);
  t.same(jobs.map((j) => calc(j, T0 + DAY).priority), [1, 1, 1]);
  t.same(order(jobs, settings({}), T0 + DAY), [2, 3, 1], 'submit time, then job id');
});

t.test('age: (now - eligible) / PriorityMaxAge, capped at 1, 0 before the job is eligible', async (t) => {
  const j = job(1, { eligibleTime: T0 });
  t.equal(ageFactor(j, T0, 7 * DAY), 0);
  t.equal(ageFactor(j, T0 - HOUR, 7 * DAY), 0, 'not eligible yet');
  t.equal(ageFactor(j, T0 + 3.5 * DAY, 7 * DAY), 0.5);
  t.equal(ageFactor(j, T0 + 7 * DAY, 7 * DAY), 1);
  t.equal(ageFactor(j, T0 + 30 * DAY, 7 * DAY), 1);
});

t.test('age alone: a job eligible longer goes first, though submitted later', async (t) => {
  // job 1 was submitted first but held by a begin time; job 2 has been eligible longer
  const jobs = [job(1, { submitTime: T0, eligibleTime: T0 + 2 * HOUR }), job(2, { submitTime: T0 + HOUR, eligibleTime: T0 + HOUR })];
  t.same(order(jobs, settings({}), T0 + 3 * HOUR), [1, 2]);
  t.same(order(jobs, settings({ age: 10_000 }), T0 + 3 * HOUR), [2, 1]);
  const calc = priorityCalculator(settings({ age: 10_000 }, { maxAgeMs: 4 * HOUR }), CLUSTER, () => 0);
  t.equal(calc(jobs[1]!, T0 + 3 * HOUR).priority, 5000, '2 h of a 4 h PriorityMaxAge = 0.5 × 10000');
});

t.test('job size: the mean of the node and CPU shares of the cluster (SLURM), inverted by PriorityFavorSmall', async (t) => {
  t.equal(jobSizeFactor({ nodes: 4, cpus: 16 }, CLUSTER, false), 0.5);
  t.equal(jobSizeFactor({ nodes: 1, cpus: 1 }, CLUSTER, false), (1 / 8 + 1 / 32) / 2);
  t.equal(jobSizeFactor({ nodes: 1, cpus: 1 }, CLUSTER, true), (7 / 8 + 31 / 32) / 2);
  t.equal(jobSizeFactor({ nodes: 8, cpus: 32 }, CLUSTER, false), 1, 'the whole cluster');
  t.equal(jobSizeFactor({ nodes: 8, cpus: 32 }, CLUSTER, true), 0);
  t.equal(jobSizeFactor({ nodes: 16, cpus: 64 }, CLUSTER, false), 1, 'clamped to 1');
  t.equal(jobSizeFactor({ nodes: 1, cpus: 1 }, { nodes: 0, cpus: 0 }, false), 0, 'an empty cluster gives 0');
});

t.test('job size alone: large jobs first, small ones first with favorSmall', async (t) => {
  const jobs = [job(1, { nodes: 1, cpus: 1 }), job(2, { nodes: 4, cpus: 16 })];
  t.same(order(jobs, settings({ jobSize: 1000 }), T0), [2, 1]);
  t.same(order(jobs, settings({ jobSize: 1000 }, { favorSmall: true }), T0), [1, 2]);
});

t.test('fair share alone: the user with the larger fair-share factor goes first', async (t) => {
  const jobs = [job(1, { user: 'heavy' }), job(2, { user: 'light' })];
  const fs = (j: PolicyJob): number => (j.user === 'heavy' ? 0.25 : 0.75);
  t.same(order(jobs, settings({ fairshare: 10_000 }), T0, fs), [2, 1]);
  const calc = priorityCalculator(settings({ fairshare: 10_000 }), CLUSTER, fs);
  t.equal(calc(jobs[1]!, T0).priority, 7500);
  t.equal(calc(jobs[1]!, T0).factors.fairshare, 0.75);
});

t.test('QOS alone: the QOS priority over the largest QOS priority', async (t) => {
  const s = settings({ qos: 1000 }, { qosPriorities: new Map([['high', 100], ['normal', 10], ['scavenger', 0]]) });
  const jobs = [job(1, { qos: 'normal' }), job(2, { qos: 'high' }), job(3, { qos: 'scavenger' }), job(4)];
  t.same(order(jobs, s, T0), [2, 1, 3, 4]);
  const calc = priorityCalculator(s, CLUSTER, () => 0);
  t.same(jobs.map((j) => calc(j, T0).factors.qos), [0.1, 1, 0, 0]);
  t.same(jobs.map((j) => calc(j, T0).priority), [100, 1000, 1, 1], 'priority never below 1');
});

t.test('partition alone: the partition PriorityJobFactor over the largest', async (t) => {
  const s = settings({ partition: 1000 }, { partitionFactors: new Map([['gpu', 20], ['batch', 10]]) });
  const jobs = [job(1, { partition: 'batch' }), job(2, { partition: 'gpu' }), job(3, { partition: 'debug' })];
  t.same(order(jobs, s, T0), [2, 1, 3]);
  const calc = priorityCalculator(s, CLUSTER, () => 0);
  t.same(jobs.map((j) => calc(j, T0).weighted.partition), [500, 1000, 0]);
});

t.test('nice alone: a positive nice moves a job back, a negative one forward', async (t) => {
  // the same age for all three: only nice separates them
  const same = { submitTime: T0, eligibleTime: T0 };
  const jobs = [job(1, { ...same }), job(2, { ...same, nice: 100 }), job(3, { ...same, nice: -100 })];
  const s = settings({ age: 1000 });
  t.same(order(jobs, s, T0 + 7 * DAY), [3, 1, 2]);
  const calc = priorityCalculator(s, CLUSTER, () => 0);
  t.same(jobs.map((j) => calc(j, T0 + 7 * DAY).priority), [1000, 900, 1100]);
  t.equal(calc(job(4, { nice: 5000 }), T0).priority, 1, 'a nice larger than the sum leaves priority 1 (0 is for held jobs)');
});

t.test('the priority is the truncated weighted sum, each weighted factor reported for sprio', async (t) => {
  const s = settings(
    { age: 1000, fairshare: 2000, jobSize: 500, partition: 300, qos: 700 },
    { partitionFactors: new Map([['batch', 1], ['gpu', 2]]), qosPriorities: new Map([['normal', 1], ['high', 4]]) },
  );
  const j = job(7, { eligibleTime: T0, nodes: 2, cpus: 8, qos: 'normal', nice: 10 });
  const p = priorityCalculator(s, CLUSTER, () => 0.3)(j, T0 + 3.5 * DAY);
  t.same(p.factors, { age: 0.5, fairshare: 0.3, jobSize: 0.25, partition: 0.5, qos: 0.25 });
  t.same(p.weighted, { age: 500, fairshare: 600, jobSize: 125, partition: 150, qos: 175 });
  t.equal(p.priority, 500 + 600 + 125 + 150 + 175 - 10);
  t.same(sprioRow(j, p), { jobId: 7, partition: 'batch', user: 'alice', priority: 1540, age: 500, fairshare: 600, jobSize: 125, partitionFactor: 150, qos: 175, nice: 10 });
  t.equal(sprioRow(j, p, true).fairshare, 0.3, 'sprio -n shows the factors');
});

t.test('a zero weight leaves its factor 0 (SLURM computes only weighted factors)', async (t) => {
  const p = priorityCalculator(settings({ age: 1 }), CLUSTER, () => 0.9)(job(1, { nodes: 8, cpus: 32 }), T0 + DAY);
  t.equal(p.factors.fairshare, 0);
  t.equal(p.factors.jobSize, 0);
});

t.test('queue order: priority descending, then submit time, then job id', async (t) => {
  const items = [
    { id: 5, submitTime: 10, priority: 3 },
    { id: 4, submitTime: 10, priority: 3 },
    { id: 1, submitTime: 20, priority: 3 },
    { id: 9, submitTime: 5, priority: 1 },
    { id: 2, submitTime: 99, priority: 8 },
  ];
  t.same([...items].sort(compareQueueOrder).map((i) => i.id), [2, 4, 5, 1, 9]);
});

t.test('queue order is a total order (property)', async () => {
  const item = fc.record({ id: fc.nat(50), submitTime: fc.nat(20), priority: fc.nat(5) });
  fc.assert(
    fc.property(item, item, item, (a, b, c) => {
      const ab = Math.sign(compareQueueOrder(a, b));
      if (ab !== -Math.sign(compareQueueOrder(b, a))) return false;
      if (ab === 0 && a.id !== b.id) return false;
      if (compareQueueOrder(a, b) <= 0 && compareQueueOrder(b, c) <= 0 && compareQueueOrder(a, c) > 0) return false;
      return true;
    }),
  );
});

t.test('every factor stays in [0, 1] and the priority is an integer >= 1 (property)', async () => {
  const arb = fc.record({
    nodes: fc.integer({ min: 1, max: 64 }),
    cpus: fc.integer({ min: 1, max: 512 }),
    waited: fc.integer({ min: -DAY, max: 30 * DAY }),
    nice: fc.integer({ min: -NICE_MAX, max: NICE_MAX }),
    fs: fc.double({ min: -1, max: 2, noNaN: true }),
    favorSmall: fc.boolean(),
  });
  fc.assert(
    fc.property(arb, (x) => {
      const s = settings({ age: 1000, fairshare: 1000, jobSize: 1000, partition: 1000, qos: 1000 }, { favorSmall: x.favorSmall, qosPriorities: new Map([['q', 3]]), partitionFactors: new Map([['batch', 2]]) });
      const p = priorityCalculator(s, CLUSTER, () => x.fs)(job(1, { nodes: x.nodes, cpus: x.cpus, eligibleTime: T0, nice: x.nice, qos: 'q' }), T0 + x.waited);
      const inRange = Object.values(p.factors).every((f) => f >= 0 && f <= 1);
      return inRange && Number.isInteger(p.priority) && p.priority >= 1 && p.priority <= 0xffffffff;
    }),
  );
});

t.test('--nice: negative only for admins, within SLURM bounds', async (t) => {
  t.equal(checkNice(0, false), null);
  t.equal(checkNice(100, false), null);
  t.equal(checkNice(-5, true), null);
  t.match(checkNice(-5, false), /Invalid --nice value: only an admin may set a negative nice/);
  t.match(checkNice(NICE_MAX + 1, true), /Invalid --nice value/);
  t.match(checkNice(1.5, true), /Invalid --nice value/);
});
