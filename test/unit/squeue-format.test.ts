import t from 'tap';
import { DEFAULT_FORMAT, expandArrayRecord, formatHeader, formatJobLine, longFormatToSpec, parseSqueueFormat, slurmTime, sortJobs } from '../../src/cli/squeue-format.js';
import type { JobView } from '../../src/cli/format.js';
import { arrayVars, displayJobId } from '../../src/jobs/job-arrays.js';
import type { JobRecord } from '../../src/jobs/job-types.js';

const NOW = Date.parse('2026-12-02T12:00:00Z');
const job = (over: Partial<JobView> = {}): JobView => ({
  job_id: 7,
  display_id: '7',
  name: 'a-long-job-name',
  user_name: 'alice',
  job_state: 'RUNNING',
  state_reason: 'None',
  partition: 'batch',
  submit_time: '2026-12-02T11:00:00Z',
  start_time: '2026-12-02T11:58:55Z',
  end_time: null,
  time_limit: 30,
  nodes: 'node[01-02]',
  node_count: 2,
  exit_code: null,
  exit_signal: null,
  array_job_id: null,
  array_task_id: null,
  array_task_string: null,
  nice: 3,
  ...over,
});

t.test("squeue's default format, to the column: right-justified, cut to the size", async (t) => {
  const f = parseSqueueFormat(DEFAULT_FORMAT);
  t.equal(formatHeader(f), '             JOBID PARTITION     NAME     USER ST       TIME  NODES NODELIST(REASON)');
  t.equal(formatJobLine(f, job(), NOW), '                 7     batch a-long-j    alice  R       1:05      2 node[01-02]');
  t.equal(formatJobLine(f, job({ job_state: 'PENDING', state_reason: 'Priority', nodes: null, node_count: 0, start_time: null }), NOW), '                 7     batch a-long-j    alice PD       0:00      1 (Priority)');
});

t.test('sizes, justification, literal text, %%', async (t) => {
  t.equal(formatJobLine(parseSqueueFormat('%i|%5j|%.5j|%j%%'), job(), NOW), '7|a-lon|a-lon|a-long-job-name%');
  t.equal(formatJobLine(parseSqueueFormat('%3u.'), job(), NOW), 'ali.');
  t.equal(formatJobLine(parseSqueueFormat('%T %t %l %L %M %y %D %C'), job(), NOW), 'RUNNING R 30:00 28:55 1:05 3 2 2');
  t.equal(formatJobLine(parseSqueueFormat('%Q %q'), job({ priority: 4242, qos: 'high' }), NOW), '4242 high', '%Q: the queue policy priority');
  t.equal(formatJobLine(parseSqueueFormat('%l %L'), job({ time_limit: null }), NOW), 'UNLIMITED UNLIMITED');
  t.equal(formatJobLine(parseSqueueFormat('%S %e'), job(), NOW), `${slurmTime('2026-12-02T11:58:55Z')} N/A`);
  t.match(slurmTime('2026-12-02T11:58:55.123Z'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/, 'to the second, no zone');
});

t.test('bad formats are refused, naming the field', async (t) => {
  t.throws(() => parseSqueueFormat('%i %z'), { message: /^Invalid job format specification: %z \(known: %A / });
  t.throws(() => parseSqueueFormat('%i %'), { message: /a lone % at the end/ });
});

t.test('array ids: folded, per task, SLURM_ARRAY_*', async (t) => {
  const f = parseSqueueFormat('%i %F %K');
  const record = job({ job_id: 12, display_id: '12_[3-5%2]', array_job_id: 12, array_task_string: '3-5' });
  t.equal(formatJobLine(f, record, NOW), '12_[3-5%2] 12 3-5');
  t.same(expandArrayRecord(record).map((j) => formatJobLine(f, j, NOW)), ['12_3 12 3', '12_4 12 4', '12_5 12 5']);
  t.same(expandArrayRecord(job()).length, 1, 'other jobs are themselves');
  const base = { id: 12, arrayJobId: 12, arrayTaskId: null, arrayMaxRunning: null } as const;
  t.equal(displayJobId({ ...base, arrayTasks: '1-9:2' }), '12_[1,3,5,7,9]', "SLURM's spelling of a stepped range");
  t.equal(displayJobId({ ...base, arrayTasks: '4', arrayMaxRunning: 2 }), '12_4');
  t.equal(displayJobId({ ...base, arrayTaskId: 5, arrayTasks: null }), '12_5');
  t.equal(displayJobId({ ...base, arrayJobId: null, arrayTasks: null }), '12');
  const task = { arrayJobId: 12, arrayTaskId: 5, description: { array: '1-9:2%3' } } as unknown as JobRecord;
  t.same(arrayVars(task), { arrayJobId: '12', arrayTaskId: 5, arrayTaskCount: 5, arrayTaskMin: 1, arrayTaskMax: 9, arrayTaskStep: 2 });
  t.same(arrayVars({ ...task, description: { array: '1,2,7' } } as JobRecord).arrayTaskStep, 1, 'no single step: 1');
});

t.test('-O/--Format: long names, 20 wide unless sized', async (t) => {
  t.equal(longFormatToSpec('JobID,name:12,State:.8'), '%20i %12j %.8T');
  t.equal(formatJobLine(parseSqueueFormat(longFormatToSpec('jobid:4,username:6,timelimit')), job(), NOW), '7    alice  30:00');
  t.throws(() => longFormatToSpec('jobid,frobs'), { message: /^Invalid job format specification: frobs \(known: account, / });
  t.throws(() => longFormatToSpec('name:wide'), { message: /the size after ':' is a number/ });
});

t.test('--sort: by % types, "-" descending, numbers as numbers, ties in id order', async (t) => {
  const jobs = [job({ job_id: 10, job_state: 'PENDING' }), job({ job_id: 9, job_state: 'RUNNING' }), job({ job_id: 100, job_state: 'PENDING' }), job({ job_id: 2, job_state: 'RUNNING' })];
  t.same(sortJobs(jobs, 'A', NOW).map((j) => j.job_id), [2, 9, 10, 100], 'numerically, not 10 < 100 < 2 < 9');
  t.same(sortJobs(jobs, '-T,A', NOW).map((j) => j.job_id), [2, 9, 10, 100], 'RUNNING before PENDING, then by id');
  t.same(sortJobs(jobs, 'T', NOW).map((j) => j.job_id), [10, 100, 9, 2], 'equal keys keep their order');
  t.throws(() => sortJobs(jobs, 'x', NOW), { message: /Invalid sort specification: x/ });
});
