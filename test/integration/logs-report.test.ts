import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { SMALL_CLUSTER, startDaemon } from '../helpers/daemon.js';
import { untilFileExists } from '../helpers/wait.js';
import { ReportStore } from '../../src/store/report-store.js';

const sh = (body: string) => `#!/bin/bash\n${body}\n`;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** The report's rounding: node-hours to 3 decimals, busy nodes to 2. */
const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

interface RecordedAllocation {
  node_list: unknown[];
  granted_time: string;
  released_time: string | null;
}

/**
 * By the report's definition, one recorded allocation inside [from, to): its nodes × the part of
 * [granted, released or now] in the period, as node-milliseconds (exact integers) or node-hours.
 */
function nodeMs(a: RecordedAllocation, from: number, to: number, now: number): number {
  const start = Math.max(Date.parse(a.granted_time), from);
  const stop = Math.min(a.released_time === null ? now : Date.parse(a.released_time), to);
  return stop > start ? a.node_list.length * (stop - start) : 0;
}
const nodeHours = (a: RecordedAllocation, from: number, to: number, now: number) => nodeMs(a, from, to, now) / HOUR;

t.test('logs.txt and the job report of a finished job; the period report counts it', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const since = new Date(Date.now() - 1000).toISOString();
  // alice's job holds its two nodes until the test lets it end: how long it runs is the
  // test's decision, not the speed of a (possibly busy) machine.
  const letAliceEnd = path.join(d.dataDir, 'alice-may-end');
  const ok = (await (await d.asUser('alice')).api('POST', '/api/v1/jobs', { minimum_nodes: 2, script: sh(`echo hello\necho "[ERROR] bad thing"\necho warn-ish >&2\n${untilFileExists(letAliceEnd)}`) })).body.job_id;
  const bad = (await (await d.asUser('bob')).api('POST', '/api/v1/jobs', { script: sh('echo bye\nexit 3') })).body.job_id;
  await d.waitForState(ok, ['RUNNING']);
  await d.waitForState(bad, ['FAILED']);

  // While alice still holds her nodes, the period report with an injected "now": an open
  // allocation counts until now, so 90 minutes after alice's grant she has used 2 × 1.5
  // node-hours, whatever the wall clock says. (The route is this same ReportStore with now = Date.now().)
  const aliceOpen = (await d.api('GET', `/api/v1/jobs/${ok}`)).body.allocation as RecordedAllocation;
  const bobDone = (await d.api('GET', `/api/v1/jobs/${bad}`)).body.allocation as RecordedAllocation;
  t.equal(aliceOpen.node_list.length, 2, 'alice holds two nodes');
  t.equal(aliceOpen.released_time, null, 'and has not released them');
  t.equal(bobDone.node_list.length, 1, 'bob held one node');
  t.not(bobDone.released_time, null, 'and released it');
  const granted = Date.parse(aliceOpen.granted_time);
  const held = { since: Date.parse(since), until: granted + 2 * HOUR, now: granted + 90 * MINUTE };
  const h = new ReportStore(d.daemon.db).period(held.since, held.until, 8, held.now);
  const bobHours = nodeHours(bobDone, held.since, held.until, held.now);
  t.equal(h.node_hours_by_user.alice, 3, 'alice: 2 nodes × 1.5 h up to now');
  t.equal(h.node_hours_by_user.bob, round(bobHours, 3), 'bob: his one node from grant to release');
  t.ok(h.node_hours_by_user.alice! > h.node_hours_by_user.bob!, 'two nodes for longer');
  t.equal(h.node_hours_by_partition.batch, round(3 + bobHours, 3), 'the partition: both');
  t.equal(h.utilisation.length, Math.ceil((held.until - held.since) / MINUTE), 'a period of about 2 h: 1-minute buckets');
  const bucketAt = (ms: number) => h.utilisation[Math.floor((ms - held.since) / MINUTE)]!;
  t.equal(bucketAt(granted + 30 * MINUTE).nodes_busy, 2, "alice's two nodes busy 30 minutes after her grant");
  t.equal(bucketAt(held.now + 5 * MINUTE).nodes_busy, 0, 'nothing busy after now');

  fs.writeFileSync(letAliceEnd, '');
  await d.waitForState(ok, ['COMPLETED']);

  const res = await fetch(`${d.url}/api/v1/jobs/${ok}/logs.txt`, { headers: { authorization: `Bearer ${d.token}` } });
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/plain/);
  t.equal(res.headers.get('content-disposition'), `attachment; filename="grm-job-${ok}.log"`);
  const text = await res.text();
  const lines = text.trimEnd().split('\n');
  const stored = (await d.api('GET', `/api/v1/jobs/${ok}/logs?limit=1000`)).body.lines;
  t.same(lines, stored.map((l: any) => `${l.time} ${l.source}: ${l.line}`), 'every line as "<ISO time> <source>: <line>"');
  t.ok(lines.some((l) => /^\d{4}-\d\d-\d\dT[\d:.]+Z stdout: hello$/.test(l)));
  t.equal((await d.api('GET', '/api/v1/jobs/999/logs.txt')).status, 404);

  const report = (await d.api('GET', `/api/v1/jobs/${ok}/report`)).body;
  t.equal(report.job.job_id, ok);
  t.equal(report.job.user_name, 'alice');
  t.equal(report.allocation.nodes, 'node[01-02]');
  t.same(report.timeline.filter((e: any) => e.to_state).map((e: any) => e.to_state), ['PENDING', 'ALLOCATING', 'RUNNING', 'COMPLETING', 'COMPLETED']);
  t.same(report.exit, { code: 0, signal: null, state: 'COMPLETED', reason: 'None' });
  t.equal(report.line_counts.stdout, 2);
  t.equal(report.line_counts.stderr, 1);
  t.ok(report.line_counts.grm >= 4);
  // stdout and stderr are separate files tailed side by side: their relative order is ingest order
  t.same(report.first_errors.map((l: any) => `${l.source}: ${l.line}`).sort(), ['stderr: warn-ish', 'stdout: [ERROR] bad thing']);
  const failed = (await d.api('GET', `/api/v1/jobs/${bad}/report`)).body;
  t.same(failed.exit, { code: 3, signal: null, state: 'FAILED', reason: 'NonZeroExitCode' });

  const until = new Date(Date.now() + 1000).toISOString();
  const period = await d.api('GET', `/api/v1/report?since=${since}&until=${until}`);
  t.equal(period.status, 200);
  const p = period.body;
  t.same(p.jobs_by_state, { COMPLETED: 1, FAILED: 1 });
  t.same(Object.keys(p.node_hours_by_user).sort(), ['alice', 'bob']);
  // The jobs ran for however long the machine took: the expected figures come from their own
  // recorded allocations (nodes, granted and released times), not from a guess of the durations.
  const aliceDone = report.allocation as RecordedAllocation;
  const bobAllocation = failed.allocation as RecordedAllocation;
  t.not(aliceDone.released_time, null, "alice's nodes are released");
  const [from, to] = [Date.parse(since), Date.parse(until)];
  const aliceHours = nodeHours(aliceDone, from, to, to);
  const bobPeriodHours = nodeHours(bobAllocation, from, to, to);
  t.equal(p.node_hours_by_user.alice, round(aliceHours, 3), "alice: 2 nodes × her allocation's recorded span");
  t.equal(p.node_hours_by_user.bob, round(bobPeriodHours, 3), "bob: 1 node × his allocation's recorded span");
  t.equal(p.node_hours_by_partition.batch, round(aliceHours + bobPeriodHours, 3));
  t.same(p.failure_reasons, [{ reason: 'FAILED: NonZeroExitCode', count: 1 }]);
  t.ok(to - from < 200 * MINUTE, 'a short period: 1-minute buckets');
  const expectedBusy = Array.from({ length: Math.ceil((to - from) / MINUTE) }, (_, b) => {
    const [bStart, bEnd] = [from + b * MINUTE, Math.min(from + (b + 1) * MINUTE, to)];
    const busy = nodeMs(aliceDone, bStart, bEnd, to) + nodeMs(bobAllocation, bStart, bEnd, to);
    return round(busy / (bEnd - bStart), 2);
  });
  t.same(p.utilisation.map((b: any) => b.nodes_busy), expectedBusy, 'busy nodes per bucket from the recorded allocations');
  t.equal(p.utilisation[0].nodes_total, 8);
  const day = (await d.api('GET', '/api/v1/report')).body;
  t.equal(day.utilisation.length, 96, '24 h in 15-minute buckets');
  const before = (await d.api('GET', `/api/v1/report?since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z`)).body;
  t.same(before.jobs_by_state, {});
  const wrong = await d.api('GET', `/api/v1/report?since=${until}&until=${since}`);
  t.equal(wrong.status, 400);
  t.equal(wrong.body.error.field, 'since');
  t.equal((await d.api('GET', '/api/v1/report?since=nope')).body.error.field, 'since');
});
