import t from 'tap';
import { capNotice } from '../../src/logs/log-aggregator.js';
import { SMALL_CLUSTER, startDaemon } from '../helpers/daemon.js';

const sh = (body: string) => `#!/bin/bash\n${body}\n`;

t.test('1,000,000 lines through a real master: each stored once, in order', async (t) => {
  const N = 1_000_000;
  const d = await startDaemon(t, { ...SMALL_CLUSTER, logs: { flushIntervalMs: 50, pollIntervalMs: 50 } });
  const id = (await d.api('POST', '/api/v1/jobs', { script: sh(`seq 1 ${N}`) })).body.job_id;
  const job = await d.waitForState(id, ['COMPLETED', 'FAILED'], 120_000);
  t.equal(job.job_state, 'COMPLETED');
  // read the store directly: 1M lines through the paged API would be the slow part of the test
  const db = d.daemon.db;
  const stdout = db
    .prepare("SELECT count(*) AS n, min(line) AS first FROM log_lines WHERE job_id = ? AND source = 'stdout'")
    .get(id) as { n: number; first: string };
  t.equal(stdout.n, N, 'every line stored');
  const ends = db
    .prepare("SELECT (SELECT line FROM log_lines WHERE job_id = ? AND source = 'stdout' ORDER BY seq LIMIT 1) AS first, (SELECT line FROM log_lines WHERE job_id = ? AND source = 'stdout' ORDER BY seq DESC LIMIT 1) AS last")
    .get(id, id) as { first: string; last: string };
  t.same(ends, { first: '1', last: String(N) });
  const misplaced = db
    .prepare(
      "SELECT count(*) AS n FROM (SELECT line, row_number() OVER (ORDER BY seq) AS r FROM log_lines WHERE job_id = ? AND source = 'stdout') WHERE CAST(line AS INTEGER) <> r",
    )
    .get(id) as { n: number };
  t.equal(misplaced.n, 0, 'stdout lines in order, none doubled');
  const all = db.prepare('SELECT count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM log_lines WHERE job_id = ?').get(id) as { n: number; lo: number; hi: number };
  t.equal(all.lo, 1);
  t.equal(all.hi, all.n, 'seq contiguous from 1 (unique per job)');
});

t.test('a flooding job hits the cap and the API stays responsive', async (t) => {
  const cap = 100_000;
  const d = await startDaemon(t, { ...SMALL_CLUSTER, logs: { flushIntervalMs: 20, pollIntervalMs: 50, maxLinesPerJob: cap } });
  const id = (await d.api('POST', '/api/v1/jobs', { script: sh('seq 1 4000000') })).body.job_id;
  await d.waitForState(id, ['RUNNING', 'COMPLETING', 'COMPLETED']);
  const statuses: number[] = [];
  let done = false;
  const until = d.waitForState(id, ['COMPLETED', 'FAILED'], 120_000).finally(() => (done = true));
  while (!done) {
    for (const route of ['/api/v1/jobs', `/api/v1/jobs/${id}`, `/api/v1/jobs/${id}/logs?limit=10`, '/api/v1/nodes']) {
      statuses.push((await d.api('GET', route)).status);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await until;
  t.ok(statuses.length >= 4, `${statuses.length} requests during the flood`);
  t.same([...new Set(statuses)], [200], 'every request meanwhile succeeded');
  const grm = (await d.api('GET', `/api/v1/jobs/${id}/logs?source=grm&limit=1000`)).body.lines.map((l: any) => l.line);
  t.ok(grm.includes(capNotice(cap)), 'the cap line is in the log, source grm');
  const stdout = d.daemon.db.prepare("SELECT count(*) AS n FROM log_lines WHERE job_id = ? AND source = 'stdout'").get(id) as { n: number };
  t.ok(stdout.n <= cap, `at most ${cap} lines stored (${stdout.n})`);
});
