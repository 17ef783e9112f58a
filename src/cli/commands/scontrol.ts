/** grm scontrol: hold, uhold, release, requeue, requeuehold, update and show, as scontrol(1) spells them. */
import { Command } from 'commander';
import type { NodeUpdate } from '../../backends/resource-backend.js';
import { expandHostlist } from '../../hostlist/hostlist.js';
import type { JobDescription } from '../../jobs/job-types.js';
import { parseJobIdSpec } from '../../sbatch/array-spec.js';
import { parseSbatchArgs } from '../../sbatch/sbatch-options.js';
import { CliError, type ApiClient } from '../api-client.js';
import { formatJobDetail, formatNodeDetail, formatPartitionDetail, type JobDetailView, type NodeView, type PartitionView } from '../format.js';
import type { CliIo } from '../io.js';
import { terminalSafe } from '../terminal-safe.js';

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

/** The job id of `12` or of a started array task `12_7` (a task not started is pending: nothing to requeue). */
async function startedJobId(api: ApiClient, text: string): Promise<number> {
  const spec = parseJobIdSpec(text);
  if (spec.tasks === null) return spec.jobId;
  if (spec.tasks.length !== 1) throw new CliError(`Invalid job id specified: ${text}: requeue jobs or single tasks`);
  const { jobs } = await api.request<{ jobs: { job_id: number }[] }>('GET', `/api/v1/jobs?state=all&ids=${encodeURIComponent(text)}`);
  if (!jobs[0]) throw new CliError(`Job is pending execution for job ${text}`);
  return jobs[0].job_id;
}

/** scontrol update's field names (any case) and the sbatch option that parses each value. */
const UPDATE_OPTIONS: Record<string, string> = {
  timelimit: '--time',
  partition: '--partition',
  nice: '--nice',
  numnodes: '--nodes',
  dependency: '--dependency',
  starttime: '--begin',
  name: '--job-name',
  jobname: '--job-name',
};

/**
 * `JobId=12 TimeLimit=30 Nice=5 ...` → the job id and the request fields, each value parsed
 * by the sbatch option it corresponds to, so both take the same words and give the same errors.
 */
export function parseUpdateArgs(words: string[]): { jobId: number; changes: JobDescription } {
  let jobId: number | undefined;
  const argv: string[] = [];
  const changes: JobDescription = {};
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq <= 0) throw new CliError(`Invalid input: ${word}: give Field=Value, e.g. JobId=12 TimeLimit=30`);
    const [key, value] = [word.slice(0, eq).toLowerCase(), word.slice(eq + 1)];
    if (key === 'jobid' || key === 'job') jobId = wholeJobId(value);
    else if (key === 'dependency' && value === '') changes.dependency = '';
    else if (UPDATE_OPTIONS[key]) argv.push(`${UPDATE_OPTIONS[key]}=${value}`);
    else {
      throw new CliError(`Update of this parameter is not supported: ${word.slice(0, eq)} (GRM updates ${Object.keys(UPDATE_OPTIONS).filter((k) => k !== 'jobname').map((k) => k[0]!.toUpperCase() + k.slice(1)).join(', ')})`);
    }
  }
  if (jobId === undefined) throw new CliError('No job identification provided: give JobId=N');
  return { jobId, changes: { ...parseSbatchArgs(argv).description, ...changes } };
}

const NODE_STATES: Record<string, NodeUpdate['state']> = { down: 'down', drain: 'drain', resume: 'resume', idle: 'resume', undrain: 'resume' };

/** `NodeName=node[1-2] State=DRAIN Reason="disk"` → the nodes (a hostlist) and the change. */
export function parseNodeUpdateArgs(words: string[]): { nodes: string[]; update: NodeUpdate } {
  let nodes: string[] | undefined;
  let state: NodeUpdate['state'] | undefined;
  let reason: string | undefined;
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq <= 0) throw new CliError(`Invalid input: ${word}: give Field=Value, e.g. NodeName=node01 State=DRAIN Reason="disk"`);
    const [key, value] = [word.slice(0, eq).toLowerCase(), word.slice(eq + 1)];
    if (key === 'nodename') nodes = expandHostlist(value);
    else if (key === 'state') {
      state = NODE_STATES[value.toLowerCase()];
      if (!state) throw new CliError(`Invalid node state specified: ${value} (GRM sets DOWN, DRAIN or RESUME)`);
    } else if (key === 'reason') reason = value;
    else throw new CliError(`Update of this parameter is not supported: ${word.slice(0, eq)} (GRM updates a node's State and Reason)`);
  }
  if (!nodes || nodes.length === 0) throw new CliError('No node name provided: give NodeName=NAME');
  if (!state) throw new CliError('No node state provided: give State=DOWN, DRAIN or RESUME');
  return { nodes, update: { state, ...(reason !== undefined ? { reason } : {}) } };
}

export function scontrolCommand(io: CliIo, client: () => ApiClient, fail: () => void): Command {
  const scontrol = new Command('scontrol').description('hold, release, requeue, update and show jobs, like scontrol');
  // uhold is always a user hold; hold by an admin is an admin hold (JobHeldAdmin), as in scontrol
  const perJob = (verb: 'hold' | 'uhold' | 'release', ids: string[]) => async () => {
    const api = client();
    for (const text of ids) {
      try {
        const route = verb === 'uhold' ? 'hold' : verb;
        await api.request('POST', `/api/v1/jobs/${wholeJobId(text)}/${route}`, verb === 'uhold' ? { user: true } : undefined);
      } catch (e) {
        if (e instanceof CliError && e.code === 'E_DAEMON_UNREACHABLE') throw e;
        io.stderr(`scontrol: error: ${verb} job ${text}: ${(e as Error).message}\n`);
        fail();
      }
    }
  };
  const verbs = {
    hold: 'keep pending jobs from starting (JobHeldUser; JobHeldAdmin when an admin holds them)',
    uhold: 'keep pending jobs from starting, a hold their user may release (JobHeldUser)',
    release: 'let held jobs start again (an admin hold: admins only)',
  } as const;
  for (const verb of ['hold', 'uhold', 'release'] as const) {
    scontrol
      .command(verb)
      .description(verbs[verb])
      .argument('<ids...>', 'job ids, comma- or space-separated')
      .action(async (ids: string[]) => perJob(verb, ids.flatMap((i) => i.split(',')).filter(Boolean))());
  }
  for (const verb of ['requeue', 'requeuehold'] as const) {
    scontrol
      .command(verb)
      .description(`put jobs that run or ended back in the queue${verb === 'requeuehold' ? ', held (JobHeldUser)' : ''}`)
      .argument('<ids...>', 'job ids (12, 12_7), comma- or space-separated')
      .action(async (ids: string[]) => {
        const api = client();
        for (const text of ids.flatMap((i) => i.split(',')).filter(Boolean)) {
          try {
            await api.request('POST', `/api/v1/jobs/${await startedJobId(api, text)}/requeue`, { hold: verb === 'requeuehold' });
          } catch (e) {
            if (e instanceof CliError && e.code === 'E_DAEMON_UNREACHABLE') throw e;
            io.stderr(`scontrol: error: ${verb} job ${text}: ${(e as Error).message}\n`);
            fail();
          }
        }
      });
  }
  scontrol
    .command('update')
    .description(
      'change a job: JobId=N and TimeLimit=, Partition=, Nice=, NumNodes=, Dependency=, StartTime=, Name= (a running job: a lower TimeLimit only); ' +
        'or nodes (admin): NodeName=HOSTLIST State=DOWN|DRAIN|RESUME Reason=TEXT',
    )
    .argument('<fields...>', 'JobId=N Field=Value ... | NodeName=NAME State=STATE Reason=TEXT')
    .action(async (words: string[]) => {
      if (words.some((w) => /^nodename=/i.test(w))) {
        const { nodes, update } = parseNodeUpdateArgs(words);
        for (const node of nodes) await client().request('PATCH', `/api/v1/nodes/${encodeURIComponent(node)}`, update);
        return;
      }
      const { jobId, changes } = parseUpdateArgs(words);
      await client().request('PATCH', `/api/v1/jobs/${jobId}`, changes);
    });
  scontrol
    .command('show')
    .description('show a job, nodes or partitions: scontrol show job ID | node [NAME] | partition [NAME]')
    .argument('<entity>', 'job, node or partition')
    .argument('[name]', 'job id; node or partition name (default: all)')
    .option('--json', 'print JSON')
    .action(async (entity: string, name: string | undefined, o: { json?: boolean }) => {
      const api = client();
      const print = (value: unknown, text: () => string) => io.stdout(o.json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
      switch (entity.toLowerCase()) {
        case 'job': {
          if (!name) throw new CliError('scontrol show job takes a job id: scontrol show job 12');
          const job = await api.request<JobDetailView>('GET', `/api/v1/jobs/${await jobIdOf(api, name)}`);
          return print(job, () => formatJobDetail(terminalSafe(job), Date.now()));
        }
        case 'node':
        case 'nodes': {
          const { nodes } = await api.request<{ nodes: NodeView[] }>('GET', '/api/v1/nodes');
          const shown = name ? nodes.filter((n) => n.name === name) : nodes;
          if (name && shown.length === 0) throw new CliError(`Node ${name} not found`);
          return print({ nodes: shown }, () => terminalSafe(shown).map(formatNodeDetail).join('\n\n'));
        }
        case 'partition':
        case 'partitions': {
          const { partitions } = await api.request<{ partitions: PartitionView[] }>('GET', '/api/v1/partitions');
          const shown = name ? partitions.filter((p) => p.name === name) : partitions;
          if (name && shown.length === 0) throw new CliError(`Partition ${name} not found`);
          return print({ partitions: shown }, () => terminalSafe(shown).map(formatPartitionDetail).join('\n\n'));
        }
        default:
          throw new CliError(`invalid entity: ${entity}: show job ID, node [NAME] or partition [NAME]`);
      }
    });
  return scontrol;
}
