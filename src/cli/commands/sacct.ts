/**
 * grm sacct: sacct's common options over GET /api/v1/jobs, every page of it. GRM keeps its
 * jobs' records itself, so "accounting" is the job table: one line per job (GRM runs no
 * steps, so there are no .batch/.extern lines and -X changes nothing).
 */
import { Command, Option } from 'commander';
import { parseSlurmTime } from '../../sbatch/slurm-units.js';
import type { ApiClient } from '../api-client.js';
import { CliError } from '../api-client.js';
import type { JobView } from '../format.js';
import type { CliIo } from '../io.js';
import {
  BRIEF_FIELDS,
  DEFAULT_FIELDS,
  formatFieldHelp,
  formatSacctHeader,
  formatSacctLine,
  parseSacctFormat,
  sacctTime,
  type SacctMode,
} from '../sacct-format.js';
import { terminalSafe } from '../terminal-safe.js';

export interface SacctOptions {
  jobs?: string;
  user?: string;
  allusers?: boolean;
  state?: string;
  starttime?: string;
  endtime?: string;
  name?: string;
  partition?: string;
  format?: string;
  brief?: boolean;
  parsable?: boolean;
  parsable2?: boolean;
  noheader?: boolean;
  allocations?: boolean;
  helpformat?: boolean;
  json?: boolean;
}

/** How many jobs one request asks for. */
const PAGE_SIZE = 1000;

/**
 * sacct's -S/-E window. -S defaults to midnight today, or to any time with -j; -E to now
 * (sent as nothing: no job is submitted after now). Unlike sacct, -s does not move the
 * default -S to now: that window would hold no ended job.
 */
export function sacctWindow(o: SacctOptions, now: Date): { since?: Date; until?: Date } {
  const since = o.starttime
    ? parseSlurmTime(o.starttime, now, { option: '--starttime', past: true })
    : o.jobs
      ? undefined
      : new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const until = o.endtime ? parseSlurmTime(o.endtime, now, { option: '--endtime', past: true }) : undefined;
  if (since && until && since > until) {
    throw new CliError(`Start time (${sacctTime(since.toISOString())}) requested is after end time (${sacctTime(until.toISOString())}).`);
  }
  return { ...(since ? { since } : {}), ...(until ? { until } : {}) };
}

/** The query: the daemon parses states and ids in SLURM's words. */
export function sacctQuery(o: SacctOptions, me: string, now: Date): URLSearchParams {
  const params = new URLSearchParams();
  if (o.state) {
    params.set('state', o.state);
    params.set('state_at', 'window');
  }
  // only your own jobs, as sacct for a user who is not root, unless -a, -u, or -j names jobs
  if (o.user !== undefined && o.user !== '-1') params.set('user', o.user);
  else if (o.user === undefined && !o.allusers && !o.jobs) params.set('user', me);
  if (o.jobs) params.set('ids', o.jobs);
  if (o.name) params.set('name', o.name);
  if (o.partition) params.set('partition', o.partition);
  const { since, until } = sacctWindow(o, now);
  if (since) params.set('since', since.toISOString());
  if (until) params.set('until', until.toISOString());
  return params;
}

/** Prints the jobs a page at a time; the page size is a parameter so tests can cross pages. */
export async function runSacct(io: CliIo, api: ApiClient, o: SacctOptions, now: Date, pageSize = PAGE_SIZE): Promise<void> {
  if (o.helpformat) {
    io.stdout(`${formatFieldHelp()}\n`);
    return;
  }
  const params = sacctQuery(o, await api.me(), now);
  if (o.json) {
    const jobs: JobView[] = [];
    for await (const page of api.jobPages<JobView>(params, pageSize)) jobs.push(...page);
    io.stdout(`${JSON.stringify({ jobs }, null, 2)}\n`);
    return;
  }
  const columns = parseSacctFormat(o.format ?? (o.brief ? BRIEF_FIELDS : (io.env.SACCT_FORMAT ?? DEFAULT_FIELDS)));
  const mode: SacctMode = o.parsable2 ? 'parsable2' : o.parsable ? 'parsable' : 'fixed';
  // the header once the daemon has answered, so a refused query prints only its error
  let header = o.noheader ? [] : formatSacctHeader(columns, mode);
  for await (const page of api.jobPages<JobView>(params, pageSize)) {
    const text = [...header, ...terminalSafe(page).map((j) => formatSacctLine(columns, j, now.getTime(), mode))];
    header = [];
    if (text.length > 0) io.stdout(`${text.join('\n')}\n`);
  }
}

export function sacctCommand(io: CliIo, client: () => ApiClient): Command {
  return new Command('sacct')
    .description("jobs, ended ones too, like sacct (every job matching: the list is paged, never cut; GRM runs no steps, so one line per job)")
    .option('-j, --jobs <ids>', 'job ids: 12, 12_7, 12_[1-3] (comma-separated); any user, any time unless -u/-S')
    .option('-u, --user <users>', 'only these users (comma-separated; -1: all)')
    .option('-a, --allusers', "every user's jobs (default: only yours)")
    .option('-s, --state <states>', 'only jobs in these states during the -S/-E window (an end state: ended in it; R: ran in it; PD: waited in it), long or short: CA,CD,F,TO,NF,PD,R,...')
    .option('-S, --starttime <time>', 'jobs not ended before this time (default: midnight today; with -j: any). ' +
      'Forms: YYYY-MM-DD[THH:MM[:SS]], MM/DD[/YY], HH:MM[:SS], now[-N{seconds|minutes|hours|days|weeks}], midnight, today, ...')
    .option('-E, --endtime <time>', 'jobs submitted at or before this time (default: now); same forms as -S')
    .option('--name <names>', 'only these job names (comma-separated)')
    .option('-r, --partition <partitions>', 'only these partitions (comma-separated)')
    .addOption(new Option('-o, --format <fields>', `fields, comma-separated, each Field or Field%width (default "${DEFAULT_FIELDS}"; env SACCT_FORMAT; -e lists them)`))
    .option('-b, --brief', `the brief format: "${BRIEF_FIELDS}"`)
    .option('-e, --helpformat', 'list the fields -o takes')
    .option('-p, --parsable', "'|' after every field, no padding")
    .option('-P, --parsable2', "'|' between fields, no padding, none at the end")
    .option('-n, --noheader', 'no header lines')
    .option('-X, --allocations', 'only the jobs, not their steps (GRM has no step lines: the output is the same)')
    .option('--json', 'print JSON')
    .action(async (o: SacctOptions) => runSacct(io, client(), o, new Date()));
}
