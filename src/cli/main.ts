/**
 * The `grm` command. Every subcommand but `daemon` talks to the daemon's REST API only.
 * Errors print as SLURM's tools print them ("squeue: error: ...") and exit 1.
 */
import { Command, CommanderError, Option } from 'commander';
import { isGrmError } from '../errors.js';
import { compressHostlist } from '../hostlist/hostlist.js';
import { JOB_STATES, TERMINAL_STATES } from '../jobs/job-types.js';
import { ApiClient, CliError } from './api-client.js';
import { sbatchCommand } from './commands/sbatch.js';
import { followLogs, printLogs } from './commands/logs.js';
import {
  formatJobDetail,
  formatSinfo,
  formatSinfoNodes,
  formatSqueue,
  type JobDetailView,
  type JobView,
  type NodeView,
  type PartitionView,
} from './format.js';
import { daemonUrl, processIo, type CliIo } from './io.js';

const ACTIVE_STATES = JOB_STATES.filter((s) => !TERMINAL_STATES.has(s));

export async function runCli(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    // sbatch's options are sbatch's, not commander's: its own parser owns them.
    if (command === 'sbatch') return await sbatchCommand(rest, io);
    return await runCommander(argv, io);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
    if (isGrmError(e) || e instanceof CliError) {
      io.stderr(`${command ?? 'grm'}: error: ${e.message}\n`);
      return 1;
    }
    io.stderr(`${command ?? 'grm'}: error: unexpected failure: ${(e as Error).message}\n`);
    return 1;
  }
}

async function runCommander(argv: string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const client = () => new ApiClient({ baseUrl: daemonUrl(io.env) });
  const program = new Command('grm')
    .description('GRM — Global Resource Manager: SLURM-style commands for the GRM daemon')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError();

  program.command('sbatch').description('submit a batch script: grm sbatch [sbatch options] script [args...]');

  program
    .command('daemon')
    .description('run the GRM daemon (config: grm.config.json/.yaml, GRM_CONFIG, GRM_* variables)')
    .action(async () => {
      const { runDaemon } = await import('../daemon.js');
      await runDaemon({ env: io.env, cwd: io.cwd });
    });

  program
    .command('squeue')
    .description('list jobs, like squeue')
    .option('-u, --user <user>', 'only this user')
    .option('-p, --partition <partition>', 'only this partition')
    .option('-t, --states <states>', `comma-separated states, or "all" (default: ${ACTIVE_STATES.join(',')})`)
    .option('-j, --jobs <ids>', 'comma-separated job ids')
    .option('-a, --all', 'include ended jobs')
    .option('--json', 'print JSON')
    .action(async (o: { user?: string; partition?: string; states?: string; jobs?: string; all?: boolean; json?: boolean }) => {
      const params = new URLSearchParams();
      const states = o.all || o.states?.toLowerCase() === 'all' ? undefined : (o.states?.toUpperCase() ?? ACTIVE_STATES.join(','));
      if (states) params.set('state', states);
      if (o.user) params.set('user', o.user);
      if (o.partition) params.set('partition', o.partition);
      const { jobs } = await client().request<{ jobs: JobView[] }>('GET', `/api/v1/jobs?${params}`);
      const ids = o.jobs ? new Set(o.jobs.split(',').map(Number)) : undefined;
      const shown = ids ? jobs.filter((j) => ids.has(j.job_id)) : jobs;
      io.stdout(o.json ? `${JSON.stringify({ jobs: shown }, null, 2)}\n` : `${formatSqueue(shown, Date.now())}\n`);
    });

  program
    .command('scancel')
    .description('cancel jobs, like scancel')
    .argument('<ids...>', 'job ids')
    .action(async (ids: string[]) => {
      for (const id of ids) {
        if (!/^[1-9]\d*$/.test(id)) {
          io.stderr(`scancel: error: Invalid job id ${id}\n`);
          exitCode = 1;
          continue;
        }
        try {
          await client().request('DELETE', `/api/v1/jobs/${id}`);
        } catch (e) {
          if (!(e instanceof CliError) || e.code === 'E_DAEMON_UNREACHABLE') throw e;
          io.stderr(`scancel: error: Kill job error on job id ${id}: ${e.message}\n`);
          exitCode = 1;
        }
      }
    });

  program
    .command('sinfo')
    .description('partitions and nodes, like sinfo')
    .option('-N, --node', 'one line per node')
    .option('--json', 'print JSON')
    .action(async (o: { node?: boolean; json?: boolean }) => {
      const [{ partitions }, { nodes }] = await Promise.all([
        client().request<{ partitions: PartitionView[] }>('GET', '/api/v1/partitions'),
        client().request<{ nodes: NodeView[] }>('GET', '/api/v1/nodes'),
      ]);
      if (o.json) io.stdout(`${JSON.stringify({ partitions, nodes }, null, 2)}\n`);
      else io.stdout(`${o.node ? formatSinfoNodes(nodes) : formatSinfo(partitions, nodes, compressHostlist)}\n`);
    });

  program
    .command('show')
    .description('show one job, like scontrol show job')
    .addArgument(new Command().createArgument('<what>', 'job').choices(['job']))
    .argument('<id>', 'job id')
    .option('--json', 'print JSON')
    .action(async (_what: string, id: string, o: { json?: boolean }) => {
      const job = await client().request<JobDetailView>('GET', `/api/v1/jobs/${encodeURIComponent(id)}`);
      io.stdout(o.json ? `${JSON.stringify(job, null, 2)}\n` : `${formatJobDetail(job, Date.now())}\n`);
    });

  program
    .command('logs')
    .description("a job's log lines, in order")
    .argument('<id>', 'job id')
    .option('-f, --follow', 'keep printing new lines until the job ends')
    .option('-s, --source <source>', 'only this source (stdout, stderr, grm, ...)')
    .option('-a, --all', "also the GRM's own lines (state changes, allocation)")
    .addOption(new Option('--timestamps', 'prefix each line with its time and source'))
    .action(async (id: string, o: { follow?: boolean; source?: string; all?: boolean; timestamps?: boolean }) => {
      const options = { client: client(), id, io, source: o.source, all: Boolean(o.all), timestamps: Boolean(o.timestamps) };
      if (o.follow) await followLogs(options);
      else await printLogs(options);
    });

  await program.parseAsync(argv, { from: 'user' });
  return exitCode;
}
