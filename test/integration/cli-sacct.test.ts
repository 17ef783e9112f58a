/**
 * grm sacct end to end on the simulator: jobs run to COMPLETED, FAILED and CANCELLED, then
 * sacct's default columns, its filters (-j, -u/-a, -s, -S/-E), -P/-p, -n, --format, its errors,
 * and a list paged through small pages, none cut.
 */
import os from 'node:os';
import t from 'tap';
import { ApiClient } from '../../src/cli/api-client.js';
import { runSacct } from '../../src/cli/commands/sacct.js';
import { sacctTime } from '../../src/cli/sacct-format.js';
import { SMALL_CLUSTER, startDaemon, type TestDaemon } from '../helpers/daemon.js';

const ME = os.userInfo().username;

async function submit(d: TestDaemon, ...argv: string[]): Promise<number> {
  const sub = await d.cli('sbatch', '--parsable', ...argv);
  if (sub.code !== 0) throw new Error(sub.stderr);
  return Number(sub.stdout.trim());
}

/** Three ended jobs of mine (COMPLETED, FAILED, CANCELLED while pending) and one of bob's. */
async function endedJobs(d: TestDaemon) {
  const ok = await submit(d, '-J', 'ok', '-A', 'proj', d.writeScript('ok.sh', '#!/bin/bash\ntrue\n'));
  const bad = await submit(d, '-J', 'bad', '-n', '3', d.writeScript('bad.sh', '#!/bin/bash\nexit 3\n'));
  const held = await submit(d, '-J', 'held', '-H', d.writeScript('held.sh', '#!/bin/bash\ntrue\n'));
  const cancel = await d.cli('scancel', String(held));
  if (cancel.code !== 0) throw new Error(cancel.stderr);
  const bob = (await (await d.asUser('bob')).api('POST', '/api/v1/jobs', { script: '#!/bin/bash\ntrue\n', name: 'bobs' })).body.job_id as number;
  await d.waitForState(ok, ['COMPLETED']);
  await d.waitForState(bad, ['FAILED']);
  await d.waitForState(held, ['CANCELLED']);
  await d.waitForState(bob, ['COMPLETED']);
  return { ok, bad, held, bob };
}

const lines = (out: string) => out.split('\n').filter(Boolean);

t.test("sacct: sacct's default columns over ended jobs; -j, -u/-a, -s, -P, -p, -n, --format", async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const { ok, bad, held, bob } = await endedJobs(d);
  const out = await d.cli('sacct');
  t.equal(out.code, 0, out.stderr);
  t.same(lines(out.stdout), [
    'JobID           JobName  Partition    Account  AllocCPUS      State ExitCode',
    '------------ ---------- ---------- ---------- ---------- ---------- --------',
    `${String(ok).padEnd(12)}         ok      batch       proj          1  COMPLETED      0:0`,
    `${String(bad).padEnd(12)}        bad      batch                     3     FAILED      3:0`,
    `${String(held).padEnd(12)}       held      batch                     0  CANCELLED      0:0`,
  ], "only my jobs, by default; a job cancelled before it ran had no CPUs");

  const P = ['-n', '-P', '--format=JobID,JobName,User,State,ExitCode'];
  t.same(lines((await d.cli('sacct', ...P, '-a')).stdout), [
    `${ok}|ok|${ME}|COMPLETED|0:0`,
    `${bad}|bad|${ME}|FAILED|3:0`,
    `${held}|held|${ME}|CANCELLED|0:0`,
    `${bob}|bobs|bob|COMPLETED|0:0`,
  ], '-a: every user; -P: | between fields; -n: no header');
  t.same(lines((await d.cli('sacct', ...P, '-u', 'bob')).stdout), [`${bob}|bobs|bob|COMPLETED|0:0`], '-u');
  t.same(lines((await d.cli('sacct', ...P, '-j', `${bad},${bob}`)).stdout), [`${bad}|bad|${ME}|FAILED|3:0`, `${bob}|bobs|bob|COMPLETED|0:0`], '-j: any user');
  t.same(lines((await d.cli('sacct', ...P, '-s', 'F,CA')).stdout), [`${bad}|bad|${ME}|FAILED|3:0`, `${held}|held|${ME}|CANCELLED|0:0`], '-s short names');
  t.same(lines((await d.cli('sacct', ...P, '--state=completed')).stdout), [`${ok}|ok|${ME}|COMPLETED|0:0`], '-s long names, any case');
  t.same(lines((await d.cli('sacct', '-p', '-j', String(ok), '-o', 'jobid,state')).stdout), ['JobID|State|', `${ok}|COMPLETED|`], '-p: | after every field, header too');
  const job = (await d.api('GET', `/api/v1/jobs/${ok}`)).body;
  t.same(lines((await d.cli('sacct', '-X', '-j', String(ok), '-o', 'JobIDRaw,NNodes,NodeList%20,Timelimit,Reason%8')).stdout), [
    'JobIDRaw       NNodes             NodeList  Timelimit   Reason',
    '------------ -------- -------------------- ---------- --------',
    `${String(ok).padEnd(12)}        1 ${job.nodes.padStart(20)}  UNLIMITED     None`,
  ], '--format with widths; -X: the same lines, GRM has no steps');

  t.same(lines((await d.cli('sacct', '-nP', '-j', String(ok), '-o', 'Submit,Start,End')).stdout), [
    `${sacctTime(job.submit_time)}|${sacctTime(job.start_time)}|${sacctTime(job.end_time)}`,
  ], 'times in local time, to the second');
});

t.test('sacct -S/-E: jobs in the window, SLURM time forms; bad times and fields are refused in sacct words', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const first = await submit(d, '-J', 'first', d.writeScript('first.sh', '#!/bin/bash\ntrue\n'));
  const ended = await d.waitForState(first, ['COMPLETED']);
  const pending = await submit(d, '-J', 'waits', '-H', d.writeScript('waits.sh', '#!/bin/bash\ntrue\n'));
  const ids = async (...argv: string[]) => lines((await d.cli('sacct', '-n', '-P', '-o', 'JobID', ...argv)).stdout).map(Number);

  t.same(await ids(), [first, pending], 'default: since midnight, ended or not');
  // a second after `first` ended: it ended before the window, the pending job is still in it
  const afterEnd = new Date(Math.floor(Date.parse(ended.end_time) / 1000) * 1000 + 1000);
  t.same(await ids('-S', sacctTime(afterEnd.toISOString())), [pending], '-S YYYY-MM-DDTHH:MM:SS');
  t.same(await ids('-S', 'now-1hours'), [first, pending], '-S now-1hours');
  const beforeAll = new Date(Math.floor(Date.parse(ended.submit_time) / 1000) * 1000 - 1000);
  t.same(await ids('-S', 'now-2days', '-E', sacctTime(beforeAll.toISOString())), [], '-E before any job was submitted');
  t.same(await ids('-j', String(first), '-S', sacctTime(afterEnd.toISOString())), [], '-j with -S keeps the window');
  // -s is the state during the window, as sacct reads it: `first` waited and ran before it ended
  t.same(await ids('-s', 'PD'), [first, pending], '-s PD: both waited since midnight');
  t.same(await ids('-s', 'CD,PD', '-S', sacctTime(afterEnd.toISOString())), [pending], '-s CD: ended before the window, so not in it');
  t.same(await ids('-s', 'R', '-S', 'now-1hours'), [first], '-s R: it ran in the window, ended since');

  const api = (await d.api('GET', `/api/v1/jobs?since=${encodeURIComponent(afterEnd.toISOString())}&state=all`)).body;
  t.same(api.jobs.map((j: { job_id: number }) => j.job_id), [pending], 'the API: since');
  t.equal(api.total, 1);
  const badApi = await d.api('GET', '/api/v1/jobs?until=yesterday');
  t.equal(badApi.status, 400);
  t.match(badApi.body.error.message, /^Invalid time specification for until: "yesterday"; use ISO 8601/);
  const backwards = await d.api('GET', '/api/v1/jobs?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z');
  t.equal(backwards.status, 400);
  t.match(backwards.body.error.message, /^Start time \(2026-01-02T00:00:00Z\) requested is after end time/);

  const errors = [
    await d.cli('sacct', '-S', 'yesterday'),
    await d.cli('sacct', '-S', 'now', '-E', 'now-1hours'),
    await d.cli('sacct', '-o', 'JobID,Bogus'),
    await d.cli('sacct', '-s', 'XX'),
  ];
  t.same(errors.map((e) => e.code), [1, 1, 1, 1]);
  t.match(errors[0]!.stderr, /^sacct: error: Invalid --starttime specification 'yesterday': use now/);
  t.match(errors[1]!.stderr, /^sacct: error: Start time \(\S+\) requested is after end time \(\S+\)\.\n$/);
  t.match(errors[2]!.stderr, /^sacct: error: Invalid field requested: "Bogus" \(known: Account AllocCPUS /);
  t.match(errors[3]!.stderr, /^sacct: error: Invalid job state specified: "XX"; valid states are PENDING \(PD\)/);
  t.equal(errors[3]!.stdout, '', 'a refused query prints no header');
  t.notMatch(errors.map((e) => e.stderr).join(''), /\n\s+at |must match/, 'no stack trace, no schema regex');
  t.match((await d.cli('sacct', '-e')).stdout, /^Account\s+AllocCPUS\s+AllocNodes\s+Comment\n/);
});

t.test('sacct pages through the whole list: every job once, in order, at any page size', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const total = 11;
  for (let i = 0; i < total; i++) await (await d.asUser(i % 2 ? 'bob' : ME)).api('POST', '/api/v1/jobs', { script: '#!/bin/bash\ntrue\n', hold: true, name: `j${i}` });
  const client = new ApiClient({ baseUrl: d.url, token: d.token });
  const run = async (pageSize: number, options = {}) => {
    let stdout = '';
    await runSacct({ stdout: (s) => (stdout += s), stderr: () => undefined, env: {}, cwd: d.dataDir }, client, { noheader: true, parsable2: true, format: 'JobID,JobName', ...options }, new Date(), pageSize);
    return lines(stdout);
  };
  const all = await run(2, { allusers: true });
  t.same(all, Array.from({ length: total }, (_, i) => `${i + 1}|j${i}`), 'pages of 2: all 11, in order');
  t.same(await run(1000, { allusers: true }), all, 'one page: the same');
  t.same(await run(3), all.filter((_, i) => i % 2 === 0), 'only mine, across pages');
});
