/**
 * grm squeue: squeue's common options over GET /api/v1/jobs, every page of it. Lines are
 * printed a page at a time, so 20,000 jobs are all shown and never held at once.
 */
import { Command, Option } from 'commander';
import { JOB_STATES, TERMINAL_STATES } from '../../jobs/job-types.js';
import type { ApiClient } from '../api-client.js';
import type { JobView } from '../format.js';
import type { CliIo } from '../io.js';
import { DEFAULT_FORMAT, LONG_FORMAT, expandArrayRecord, formatHeader, formatJobLine, parseSqueueFormat } from '../squeue-format.js';

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
}

/** The query: the filters go to the daemon, which parses states and ids in SLURM's words. */
export function squeueQuery(o: SqueueOptions, me: string): URLSearchParams {
  const params = new URLSearchParams();
  const allStates = o.all || o.states?.trim().toLowerCase() === 'all';
  if (!allStates) params.set('state', o.states ?? NOT_ENDED.join(','));
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
    .option('-r, --array', "one line per array task, a pending array's tasks too")
    .option('--json', 'print JSON')
    .action(async (o: SqueueOptions) => {
      const api = client();
      const params = squeueQuery(o, api.userName);
      if (o.json) {
        const jobs: JobView[] = [];
        for await (const page of api.jobPages<JobView>(params)) jobs.push(...page);
        io.stdout(`${JSON.stringify({ jobs }, null, 2)}\n`);
        return;
      }
      const format = parseSqueueFormat(o.format ?? (o.long ? LONG_FORMAT : (io.env.SQUEUE_FORMAT ?? DEFAULT_FORMAT)));
      if (!o.noheader) io.stdout(`${formatHeader(format)}\n`);
      const now = Date.now();
      for await (const page of api.jobPages<JobView>(params)) {
        const rows = o.array ? page.flatMap(expandArrayRecord) : page;
        if (rows.length > 0) io.stdout(`${rows.map((j) => formatJobLine(format, j, now)).join('\n')}\n`);
      }
    });
}
