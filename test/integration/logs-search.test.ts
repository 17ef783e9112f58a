import t from 'tap';
import { validateConfig } from '../../src/config/load-config.js';
import { createDaemon } from '../../src/daemon.js';
import { SMALL_CLUSTER, startDaemon } from '../helpers/daemon.js';

const sh = (body: string) => `#!/bin/bash\n${body}\n`;

t.test('search finds a term across jobs and filters by job, source, user, level', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const submit = async (user: string, body: string) =>
    (await (await d.asUser(user)).api('POST', '/api/v1/jobs', { script: sh(body) })).body.job_id as number;
  const a = await submit('alice', 'echo "epoch 1 loss=0.5 needle-alpha"\necho "ERROR needle in stderr" >&2\necho "INFO plain line"');
  const b = await submit('bob', 'echo "WARN needle from bob"\necho "nothing here"');
  await d.waitForState(a, ['COMPLETED', 'FAILED']);
  await d.waitForState(b, ['COMPLETED', 'FAILED']);
  await d.daemon.logSearch.catchUp();

  const all = (await d.api('GET', '/api/v1/logs/search?q=needle')).body;
  t.equal(all.truncated, false);
  t.same(all.hits.map((h: any) => h.job_id).sort(), [a, a, b].sort(), 'both jobs');
  t.ok(all.hits[0].seq !== undefined && all.hits[0].time && all.hits[0].source, 'hit fields');
  const times = all.hits.map((h: any) => `${h.time}`);
  t.same(times, [...times].sort().reverse(), 'newest first');

  const inA = (await d.api('GET', `/api/v1/logs/search?q=needle&job=${a}`)).body.hits;
  // stdout and stderr are two files, tailed apart: which of the two lines was stored first is not fixed
  t.same(inA.map((h: any) => h.line).sort(), ['ERROR needle in stderr', 'epoch 1 loss=0.5 needle-alpha'], 'one job: its two lines');
  t.ok(inA[0].seq < inA[1].seq, 'in seq order');
  const err = (await d.api('GET', `/api/v1/logs/search?q=needle&source=stderr`)).body.hits;
  t.same(err.map((h: any) => [h.job_id, h.source, h.level]), [[a, 'stderr', 'error']]);
  const bob = (await d.api('GET', `/api/v1/logs/search?q=needle&user=bob`)).body.hits;
  t.same(bob.map((h: any) => [h.line, h.level]), [['WARN needle from bob', 'warn']]);
  const errors = (await d.api('GET', `/api/v1/logs/search?q=needle&level=error`)).body.hits;
  t.same(errors.map((h: any) => h.job_id), [a]);
  const phrase = (await d.api('GET', `/api/v1/logs/search?q=${encodeURIComponent('"needle-alpha"')}`)).body.hits;
  t.same(phrase.map((h: any) => h.job_id), [a], 'a quoted phrase');
  const prefix = (await d.api('GET', `/api/v1/logs/search?q=need*&limit=2`)).body;
  t.equal(prefix.hits.length, 2);
  t.equal(prefix.truncated, true, 'limit reached');
  const after = (await d.api('GET', `/api/v1/logs/search?q=needle&job=${a}&after=${inA[0].seq}`)).body.hits;
  t.same(after.map((h: any) => h.seq), [inA[1].seq]);
  const future = (await d.api('GET', `/api/v1/logs/search?q=needle&since=${new Date(Date.now() + 60_000).toISOString()}`)).body.hits;
  t.same(future, []);

  for (const q of ['needle AND', '"unbalanced', 'nosuchcolumn:x', '(a OR']) {
    const bad = await d.api('GET', `/api/v1/logs/search?q=${encodeURIComponent(q)}`);
    t.equal(bad.status, 400, `malformed ${q}`);
    t.equal(bad.body.error.code, 'E_REQUEST_INVALID');
    t.equal(bad.body.error.field, 'q');
  }
  const noQ = await d.api('GET', '/api/v1/logs/search');
  t.equal(noQ.status, 400);
  t.equal((await d.api('GET', '/api/v1/logs/search?q=x&since=yesterday')).body.error.field, 'since');
  t.equal((await d.api('GET', '/api/v1/logs/search?q=x&level=fatal')).status, 400);
  t.equal((await d.api('GET', '/api/v1/logs/search?q=x&after=3')).body.error.field, 'after');
});

t.test('the index catches up after a restart with lines stored but not yet indexed', async (t) => {
  const first = await startDaemon(t, SMALL_CLUSTER);
  const id = (await first.api('POST', '/api/v1/jobs', { script: sh('echo "before restart marker-one"') })).body.job_id;
  await first.waitForState(id, ['COMPLETED']);
  await first.daemon.logSearch.catchUp();
  // lines stored while the indexer is not running (as if the daemon died before indexing them)
  await first.daemon.logSearch.close();
  const lastSeq = first.daemon.logStore.lastSeq(id);
  first.daemon.logStore.append(
    Array.from({ length: 5000 }, (_, i) => ({ jobId: id, seq: lastSeq + i + 1, ts: Date.now(), source: 'stdout', line: `late line ${i} marker-two` })),
  );
  await first.daemon.stop();

  const config = validateConfig({ host: '127.0.0.1', port: 0, dataDir: first.dataDir, logLevel: 'silent', ...SMALL_CLUSTER });
  const second = await createDaemon(config, { schedules: false });
  t.teardown(() => second.stop());
  await second.logSearch.catchUp();
  const url = await second.listen();
  const get = async (q: string) => (await (await fetch(`${url}/api/v1/logs/search?q=${q}&job=${id}&limit=10000`, { headers: { authorization: `Bearer ${first.token}` } })).json()) as any;
  t.equal((await get('"marker-two"')).hits.length, 5000, 'every line stored before the restart is found');
  t.equal((await get('"marker-one"')).hits.length, 1, 'indexed once, not twice');
  const top = second.db.prepare('SELECT max(id) AS n FROM log_lines').get() as { n: number };
  t.equal(second.logSearch.indexedTo, top.n, 'the high-water mark is the last stored line');
  const hits = (await get('late')).hits.map((h: any) => h.seq);
  t.equal(new Set(hits).size, hits.length, 'no line indexed twice');
});
