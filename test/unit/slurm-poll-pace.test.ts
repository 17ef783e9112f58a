/** The SLURM backend's poll pace (backends/slurm/poll-pace.ts). */
import t from 'tap';
import { PollPace } from '../../src/backends/slurm/poll-pace.js';

t.test('after a submit: 100 ms, then doubling to 1 s while holders wait; the interval when none does', async (t) => {
  const pace = new PollPace({ intervalMs: 2000 });
  t.equal(pace.kick(), 100);
  t.same([true, true, true, true, true, true].map((p) => pace.after(p)), [200, 400, 800, 1000, 1000, 1000]);
  t.equal(pace.after(false), 2000, 'nothing pending: the configured interval');
  t.equal(pace.after(true), 1000, 'a holder pending again without a submit (requeue, restore): at most 1 s');
  t.equal(pace.kick(), 100, 'a new submit starts over');
  t.equal(pace.after(true), 200);
});

t.test('a configured interval below the cap bounds every delay', async (t) => {
  const pace = new PollPace({ intervalMs: 300 });
  t.equal(pace.kick(), 100);
  t.same([true, true, true, false].map((p) => pace.after(p)), [200, 300, 300, 300]);
  const tiny = new PollPace({ intervalMs: 50 });
  t.equal(tiny.kick(), 50);
  t.equal(tiny.after(true), 50);
});

t.test('every holder that waits is looked at within a second of any moment after its submit', async (t) => {
  const pace = new PollPace({ intervalMs: 2000 });
  let at = pace.kick();
  const polls = [at];
  while (at < 20_000) polls.push((at += pace.after(true)));
  const gaps = polls.slice(1).map((p, i) => p - polls[i]!);
  t.ok(Math.max(...gaps) <= 1000, `largest gap ${Math.max(...gaps)} ms`);
});
