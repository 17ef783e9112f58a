import t from 'tap';
import { sacctQuery, sacctWindow } from '../../src/cli/commands/sacct.js';
import type { JobView } from '../../src/cli/format.js';
import {
  DEFAULT_FIELDS,
  FIELD_NAMES,
  exitCode,
  formatFieldHelp,
  formatSacctHeader,
  formatSacctLine,
  parseSacctFormat,
  sacctDuration,
  sacctTime,
} from '../../src/cli/sacct-format.js';
import { parseSlurmTime } from '../../src/sbatch/slurm-units.js';

// local times: sacct reads and prints the user's wall clock
const NOW = new Date(2026, 11, 2, 12, 0, 0);
const local = (...a: [number, number, number, number?, number?, number?]) => new Date(a[0], a[1], a[2], a[3] ?? 0, a[4] ?? 0, a[5] ?? 0);
const job = (over: Partial<JobView> = {}): JobView => ({
  job_id: 7,
  display_id: '7',
  name: 'train',
  user_name: 'alice',
  job_state: 'COMPLETED',
  state_reason: 'None',
  partition: 'batch',
  submit_time: local(2026, 11, 2, 10).toISOString(),
  start_time: local(2026, 11, 2, 10, 0, 5).toISOString(),
  end_time: local(2026, 11, 2, 11, 1, 7).toISOString(),
  time_limit: 90,
  nodes: 'node[01-02]',
  node_count: 2,
  exit_code: 0,
  exit_signal: null,
  array_job_id: null,
  array_task_id: null,
  array_task_string: null,
  // the summary a list carries: 4 tasks × 2 CPUs each
  account: 'proj',
  cpus: 8,
  ...over,
});
const fixed = (spec: string, j: JobView) => formatSacctLine(parseSacctFormat(spec), j, NOW.getTime(), 'fixed');

t.test("sacct's default columns, widths and dashes, to the column", async (t) => {
  const f = parseSacctFormat(DEFAULT_FIELDS);
  t.same(formatSacctHeader(f, 'fixed'), [
    'JobID           JobName  Partition    Account  AllocCPUS      State ExitCode',
    '------------ ---------- ---------- ---------- ---------- ---------- --------',
  ]);
  t.equal(formatSacctLine(f, job(), NOW.getTime(), 'fixed'), '7                 train      batch       proj          8  COMPLETED      0:0');
});

t.test('a job that never ran: no CPUs, no nodes, Unknown times, 0:0', async (t) => {
  const never = job({ job_state: 'CANCELLED', start_time: null, nodes: null, node_count: 0, end_time: NOW.toISOString(), account: null, cpus: 1 });
  t.equal(fixed('JobID,AllocCPUS,AllocNodes,NNodes,NodeList,Start,Elapsed,ExitCode,Account', never),
    '7                     0          0        1   None assigned             Unknown   00:00:00      0:0');
});

t.test('text is cut with "+", times cut plainly, numbers never; %N sets the width, negative left-justifies', async (t) => {
  t.equal(fixed('JobName', job({ name: 'a-very-long-job-name' })), 'a-very-lo+');
  t.equal(fixed('JobName%30', job({ name: 'a-very-long-job-name' })), '          a-very-long-job-name');
  t.equal(fixed('JobName%-8,State%4', job()), 'train    COM+');
  t.equal(fixed('Submit%10', job()), '2026-12-02');
  t.equal(fixed('AllocCPUS%1', job()), '8');
  t.same(formatSacctHeader(parseSacctFormat('JobName%4'), 'fixed'), ['JobN', '----'], 'a header is cut, without "+"');
});

t.test('-p ends every field with |, -P separates them; neither pads nor cuts', async (t) => {
  const f = parseSacctFormat('JobID,JobName%3,State');
  t.same(formatSacctHeader(f, 'parsable'), ['JobID|JobName|State|']);
  t.same(formatSacctHeader(f, 'parsable2'), ['JobID|JobName|State']);
  t.equal(formatSacctLine(f, job(), NOW.getTime(), 'parsable'), '7|train|COMPLETED|');
  t.equal(formatSacctLine(f, job(), NOW.getTime(), 'parsable2'), '7|train|COMPLETED');
});

t.test('every field the issue names, in SLURM spelling', async (t) => {
  const spec = 'JobID,JobIDRaw,JobName,Partition,Account,AllocCPUS,AllocNodes,NNodes,NodeList,State,ExitCode,Submit,Start,End,Elapsed,Timelimit,User,Reason';
  const task = job({ job_id: 9, display_id: '5_3', array_job_id: 5, array_task_id: 3, job_state: 'FAILED', state_reason: 'NonZeroExitCode', exit_code: 3 });
  t.equal(formatSacctLine(parseSacctFormat(spec), task, NOW.getTime(), 'parsable2'),
    `5_3|9|train|batch|proj|8|2|2|node[01-02]|FAILED|3:0|${sacctTime(task.submit_time)}|${sacctTime(task.start_time)}|${sacctTime(task.end_time)}|01:01:02|01:30:00|alice|NonZeroExitCode`);
  t.equal(sacctTime(local(2026, 0, 5, 9, 3, 4).toISOString()), '2026-01-05T09:03:04');
});

t.test('names in any case or any beginning of one; ALL; an unknown one lists the known', async (t) => {
  t.same(parseSacctFormat('jobid, STATE ,exit').map((c) => c.field.name), ['JobID', 'State', 'ExitCode']);
  t.same(parseSacctFormat('all').map((c) => c.field.name), FIELD_NAMES);
  t.throws(() => parseSacctFormat('JobID,Bogus'), { message: /^Invalid field requested: "Bogus" \(known: Account AllocCPUS .* WorkDir\)$/ });
  t.throws(() => parseSacctFormat('JobName%x'), { message: /^Invalid field width in "JobName%x"/ });
  t.match(formatFieldHelp().split('\n')[0], /^Account\s+AllocCPUS\s+AllocNodes\s+Comment$/);
});

t.test('ExitCode is code:signal; a running job has elapsed time to now and End Unknown', async (t) => {
  t.equal(exitCode(job({ exit_code: null, exit_signal: 'SIGKILL' })), '0:9');
  t.equal(exitCode(job({ exit_code: 2 })), '2:0');
  const running = job({ job_state: 'RUNNING', end_time: null, start_time: local(2026, 11, 1, 11, 0, 0).toISOString() });
  t.equal(fixed('Elapsed,End', running), '1-01:00:00             Unknown');
  t.equal(sacctDuration(59), '00:00:59');
  t.equal(fixed('Timelimit', job({ time_limit: null })), ' UNLIMITED');
});

t.test('-S/-E take SLURM time forms, looking back from now', async (t) => {
  const at = (s: string) => parseSlurmTime(s, NOW, { option: '--starttime', past: true });
  t.same(at('2026-11-30'), local(2026, 10, 30));
  t.same(at('2026-11-30T08:15'), local(2026, 10, 30, 8, 15));
  t.same(at('2026-11-30T08:15:09'), local(2026, 10, 30, 8, 15, 9));
  t.same(at('14:00'), local(2026, 11, 2, 14), 'a time is today, even later today');
  t.same(at('09:30:15'), local(2026, 11, 2, 9, 30, 15));
  t.same(at('now'), NOW);
  t.same(at('now-1hours'), local(2026, 11, 2, 11));
  t.same(at('now-2days'), local(2026, 10, 30, 12));
  t.same(at('midnight'), local(2026, 11, 2));
  t.same(at('today'), local(2026, 11, 2));
  t.same(at('12/25'), local(2025, 11, 25), 'a date ahead this year is last year');
  t.same(at('11/25'), local(2026, 10, 25));
  t.throws(() => at('yesterday'), { message: /^Invalid --starttime specification 'yesterday': use now\[\{\+\|-\}count/ });
  t.same(parseSlurmTime('14:00', NOW, { option: '--begin' }), local(2026, 11, 2, 14), 'sbatch --begin still looks ahead');
  t.same(parseSlurmTime('11:00', NOW, { option: '--begin' }), local(2026, 11, 3, 11));
});

t.test("the window's defaults: midnight today to now; with -j, any time", async (t) => {
  t.same(sacctWindow({}, NOW), { since: local(2026, 11, 2) });
  t.same(sacctWindow({ jobs: '12' }, NOW), {});
  t.same(sacctWindow({ jobs: '12', starttime: 'now-1hours' }, NOW), { since: local(2026, 11, 2, 11) });
  t.same(sacctWindow({ starttime: '2026-12-01', endtime: '2026-12-01T18:00' }, NOW), { since: local(2026, 11, 1), until: local(2026, 11, 1, 18) });
  t.throws(() => sacctWindow({ starttime: 'now', endtime: 'now-1hours' }, NOW), {
    message: 'Start time (2026-12-02T12:00:00) requested is after end time (2026-12-02T11:00:00).',
  });
  t.throws(() => sacctWindow({ endtime: 'now-13hours' }, NOW), { message: /^Start time \(2026-12-02T00:00:00\) requested is after end time/ });
});

t.test('the query: your jobs unless -a, -u or -j; states, names, partitions and the window go to the daemon', async (t) => {
  const q = (o: Parameters<typeof sacctQuery>[0]) => Object.fromEntries(sacctQuery(o, 'me', NOW));
  const since = local(2026, 11, 2).toISOString();
  t.same(q({}), { user: 'me', since });
  t.same(q({ allusers: true }), { since });
  t.same(q({ user: 'bob,carol' }), { user: 'bob,carol', since });
  t.same(q({ user: '-1' }), { since });
  t.same(q({ jobs: '12,13_2' }), { ids: '12,13_2' }, '-j: any user, any time');
  t.same(q({ state: 'CD,F', name: 'a', partition: 'batch', endtime: 'now' }), {
    state: 'CD,F',
    state_at: 'window',
    user: 'me',
    name: 'a',
    partition: 'batch',
    since,
    until: NOW.toISOString(),
  });
});
