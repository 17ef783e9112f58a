import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { openDatabase } from '../../src/store/database.js';
import { LogSearch } from '../../src/store/log-search.js';
import { LogStore, lineLevel, levelName } from '../../src/store/log-store.js';
import { runRetention } from '../../src/logs/retention.js';

t.test('levels come from common markers; prose and bare stderr set none', async (t) => {
  const cases: [string, string | undefined][] = [
    ['2024-01-01 ERROR something broke', 'error'],
    ['[ERROR] x', 'error'],
    ['[error] x', 'error'],
    ['ts=1 level=error msg=x', 'error'],
    ['level="warn" msg=x', 'warn'],
    ['FATAL: out of memory', 'error'],
    ['Traceback (most recent call last):', 'error'],
    ['WARNING: deprecated', 'warn'],
    ['[WARN] slow', 'warn'],
    ['INFO started', 'info'],
    ['DEBUG x=1', 'debug'],
    ['[TRACE] x', 'debug'],
    ['Error handling is enabled', undefined],
    ['0 errors, 0 warnings', undefined],
    ['plain output', undefined],
    ['Error handling INFO line', 'info'],
  ];
  for (const [line, level] of cases) t.equal(levelName(lineLevel(line)), level, line);
});

t.test('ids are never reused after retention, so the index misses nothing', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-search-'));
  const db = openDatabase(path.join(dir, 'grm.sqlite'));
  const search = new LogSearch({ db, file: path.join(dir, 'grm-search.sqlite'), intervalMs: 10 }).start();
  t.teardown(async () => {
    await search.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  db.prepare(
    "INSERT INTO jobs (id, name, user, state, partition, description, script, argv, runtime, environment, submit_time, end_time, updated_time) VALUES (1, 'a', 'u', 'COMPLETED', 'batch', '{}', '', '[]', 'command', '{}', 0, 1, 0)",
  ).run();
  const store = new LogStore(db);
  store.append([{ jobId: 1, seq: 1, ts: 1, source: 'stdout', line: 'first alpha' }]);
  await search.catchUp();
  runRetention(db, path.join(dir, 'jobs'), { maxAgeDays: 1, maxTotalMiB: 0 }, 10 * 86_400_000);
  t.equal(store.lastSeq(1), 0, 'retention removed the line');
  t.same(search.search({ q: 'alpha' }).hits, [], 'a deleted line is no hit');
  store.append([{ jobId: 2, seq: 1, ts: 2, source: 'stdout', line: 'second beta' }]);
  const id = (db.prepare('SELECT id FROM log_lines WHERE job_id = 2').get() as { id: number }).id;
  t.ok(id > 1, `the new line got a fresh id (${id})`);
  await search.catchUp();
  t.same(search.search({ q: 'beta' }).hits.map((h) => h.line), ['second beta']);
  t.same(search.search({ q: 'alpha' }).hits, []);
});

t.test('the indexer stops when idle and starts again for the next line', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-search-'));
  const db = openDatabase(path.join(dir, 'grm.sqlite'));
  const search = new LogSearch({ db, file: path.join(dir, 'grm-search.sqlite'), intervalMs: 10, idleMs: 20 }).start();
  t.teardown(async () => {
    await search.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const store = new LogStore(db);
  store.append([{ jobId: 1, seq: 1, ts: 1, source: 'stdout', line: 'first gamma' }]);
  await search.catchUp();
  t.same(search.search({ q: 'gamma' }).hits.map((h) => h.line), ['first gamma']);
  // well past idleMs: the worker has stopped; the main thread only watches for new lines
  await new Promise((r) => setTimeout(r, 300));
  store.append([{ jobId: 1, seq: 2, ts: 2, source: 'stdout', line: 'second delta' }]);
  await search.catchUp();
  t.same(search.search({ q: 'delta' }).hits.map((h) => h.line), ['second delta']);
  // and without anyone waiting: the periodic look finds the line
  await new Promise((r) => setTimeout(r, 300));
  store.append([{ jobId: 1, seq: 3, ts: 3, source: 'stdout', line: 'third epsilon' }]);
  for (let i = 0; i < 200 && search.indexedTo < 3; i++) await new Promise((r) => setTimeout(r, 10));
  t.same(search.search({ q: 'epsilon' }).hits.map((h) => h.line), ['third epsilon']);
});
