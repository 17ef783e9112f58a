/** grm scontrol: hold, uhold, release and show job, as scontrol(1) spells them. */
import { Command } from 'commander';
import { parseJobIdSpec } from '../../sbatch/array-spec.js';
import { CliError, type ApiClient } from '../api-client.js';
import { formatJobDetail, type JobDetailView } from '../format.js';
import type { CliIo } from '../io.js';

/** A whole job or array by id: holds apply to the array's record (its tasks not started). */
function wholeJobId(text: string): number {
  const spec = parseJobIdSpec(text);
  if (spec.tasks !== null) {
    throw new CliError(`Invalid job id specified: ${text}: hold and release take a job or a whole array (${spec.jobId}), not single tasks`);
  }
  return spec.jobId;
}

/** The job id of `12` or of one array task `12_7` (its own job id once started). */
async function jobIdOf(api: ApiClient, text: string): Promise<number> {
  const spec = parseJobIdSpec(text);
  if (spec.tasks === null) return spec.jobId;
  if (spec.tasks.length !== 1) throw new CliError(`Invalid job id specified: ${text}: show one job or one task`);
  const { jobs } = await api.request<{ jobs: { job_id: number }[] }>('GET', `/api/v1/jobs?state=all&ids=${encodeURIComponent(text)}`);
  // a task not started yet is part of its array's record
  return jobs[0]?.job_id ?? spec.jobId;
}

export function scontrolCommand(io: CliIo, client: () => ApiClient, fail: () => void): Command {
  const scontrol = new Command('scontrol').description('hold, release and show jobs, like scontrol');
  const perJob = (verb: 'hold' | 'release', ids: string[]) => async () => {
    const api = client();
    for (const text of ids) {
      try {
        await api.request('POST', `/api/v1/jobs/${wholeJobId(text)}/${verb}`);
      } catch (e) {
        if (e instanceof CliError && e.code === 'E_DAEMON_UNREACHABLE') throw e;
        io.stderr(`scontrol: error: ${verb} job ${text}: ${(e as Error).message}\n`);
        fail();
      }
    }
  };
  for (const [verb, what] of [['hold', 'hold'], ['uhold', 'hold'], ['release', 'release']] as const) {
    scontrol
      .command(verb)
      .description(`${what === 'hold' ? 'keep pending jobs from starting (JobHeldUser)' : 'let held jobs start again'}`)
      .argument('<ids...>', 'job ids, comma- or space-separated')
      .action(async (ids: string[]) => perJob(what, ids.flatMap((i) => i.split(',')).filter(Boolean))());
  }
  scontrol
    .command('show')
    .description('show one job: scontrol show job ID')
    .argument('<what>', 'job')
    .argument('<id>', 'job id')
    .option('--json', 'print JSON')
    .action(async (what: string, id: string, o: { json?: boolean }) => {
      if (what !== 'job') throw new CliError(`invalid entity: ${what}: only "show job ID" is available`);
      const api = client();
      const job = await api.request<JobDetailView>('GET', `/api/v1/jobs/${await jobIdOf(api, id)}`);
      io.stdout(o.json ? `${JSON.stringify(job, null, 2)}\n` : `${formatJobDetail(job, Date.now())}\n`);
    });
  return scontrol;
}
