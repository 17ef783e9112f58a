/**
 * QOS preemption (src/policy/preemption.ts): exactly the right victims, in the order of
 * importance the module states, and none when preempting could not free enough nodes.
 */
import fc from 'fast-check';
import t from 'tap';
import type { PreemptMode, QosDefinition } from '../../src/policy/policy-types.js';
import { canPreempt, selectVictims, type RunningJob } from '../../src/policy/preemption.js';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const MIN = 60_000;

function qos(name: string, preempt: string[] = [], preemptMode: PreemptMode = 'requeue', graceSeconds = 0): QosDefinition {
  return { name, priority: 0, limits: {}, preempt, preemptMode, graceSeconds, denyOnLimit: false };
}

const QOS = new Map(
  [qos('urgent', ['normal', 'scavenger']), qos('normal', ['scavenger']), qos('scavenger', [], 'requeue', 120), qos('pinned', [], 'off'), qos('doomed', [], 'cancel', 30), qos('boss', ['doomed', 'pinned'])].map((q) => [q.name, q]),
);

function running(id: number, qosName: string | undefined, priority: number, startMin: number, nodes: number): RunningJob {
  return { id, qos: qosName, priority, startTime: T0 + startMin * MIN, nodes };
}

const ids = (v: Array<{ id: number }>): number[] => v.map((x) => x.id);

t.test('the fewest jobs, then the lowest priority, then the latest started', async (t) => {
  const jobs = [
    running(1, 'scavenger', 10, 0, 2),
    running(2, 'scavenger', 5, 0, 1),
    running(3, 'scavenger', 5, 30, 2), // same priority as 2, started later
    running(4, 'scavenger', 1, 0, 1),
  ];
  // 3 nodes: two jobs are needed; job 4 (lowest priority) can be completed by job 3, which
  // beats job 2 at equal priority by having started later
  t.same(ids(selectVictims('normal', 3, jobs, QOS)), [4, 3]);
  t.same(ids(selectVictims('normal', 1, jobs, QOS)), [4], 'one node: the lowest priority job');
  t.same(ids(selectVictims('normal', 2, jobs, QOS)), [3], 'two nodes: one job suffices, the preferred of the 2-node ones');
  t.same(ids(selectVictims('normal', 6, jobs, QOS)), [4, 3, 2, 1], 'all four, in preference order');
});

t.test('fewer victims win over lower priorities', async (t) => {
  const jobs = [running(1, 'scavenger', 1, 0, 2), running(2, 'scavenger', 2, 0, 2), running(3, 'scavenger', 9, 0, 4)];
  t.same(ids(selectVictims('normal', 4, jobs, QOS)), [3]);
});

t.test('among equal priorities the most recently started goes first (it loses the least work)', async (t) => {
  const jobs = [running(1, 'scavenger', 5, 0, 1), running(2, 'scavenger', 5, 50, 1), running(3, 'scavenger', 5, 20, 1)];
  t.same(ids(selectVictims('normal', 2, jobs, QOS)), [2, 3]);
});

t.test('none at all when even every preemptable job would not free enough', async (t) => {
  const jobs = [running(1, 'scavenger', 1, 0, 2), running(2, 'normal', 1, 0, 8), running(3, 'scavenger', 1, 0, 1)];
  t.same(selectVictims('normal', 4, jobs, QOS), [], 'only 3 nodes in scavenger jobs; the normal one is not preemptable by normal');
  t.same(ids(selectVictims('urgent', 4, jobs, QOS)), [2], 'urgent may preempt normal too');
});

t.test('only QOSes listed in Preempt=, whose PreemptMode is not off; no QOS preempts nothing', async (t) => {
  const jobs = [running(1, 'pinned', 1, 0, 4), running(2, undefined, 1, 0, 4), running(3, 'urgent', 1, 0, 4)];
  t.same(selectVictims('boss', 2, jobs, QOS), [], 'pinned has PreemptMode=off');
  t.same(selectVictims('normal', 2, jobs, QOS), []);
  t.same(selectVictims(undefined, 2, [running(4, 'scavenger', 1, 0, 4)], QOS), [], 'a job without a QOS preempts nothing');
  t.same(selectVictims('scavenger', 2, [running(4, 'scavenger', 1, 0, 4)], QOS), [], 'a QOS does not preempt itself unless it says so');
  t.ok(canPreempt(QOS.get('normal'), QOS.get('scavenger')));
  t.notOk(canPreempt(QOS.get('scavenger'), QOS.get('normal')));
  t.notOk(canPreempt(QOS.get('boss'), undefined));
});

t.test("a victim carries its own QOS's PreemptMode and GraceTime", async (t) => {
  t.same(selectVictims('normal', 1, [running(1, 'scavenger', 1, 0, 1)], QOS), [{ id: 1, nodes: 1, mode: 'requeue', graceSeconds: 120 }]);
  t.same(selectVictims('boss', 1, [running(2, 'doomed', 1, 0, 1)], QOS), [{ id: 2, nodes: 1, mode: 'cancel', graceSeconds: 30 }]);
});

t.test('a job that needs no more nodes preempts nothing', async (t) => {
  t.same(selectVictims('normal', 0, [running(1, 'scavenger', 1, 0, 1)], QOS), []);
});

/** Brute force: the smallest covering sets, and of those the first in preference order. */
function bruteForce(jobs: RunningJob[], need: number): number[] {
  const pref = [...jobs].sort((a, b) => a.priority - b.priority || b.startTime - a.startTime || b.id - a.id);
  let best: RunningJob[] | undefined;
  for (let mask = 1; mask < 1 << pref.length; mask++) {
    const set = pref.filter((_, i) => mask & (1 << i));
    if (set.reduce((s, j) => s + j.nodes, 0) < need) continue;
    if (!best || set.length < best.length || (set.length === best.length && earlier(set, best, pref))) best = set;
  }
  return best ? ids(best) : [];
}

/** Is `a` before `b` lexicographically by preference rank? */
function earlier(a: RunningJob[], b: RunningJob[], pref: RunningJob[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const ra = pref.indexOf(a[i]!);
    const rb = pref.indexOf(b[i]!);
    if (ra !== rb) return ra < rb;
  }
  return false;
}

t.test('the victims are the brute-force optimum (property)', async () => {
  const arb = fc.array(fc.record({ priority: fc.nat(4), start: fc.nat(5), nodes: fc.integer({ min: 1, max: 5 }) }), { maxLength: 9 });
  fc.assert(
    fc.property(arb, fc.integer({ min: 1, max: 20 }), (specs, need) => {
      const jobs = specs.map((s, i) => running(i + 1, 'scavenger', s.priority, s.start, s.nodes));
      const got = ids(selectVictims('normal', need, jobs, QOS));
      const want = bruteForce(jobs, need);
      return got.length === want.length && got.every((id, i) => id === want[i]);
    }),
    { numRuns: 500 },
  );
});
