import t from 'tap';
import { SMALL_CLUSTER, startDaemon } from '../helpers/daemon.js';

const sh = (body: string) => `#!/bin/bash\n${body}\n`;

t.test('logs.txt and the job report of a finished job; the period report counts it', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const since = new Date(Date.now() - 1000).toISOString();
  const ok = (await d.api('POST', '/api/v1/jobs', { minimum_nodes: 2, script: sh('echo hello\necho "[ERROR] bad thing"\necho warn-ish >&2\nsleep 0.5') }, { 'x-grm-user': 'alice' })).body.job_id;
  const bad = (await d.api('POST', '/api/v1/jobs', { script: sh('echo bye\nexit 3') }, { 'x-grm-user': 'bob' })).body.job_id;
  await d.waitForState(ok, ['COMPLETED']);
  await d.waitForState(bad, ['FAILED']);

  const res = await fetch(`${d.url}/api/v1/jobs/${ok}/logs.txt`);
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
  t.ok(p.node_hours_by_user.alice > p.node_hours_by_user.bob, 'two nodes for longer');
  t.ok(p.node_hours_by_partition.batch > 0);
  t.same(p.failure_reasons, [{ reason: 'FAILED: NonZeroExitCode', count: 1 }]);
  t.ok(p.utilisation.length > 0 && p.utilisation.length <= 200);
  t.equal(p.utilisation[0].nodes_total, 8);
  t.ok(p.utilisation.some((b: any) => b.nodes_busy > 0));
  const day = (await d.api('GET', '/api/v1/report')).body;
  t.equal(day.utilisation.length, 96, '24 h in 15-minute buckets');
  const before = (await d.api('GET', `/api/v1/report?since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z`)).body;
  t.same(before.jobs_by_state, {});
  const wrong = await d.api('GET', `/api/v1/report?since=${until}&until=${since}`);
  t.equal(wrong.status, 400);
  t.equal(wrong.body.error.field, 'since');
  t.equal((await d.api('GET', '/api/v1/report?since=nope')).body.error.field, 'since');
});
