/**
 * grm scancel: job ids (12, 12_7, 12_[3-5]) and/or scancel's filters (-u, --me, -t, -n, -p).
 * With filters, every job matching them is cancelled (listed page by page); with ids and
 * filters, only the ids that match, as scancel does.
 */
import { Command } from 'commander';
import { parseJobIdSpec } from '../../sbatch/array-spec.js';
import { isGrmError } from '../../errors.js';
import { CliError, type ApiClient } from '../api-client.js';
import type { JobView } from '../format.js';
import type { CliIo } from '../io.js';

interface ScancelOptions {
  user?: string;
  me?: boolean;
  state?: string;
  name?: string;
  partition?: string;
}

const hasFilter = (o: ScancelOptions) => Boolean(o.user || o.me || o.state || o.name || o.partition);

/** What to DELETE for a listed job: its own id, or an array record's tasks not started. */
function targetOf(job: JobView): string {
  if (job.array_job_id === job.job_id && job.array_task_id === null && job.array_task_string) return `${job.job_id}_[${job.array_task_string}]`;
  return String(job.job_id);
}

async function matching(api: ApiClient, o: ScancelOptions, ids: string[]): Promise<string[]> {
  const params = new URLSearchParams({ state: o.state ?? 'PENDING,ALLOCATING,RUNNING,COMPLETING' });
  const users = [o.user, o.me ? await api.me() : undefined].filter((u): u is string => Boolean(u));
  if (users.length) params.set('user', users.join(','));
  if (o.name) params.set('name', o.name);
  if (o.partition) params.set('partition', o.partition);
  if (ids.length) params.set('ids', ids.join(','));
  const targets: string[] = [];
  for await (const page of api.jobPages<JobView>(params)) targets.push(...page.map(targetOf));
  return targets;
}

export function scancelCommand(io: CliIo, client: () => ApiClient, fail: () => void): Command {
  return new Command('scancel')
    .description('cancel jobs, like scancel: ids (12, 12_7, 12_[3-5]) and/or filters')
    .argument('[ids...]', 'job ids, array tasks')
    .option('-u, --user <users>', 'the jobs of these users')
    .option('--me', 'my jobs')
    .option('-t, --state <states>', 'only jobs in these states (PENDING/PD, RUNNING/R, ...)')
    .option('-n, --name <names>', 'only jobs with these names')
    .option('-p, --partition <partitions>', 'only jobs in these partitions')
    .action(async (ids: string[], o: ScancelOptions) => {
      const valid: string[] = [];
      for (const id of ids) {
        try {
          parseJobIdSpec(id);
          valid.push(id);
        } catch (e) {
          if (!isGrmError(e)) throw e;
          io.stderr(`scancel: error: Invalid job id ${id} (use JOBID, JOBID_TASK or JOBID_[TASKS], e.g. 12, 12_7 or 12_[1,3-5])\n`);
          fail();
        }
      }
      if (!hasFilter(o) && ids.length === 0) throw new CliError('No job identification provided: give job ids, or a filter such as --me or -u USER');
      const api = client();
      const targets = hasFilter(o) ? (valid.length || ids.length === 0 ? await matching(api, o, valid) : []) : valid;
      for (const target of targets) {
        try {
          await api.request('DELETE', `/api/v1/jobs/${encodeURIComponent(target)}`);
        } catch (e) {
          if (!(e instanceof CliError) || e.code === 'E_DAEMON_UNREACHABLE') throw e;
          io.stderr(`scancel: error: Kill job error on job id ${target}: ${e.message}\n`);
          fail();
        }
      }
    });
}
