import t from 'tap';
import Database from 'better-sqlite3';
import { cacheStatements } from '../../src/store/statement-cache.js';

function db(t: { teardown(fn: () => void): void }, capacity?: number) {
  const d = new Database(':memory:');
  cacheStatements(d, capacity);
  d.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t (v) VALUES (\'a\'), (\'b\'), (\'c\')');
  t.teardown(() => d.close());
  return d;
}

t.test('the same SQL text is compiled once; another text is another statement', async (t) => {
  const d = db(t);
  const s = d.prepare('SELECT v FROM t WHERE id = ?');
  t.equal(d.prepare('SELECT v FROM t WHERE id = ?'), s);
  t.not(d.prepare('SELECT id FROM t WHERE v = ?'), s);
  t.same(s.get(2), { v: 'b' });
});

t.test('a caller that sets a mode gets the statement for its own; others never see that mode', async (t) => {
  const d = db(t);
  const sql = 'SELECT v FROM t ORDER BY id';
  const plucked = d.prepare(sql).pluck();
  t.same(plucked.all(), ['a', 'b', 'c']);
  const plain = d.prepare(sql);
  t.not(plain, plucked, 'a fresh statement for the next caller');
  t.same(plain.all(), [{ v: 'a' }, { v: 'b' }, { v: 'c' }]);
  t.same(plucked.all(), ['a', 'b', 'c'], 'the plucking holder keeps its mode');
  t.equal(d.prepare(sql), plain, 'the unchanged one is shared from then on');
});

t.test('a statement still iterating is not handed out again', async (t) => {
  const d = db(t);
  const sql = 'SELECT id FROM t ORDER BY id';
  const seen: number[] = [];
  for (const row of d.prepare(sql).iterate() as IterableIterator<{ id: number }>) {
    seen.push(row.id, (d.prepare(sql).get() as { id: number }).id);
  }
  t.same(seen, [1, 1, 2, 1, 3, 1]);
});

t.test('the cache holds at most `capacity` texts, the least recently used leave first', async (t) => {
  const d = db(t, 2);
  const a = d.prepare('SELECT 1');
  const b = d.prepare('SELECT 2');
  t.equal(d.prepare('SELECT 1'), a, 'a used again: b is now the oldest');
  d.prepare('SELECT 3');
  t.equal(d.prepare('SELECT 1'), a);
  t.not(d.prepare('SELECT 2'), b, 'b was dropped');
});
