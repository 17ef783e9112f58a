/**
 * grm squeue: squeue's common options over GET /api/v1/jobs, every page of it. Lines are
 * printed a page at a time, so 20,000 jobs are all shown and never held at once.
 */
import { Command, Option } from 'commander';
import { JOB_STATES, TERMINAL_STATES } from '../../jobs/job-types.js';
import { CliError, type ApiClient } from '../api-client.js';
import type { JobView } from '../format.js';
import type { CliIo } from '../io.js';
import { terminalSafe } from '../terminal-safe.js';
import { DEFAULT_FORMAT, LONG_FORMAT, START_FORMAT, expandArrayRecord, formatHeader, formatJobLine, longFormatToSpec, parseSqueueFormat, sortJobs, type SqueueFormat } from '../squeue-format.js';

const NOT_ENDED = JOB_STATES.filter((s) => !TERMINAL_STATES.has(s));

interface SqueueOptions {
  user?: string;
  me?: boolean;
  partition?: string;
  states?: string;
  jobs?: string;
  name?: string;
  all?: boolean;
  noheader?: boolean;
  format?: string;
  long?: boolean;
  array?: boolean;
  json?: boolean;
  Format?: string;
  sort?: string;
  iterate?: string;
  start?: boolean;
}

/** The query: the filters go to the daemon, which parses states and ids in SLURM's words. */
export function squeueQuery(o: SqueueOptions, me: string): URLSearchParams {
  const params = new URLSearchParams();
  const allStates = o.all || o.states?.trim().toLowerCase() === 'all';
  if (!allStates) params.set('state', o.states ?? (o.start ? 'PENDING,ALLOCATING' : NOT_ENDED.join(',')));
  const users = [o.user, o.me ? me : undefined].filter((u): u is string => Boolean(u));
  if (users.length) params.set('user', users.join(','));
  if (o.partition) params.set('partition', o.partition);
  if (o.name) params.set('name', o.name);
  if (o.jobs) params.set('ids', o.jobs);
  return params;
}

export function squeueCommand(io: CliIo, client: () => ApiClient): Command {
  return new Command('squeue')
    .description('list jobs, like squeue (every job matching: the list is paged, never cut)')
    .helpOption('--help', 'display help for command')
    .option('-u, --user <users>', 'only these users (comma-separated)')
    .option('--me', 'only my jobs (same as --user=$USER)')
    .option('-p, --partition <partitions>', 'only these partitions (comma-separated)')
    .option('-t, --states <states>', `states, long or short (PD,R), or "all" (default: ${NOT_ENDED.join(',')})`)
    .option('-j, --jobs <ids>', 'job ids: 12, 12_7, 12_[1-3] (comma-separated)')
    .option('-n, --name <names>', 'only these job names (comma-separated)')
    .option('-a, --all', 'jobs in every state, ended ones too (same as -t all)')
    .option('-h, --noheader', 'no header line')
    .addOption(new Option('-o, --format <format>', `fields as %[.][size]type (default "${DEFAULT_FORMAT}"; env SQUEUE_FORMAT)`))
    .option('-l, --long', `the long format: "${LONG_FORMAT}"`)
    .option('--start', `pending jobs with their expected start, replayed from running jobs' time limits (format "${START_FORMAT}")`)
    .option('-r, --array', "one line per array task, a pending array's tasks too")
    .option('-O, --Format <fields>', 'fields by name: jobid,name:30,state,... (each 20 wide unless sized)')
    .option('-S, --sort <types>', 'order by these % types, "-" for descending, e.g. -t,i (reads every page first)')
    .option('-i, --iterate <seconds>', 'print again every so many seconds, until interrupted')
    .option('--json', 'print JSON')
    .action(async (o: SqueueOptions) => {
      const api = client();
      const params = squeueQuery(o, o.me ? await api.me() : '');
      if (o.json) {
        const jobs: JobView[] = [];
        for await (const page of api.jobPages<JobView>(params)) jobs.push(...page);
        io.stdout(`${JSON.stringify({ jobs }, null, 2)}\n`);
        return;
      }
      const spec = o.Format !== undefined ? longFormatToSpec(o.Format) : (o.format ?? (o.start ? START_FORMAT : o.long ? LONG_FORMAT : (io.env.SQUEUE_FORMAT ?? DEFAULT_FORMAT)));
      const format = parseSqueueFormat(spec);
      const seconds = o.iterate === undefined ? undefined : Number(o.iterate);
      if (seconds !== undefined && !(Number.isInteger(seconds) && seconds > 0)) throw new CliError(`invalid --iterate value ${o.iterate}: a whole number of seconds, at least 1`);
      for (;;) {
        if (seconds !== undefined) io.stdout(`${new Date().toString().slice(0, 24)}\n`);
        await printQueue(io, api, params, format, o);
        if (seconds === undefined) return;
        await new Promise((r) => setTimeout(r, seconds * 1000));
      }
    });
}

/** One listing: streamed a page at a time, or read whole when it must be sorted. */
async function printQueue(io: CliIo, api: ApiClient, params: URLSearchParams, format: SqueueFormat, o: SqueueOptions): Promise<void> {
  if (!o.noheader) io.stdout(`${formatHeader(format)}\n`);
  const now = Date.now();
  const print = (jobs: JobView[]) => {
    const safe = terminalSafe(jobs);
    const rows = o.array ? safe.flatMap(expandArrayRecord) : safe;
    if (rows.length > 0) io.stdout(`${rows.map((j) => formatJobLine(format, j, now)).join('\n')}\n`);
  };
  if (o.sort === undefined) {
    for await (const page of api.jobPages<JobView>(params)) print(page);
    return;
  }
  const all: JobView[] = [];
  for await (const page of api.jobPages<JobView>(params)) all.push(...page);
  print(sortJobs(all, o.sort, now));
}
