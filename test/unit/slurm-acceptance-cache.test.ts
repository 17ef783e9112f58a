/** The SLURM backend's memory of accepted --test-only questions (backends/slurm/acceptance-cache.ts), on a fake clock. */
import t from 'tap';
import { AcceptanceCache } from '../../src/backends/slurm/acceptance-cache.js';

function setup(maxKeys = 10) {
  let now = 0;
  const asked: string[] = [];
  const cache = new AcceptanceCache({ ttlMs: 5000, maxKeys, now: () => now });
  const yes = (key: string) => cache.ask(key, async () => { asked.push(key); return 'ok'; });
  const no = (key: string) => cache.ask(key, async () => { asked.push(key); throw new Error('refused'); });
  return { cache, asked, yes, no, tick: (ms: number) => (now += ms) };
}

t.test('an acceptance stands for ttlMs, then is asked again', async (t) => {
  const { asked, yes, tick } = setup();
  await yes('a');
  await yes('a');
  tick(4999);
  await yes('a');
  t.same(asked, ['a'], 'asked once within the ttl');
  tick(1);
  await yes('a');
  t.same(asked, ['a', 'a'], 'asked again once it is stale');
  await yes('b');
  t.same(asked, ['a', 'a', 'b'], 'another key is another question');
});

t.test('askers of one key at once share the question in flight', async (t) => {
  const { asked, yes } = setup();
  await Promise.all([yes('a'), yes('a'), yes('a')]);
  t.same(asked, ['a']);
});

t.test('a refusal is not remembered: the next asker asks again, and gets the refusal too', async (t) => {
  const { cache, asked, no } = setup();
  await t.rejects(no('x'), /refused/);
  await t.rejects(no('x'), /refused/);
  t.same(asked, ['x', 'x']);
  t.equal(cache.size, 0);
});

t.test('bounded: the oldest keys go first', async (t) => {
  const { cache, asked, yes } = setup(3);
  for (const k of ['a', 'b', 'c', 'd']) await yes(k);
  t.equal(cache.size, 3);
  await yes('d');
  await yes('a');
  t.same(asked, ['a', 'b', 'c', 'd', 'a'], '"a" was dropped, "d" kept');
});
