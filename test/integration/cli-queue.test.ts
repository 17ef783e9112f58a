/**
 * The queue commands users type every day, end to end through the built `grm` on the
 * simulator: arrays (sbatch -a, squeue -r/-j, scancel of tasks), hold/release, squeue's
 * filters and formats, and lists that are never cut at a page.
 */
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import t from 'tap';
import { ApiClient } from '../../src/cli/api-client.js';
import { SMALL_CLUSTER, startDaemon } from '../helpers/daemon.js';
import { untilFileExists, waitUntil } from '../helpers/wait.js';

const ME = os.userInfo().username;
const FMT = ['-h', '-o', '%i %t %r'];

t.test('an array: squeue folds its pending tasks, -r and -j show tasks, scancel cancels some; SLURM_ARRAY_* reach each task', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const go = path.join(d.dataDir, 'go');
  const script = d.writeScript('sweep.sh', `#!/bin/bash\n#SBATCH -J sweep\n${untilFileExists(go)}\necho "task $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_JOB_ID ($SLURM_ARRAY_TASK_COUNT: $SLURM_ARRAY_TASK_MIN-$SLURM_ARRAY_TASK_MAX)"\n`);
  const sub = await d.cli('sbatch', '--parsable', '-a', '1-5%2', script);
  t.equal(sub.code, 0, sub.stderr);
  const id = Number(sub.stdout.trim());
  const queueLines = async (...argv: string[]) => (await d.cli('squeue', ...FMT, ...argv)).stdout.trim().split('\n').filter(Boolean);
  // two tasks hold nodes; the record keeps the other three, held back by the % limit
  const lines = await waitUntil('two running tasks', async () => {
    const l = await queueLines();
    return l.filter((x) => / R /.test(x)).length === 2 ? l : undefined;
  });
  t.same(lines, [`${id}_[3-5%2] PD JobArrayTaskLimit`, `${id}_1 R None`, `${id}_2 R None`]);
  t.same(await queueLines('-r'), [`${id}_3 PD JobArrayTaskLimit`, `${id}_4 PD JobArrayTaskLimit`, `${id}_5 PD JobArrayTaskLimit`, `${id}_1 R None`, `${id}_2 R None`], '-r: one line per task');
  t.same(await queueLines('-j', `${id}_2`), [`${id}_2 R None`], '-j selects one task');
  t.same((await queueLines('-j', String(id))).length, 3, '-j with the array id selects the whole array');

  const cancel = await d.cli('scancel', `${id}_[4-5]`);
  t.equal(cancel.code, 0, cancel.stderr);
  t.same(await queueLines(), [`${id}_3 PD JobArrayTaskLimit`, `${id}_1 R None`, `${id}_2 R None`], 'tasks 4 and 5 are gone from the queue');
  t.same(await queueLines('-t', 'CA'), [`${id}_4 CA Cancelled`, `${id}_5 CA Cancelled`], 'and are CANCELLED jobs of their own');

  fs.writeFileSync(go, '');
  const jobs = await waitUntil('every task to end', async () => {
    const { body } = await d.api('GET', `/api/v1/jobs?ids=${id}&state=all`);
    return body.jobs.every((j: any) => ['COMPLETED', 'CANCELLED'].includes(j.job_state)) ? body.jobs : undefined;
  });
  const done = jobs.filter((j: any) => j.job_state === 'COMPLETED').map((j: any) => j.array_task_id).sort();
  t.same(done, [1, 2, 3]);
  const three = jobs.find((j: any) => j.array_task_id === 3);
  t.equal(three.job_id, id, "the last task is the array's own record");
  t.equal((await d.cli('logs', String(three.job_id))).stdout, `task 3 of ${id} (5: 1-5)\n`, 'each task sees SLURM_ARRAY_*');
});

t.test('sbatch -H holds; scontrol release lets it start; hold of a running job is refused', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const script = d.writeScript('wait.sh', '#!/bin/bash\nsleep 3600\n');
  const id = (await d.cli('sbatch', '--parsable', '-H', '-J', 'held', script)).stdout.trim();
  t.same((await d.cli('squeue', ...FMT)).stdout, `${id} PD JobHeldUser\n`);
  const release = await d.cli('scontrol', 'release', id);
  t.equal(release.code, 0, release.stderr);
  await d.waitForState(Number(id), ['RUNNING']);
  const hold = await d.cli('scontrol', 'hold', id);
  t.equal(hold.code, 1);
  t.match(hold.stderr, new RegExp(`scontrol: error: hold job ${id}: Job is no longer pending execution for job ${id} \\(RUNNING\\)`));
  const second = (await d.cli('sbatch', '--parsable', '--begin=now+1hour', script)).stdout.trim();
  t.equal((await d.cli('scontrol', 'hold', second)).code, 0);
  t.same((await d.cli('squeue', ...FMT, '-j', second)).stdout, `${second} PD JobHeldAdmin\n`, "an admin's hold is an admin hold, as scontrol's");
  t.equal((await d.cli('scontrol', 'release', second)).code, 0);
  t.equal((await d.cli('scontrol', 'uhold', second)).code, 0);
  t.same((await d.cli('squeue', ...FMT, '-j', second)).stdout, `${second} PD JobHeldUser\n`, 'uhold: a user hold');
  t.equal((await d.cli('scontrol', 'release', second)).code, 0);
  t.same((await d.cli('squeue', ...FMT, '-j', second)).stdout, `${second} PD BeginTime\n`, 'released, it waits for its begin time again');
  const show = await d.cli('scontrol', 'show', 'job', second);
  t.match(show.stdout, new RegExp(`^JobId=${second} `, 'm'));
  t.equal((await d.cli('scancel', '--me')).code, 0, 'scancel --me');
  for (const job of [id, second]) t.equal((await d.waitForState(Number(job), ['CANCELLED'])).job_state, 'CANCELLED', `scancel --me ended ${job}`);
  t.same((await d.cli('squeue', '-h')).stdout, '', 'nothing left after scancel --me');
});

t.test('squeue: filters, -t short and long, --me, -h, -o; the whole list, page after page', async (t) => {
  // 1,203 submissions by one user within a minute: more than the default rate limit lets through
  const d = await startDaemon(t, { ...SMALL_CLUSTER, rateLimit: { max: 0 } });
  const held = async (user: string, name: string) => (await d.asUser(user)).api('POST', '/api/v1/jobs', { script: '#!/bin/bash\ntrue\n', hold: true, name });
  // more than one page of the CLI (1,000) and of the API's default limit: the bug was a cut at 1,000
  const total = 1203;
  for (let i = 0; i < total; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, total - i) }, (_, k) => held(i + k < 3 ? 'bob' : ME, i + k < 3 ? 'bobs' : `j${i + k}`)));
  }
  const all = await d.cli('squeue', '-h', '-o', '%A');
  const ids = all.stdout.trim().split('\n').map(Number);
  t.equal(ids.length, total, 'every job, none cut');
  t.same(ids, [...ids].sort((a, b) => a - b), 'in order, each once');
  t.equal(new Set(ids).size, total);
  t.equal((await d.cli('squeue', '--me', '-h')).stdout.trim().split('\n').length, total - 3, '--me');
  t.equal((await d.cli('squeue', '-u', 'bob', '-h')).stdout.trim().split('\n').length, 3, '-u');
  t.equal((await d.cli('squeue', '-n', 'bobs', '-h', '-o', '%u %j')).stdout, 'bob bobs\n'.repeat(3), '-n and -o %u %j');
  t.equal((await d.cli('squeue', '-t', 'PD', '-h')).stdout.trim().split('\n').length, total, '-t PD');
  t.equal((await d.cli('squeue', '-t', 'pending,running', '-h')).stdout.trim().split('\n').length, total, '-t long names, any case');
  t.equal((await d.cli('squeue', '-t', 'R', '-h')).stdout, '', '-t R: none');
  const header = (await d.cli('squeue', '-j', String(ids[0]))).stdout.split('\n')[0];
  t.equal(header, '             JOBID PARTITION     NAME     USER ST       TIME  NODES NODELIST(REASON)', "squeue's default header, to the column");
  const long = (await d.cli('squeue', '-l', '-j', String(ids[0]))).stdout.split('\n');
  t.match(long[0], /^\s+JOBID PARTITION\s+NAME\s+USER\s+STATE\s+TIME TIME_LIMI\s+NODES NODELIST\(REASON\)$/);
  t.match(long[1], /\s+PENDING\s+0:00 UNLIMITED\s+1 \(JobHeldUser\)$/);

  const sorted = (await d.cli('squeue', '-h', '-o', '%A', '--sort=-i')).stdout.trim().split('\n').map(Number);
  t.same(sorted, [...ids].reverse(), '--sort=-i: every job, newest first');
  t.match((await d.cli('squeue', '-h', '-O', 'jobid:8,username:6,state', '-n', 'bobs')).stdout, /^(\d+ +bob +PENDING\n){3}$/, '-O by field names');

  const bad = await d.cli('squeue', '-t', 'BOGUS');
  t.equal(bad.code, 1);
  t.match(bad.stderr, /^squeue: error: Invalid job state specified: "BOGUS"; valid states are PENDING \(PD\)/);
  const badFormat = await d.cli('squeue', '-o', '%i %z');
  t.match(badFormat.stderr, /^squeue: error: Invalid job format specification: %z \(known: /);
  t.notMatch(bad.stderr + badFormat.stderr, /\n\s+at |must match pattern/, 'no stack trace, no schema regex');
});

t.test('the API pages by cursor: every job once, in order, however small the page', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  for (let i = 0; i < 23; i++) await d.api('POST', '/api/v1/jobs', { script: '#!/bin/bash\ntrue\n', hold: true });
  const client = new ApiClient({ baseUrl: d.url, token: d.token });
  const pages: number[][] = [];
  for await (const page of client.jobPages<{ job_id: number }>(new URLSearchParams({ state: 'PD' }), 5)) pages.push(page.map((j) => j.job_id));
  t.same(pages.map((p) => p.length), [5, 5, 5, 5, 3]);
  t.same(pages.flat(), Array.from({ length: 23 }, (_, i) => i + 1));
  const first = (await d.api('GET', '/api/v1/jobs?limit=23')).body;
  t.equal(first.next_cursor, null, 'a page holding the last job says there is no next one');
  t.equal(first.total, 23);
  t.equal((await d.api('GET', '/api/v1/jobs?cursor=abc')).status, 400);
  const newest: number[] = [];
  let cursor: string | null = null;
  do {
    const page: any = (await d.api('GET', `/api/v1/jobs?order=newest&limit=10${cursor ? `&cursor=${cursor}` : ''}`)).body;
    newest.push(...page.jobs.map((j: any) => j.job_id));
    cursor = page.next_cursor;
  } while (cursor);
  t.same(newest, Array.from({ length: 23 }, (_, i) => 23 - i), 'order=newest pages from the newest down (the viewer)');
});

t.test('scontrol update: a pending job in full, a running one only to a lower TimeLimit', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const script = d.writeScript('wait.sh', '#!/bin/bash\nsleep 3600\n');
  const pending = (await d.cli('sbatch', '--parsable', '-H', '-t', '60', '-J', 'before', script)).stdout.trim();
  const up = await d.cli('scontrol', 'update', `JobId=${pending}`, 'TimeLimit=1:30:00', 'Name=after', 'Nice=5', 'NumNodes=2', 'StartTime=now+1hour');
  t.equal(up.code, 0, up.stderr);
  t.equal((await d.cli('squeue', '-h', '-o', '%j %l %y %D %r', '-j', pending)).stdout, 'after 1:30:00 5 2 JobHeldUser\n');
  t.equal((await d.cli('scontrol', 'release', pending)).code, 0);
  t.equal((await d.cli('squeue', '-h', '-o', '%r', '-j', pending)).stdout, 'BeginTime\n', 'its new start time holds it now');
  const badField = await d.cli('scontrol', 'update', `JobId=${pending}`, 'Frobs=3');
  t.equal(badField.code, 1);
  t.match(badField.stderr, /^scontrol: error: Update of this parameter is not supported: Frobs \(GRM updates Timelimit, Partition/);
  const badValue = await d.cli('scontrol', 'update', `JobId=${pending}`, 'TimeLimit=soon');
  t.equal(badValue.code, 1);
  t.match(badValue.stderr, /^scontrol: error: .*time/i);
  t.notMatch(badField.stderr + badValue.stderr, /\n\s+at /, 'no stack trace');

  const running = Number((await d.cli('sbatch', '--parsable', '-t', '60', script)).stdout.trim());
  await d.waitForState(running, ['RUNNING']);
  const raise = await d.cli('scontrol', 'update', `JobId=${running}`, 'TimeLimit=120');
  t.equal(raise.code, 1);
  t.match(raise.stderr, new RegExp(`scontrol: error: Access/permission denied for job ${running}: a running job's time limit can only be lowered`));
  t.equal((await d.cli('scontrol', 'update', `JobId=${running}`, 'TimeLimit=30')).code, 0);
  t.match((await d.cli('scontrol', 'show', 'job', String(running))).stdout, /TimeLimit=30:00/);
  const events = (await d.api('GET', `/api/v1/jobs/${running}`)).body.events.map((e: any) => e.reason);
  t.ok(events.includes(`updated by ${ME}: time_limit=30`), 'the update is in the job history');

  const node = (await d.cli('scontrol', 'show', 'node', 'node01')).stdout;
  t.match(node, /^NodeName=node01 CPUAlloc=1 CPUTot=4\n {3}RealMemory=16384 AllocMem=\d+ Gres=\(null\)/, 'scontrol show node: the running job holds a CPU');
  t.match(node, new RegExp(`State=\\S+ Partitions=batch\\n {3}Jobs=${running}\\n$`));
  t.equal((await d.cli('scontrol', 'show', 'node')).stdout.match(/^NodeName=/gm)?.length, 8, 'every node without a name');
  t.equal(
    (await d.cli('scontrol', 'show', 'partition')).stdout,
    'PartitionName=batch\n   Default=YES State=UP\n   MaxTime=UNLIMITED DefaultTime=NONE\n   Nodes=node[01-08] TotalNodes=8\n',
  );
  const missing = await d.cli('scontrol', 'show', 'node', 'node99');
  t.equal(missing.code, 1);
  t.match(missing.stderr, /^scontrol: error: Node node99 not found/);
});

t.test('scontrol requeue: a running job stops and runs again (SLURM_RESTART_COUNT, output appended); requeuehold; refusals in SLURM words', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const go = path.join(d.dataDir, 'go-requeue');
  // outside the data dir: GRM refuses -o into it (another job's folder, the store)
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-requeue-'));
  t.teardown(() => fs.rmSync(outDir, { recursive: true, force: true }));
  const out = path.join(outDir, 'requeue.out');
  const script = d.writeScript('again.sh', `#!/bin/bash\necho "run \${SLURM_RESTART_COUNT:-0} starts"\n${untilFileExists(go)}\necho "run \${SLURM_RESTART_COUNT:-0} ends"\n`);
  const id = Number((await d.cli('sbatch', '--parsable', '-o', out, script)).stdout.trim());
  await d.waitForState(id, ['RUNNING']);
  await waitUntil('the first run to start', () => fs.existsSync(out) && fs.readFileSync(out, 'utf8').includes('run 0 starts'));
  const requeue = await d.cli('scontrol', 'requeue', String(id));
  t.equal(requeue.code, 0, requeue.stderr);
  // the second run starts by itself once the first one's nodes are released
  await waitUntil('the second run to start', () => fs.readFileSync(out, 'utf8').includes('run 1 starts'));
  fs.writeFileSync(go, '');
  await d.waitForState(id, ['COMPLETED']);
  t.equal(fs.readFileSync(out, 'utf8'), 'run 0 starts\nrun 1 starts\nrun 1 ends\n', 'the first run stopped; the second appended to its output');
  const show = (await d.cli('scontrol', 'show', 'job', String(id))).stdout;
  t.match(show, /Requeue=1 Restarts=1/);
  t.match(show, /RUNNING -> COMPLETING master ended: killed by SIGTERM[\s\S]*COMPLETING -> PENDING requeued/, 'the timeline says what happened');

  const held = await d.cli('scontrol', 'requeuehold', String(id));
  t.equal(held.code, 0, held.stderr);
  t.same((await d.cli('squeue', ...FMT, '-j', String(id))).stdout.trim(), `${id} PD JobHeldUser`, 'an ended job back in the queue, held');
  const pending = await d.cli('scontrol', 'requeue', String(id));
  t.equal(pending.code, 1);
  t.match(pending.stderr, new RegExp(`^scontrol: error: requeue job ${id}: Job is pending execution for job ${id}`));
  t.equal((await d.cli('scancel', String(id))).code, 0);

  const never = Number((await d.cli('sbatch', '--parsable', '--no-requeue', '--wrap', 'true')).stdout.trim());
  await d.waitForState(never, ['COMPLETED']);
  const refused = await d.cli('scontrol', 'requeue', String(never));
  t.equal(refused.code, 1);
  t.match(refused.stderr, /Requested operation is presently disabled for job \d+ \(it was submitted with --no-requeue\)/);
});

t.test('squeue --start and expected_start: a pending job\'s forecast from the running jobs\' time limits; N/A when none can be given', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const go = path.join(d.dataDir, 'go');
  const hold = d.writeScript('hold.sh', `#!/bin/bash\n${untilFileExists(go)}\n`);
  const sub = async (...argv: string[]) => {
    const r = await d.cli('sbatch', '--parsable', ...argv);
    t.equal(r.code, 0, r.stderr);
    return Number(r.stdout.trim());
  };
  const running = await sub('-N8', '--exclusive', '-t', '10', hold); // the whole cluster for 10 minutes
  await d.waitForState(running, ['RUNNING']);
  // every job wants the whole cluster: none can backfill, the order is the queue's
  const next = await sub('-N8', '--exclusive', '-t', '5', hold);
  const endless = await sub('-N8', '--exclusive', hold); // no limit: what comes after it cannot be told
  const after = await sub('-N8', '--exclusive', '-t', '5', hold);
  const held = await sub('-H', '-N1', '-t', '5', hold);
  const job = (id: number) => d.api('GET', `/api/v1/jobs/${id}`).then((r) => r.body);
  // the forecast counts from the allocation's start, a moment before the master's (start_time)
  const start = Date.parse((await job(running)).start_time);
  const near = (iso: string | null, at: number, what: string) => t.ok(iso !== null && Math.abs(Date.parse(iso) - at) < 60_000, `${what}: ${iso}`);
  near((await job(next)).expected_start, start + 10 * 60_000, 'when the running job reaches its limit');
  near((await job(endless)).expected_start, start + 15 * 60_000, 'a job without a limit gets its start too, when the one before reaches its');
  t.equal((await job(after)).expected_start, null, 'behind a job that never ends: none');
  t.equal((await job(held)).expected_start, null, 'held: none');
  t.equal((await job(running)).expected_start, null, 'running: none (it has its start_time)');
  const listed = (await d.api('GET', '/api/v1/jobs?state=PENDING,ALLOCATING')).body.jobs as { job_id: number; expected_start: string | null }[];
  t.equal(listed.find((j) => j.job_id === next)?.expected_start, (await job(next)).expected_start, 'in the list too');

  const r = await d.cli('squeue', '--start');
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.match(lines[0], /^\s*JOBID PARTITION\s+NAME\s+USER ST\s+START_TIME\s+NODES NODELIST\(REASON\)$/);
  t.equal(lines.length, 5, 'the header and the 4 pending jobs, not the running one');
  const p = (n: number) => String(n).padStart(2, '0');
  const at = new Date((await job(next)).expected_start);
  const local = `${at.getFullYear()}-${p(at.getMonth() + 1)}-${p(at.getDate())}T${p(at.getHours())}:${p(at.getMinutes())}:${p(at.getSeconds())}`;
  t.match(lines.find((l) => l.trim().startsWith(`${next} `)), new RegExp(` (PD|CF) ${local} `));
  t.match(lines.find((l) => l.trim().startsWith(`${after} `)), / (PD|CF)\s+N\/A /);
  fs.writeFileSync(go, '');
});
