/**
 * until-stored.ts: a write refused by a full or unwritable store is tried again, with a growing
 * wait; other errors are not retried; a stop ends the tries.
 */
import t from 'tap';
import { untilStored, type Refusals } from '../../src/jobs/until-stored.js';

const sqlite = (code: string) => Object.assign(new Error(code === 'SQLITE_FULL' ? 'database or disk is full' : 'attempt to write a readonly database'), { code });

t.test('refused twice (disk full, then read-only), stored the third time: the write is told of the refusals', async (t) => {
  const errors = [sqlite('SQLITE_FULL'), sqlite('SQLITE_READONLY')];
  const seen: Refusals[] = [];
  const waits: number[] = [];
  const refused: string[] = [];
  const ok = await untilStored(
    async (r) => {
      seen.push({ ...r });
      const e = errors.shift();
      if (e) throw e;
    },
    { stopped: () => false, onRefused: (e, ms) => refused.push(`${(e as Error).message} ${ms}`), wait: async (ms) => void waits.push(ms), firstWaitMs: 100, maxWaitMs: 150 },
  );
  t.equal(ok, true);
  t.same(seen.map((r) => r.count), [0, 1, 2], 'each attempt knows how many came before it refused');
  t.equal((seen[2]!.first as Error).message, 'database or disk is full', 'and the first refusal');
  t.same(waits, [100, 150], 'the wait grows, bounded');
  t.same(refused, ['database or disk is full 100', 'attempt to write a readonly database 150']);
});

t.test('another error is thrown at once, not retried', async (t) => {
  let calls = 0;
  const busy = Object.assign(new Error('UNIQUE constraint failed'), { code: 'SQLITE_CONSTRAINT_UNIQUE' });
  await t.rejects(
    untilStored(
      async () => {
        calls++;
        throw busy;
      },
      { stopped: () => false, onRefused: () => t.fail('not a refusal'), wait: async () => {} },
    ),
    busy,
  );
  t.equal(calls, 1);
});

t.test('stopped while refused: no more tries, false', async (t) => {
  let stop = false;
  let calls = 0;
  const ok = await untilStored(
    async () => {
      calls++;
      throw sqlite('SQLITE_FULL');
    },
    { stopped: () => stop, onRefused: () => (stop = true), wait: async () => {} },
  );
  t.equal(ok, false);
  t.equal(calls, 1);
});
