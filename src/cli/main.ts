/**
 * The `grm` command. Every subcommand but `daemon` talks to the daemon's REST API only.
 * Errors print as SLURM's tools print them ("squeue: error: ...") and exit 1.
 */
import { sacctmgrCommand, sprioCommand, sshareCommand } from './commands/policy.js';
import { Command, CommanderError, Option } from 'commander';
import { isGrmError } from '../errors.js';
import { compressHostlist } from '../hostlist/hostlist.js';
import { ApiClient, CliError } from './api-client.js';
import { cliToken } from './credentials.js';
import { sacctCommand } from './commands/sacct.js';
import { simulateCommand } from './commands/simulate.js';
import { sbatchCommand } from './commands/sbatch.js';
import { scancelCommand } from './commands/scancel.js';
import { scontrolCommand } from './commands/scontrol.js';
import { squeueCommand } from './commands/squeue.js';
import { auditCommand, userCommand } from './commands/user.js';
import { followLogs, printLogs } from './commands/logs.js';
import {
  formatJobDetail,
  formatSinfo,
  formatSinfoNodes,
  type JobDetailView,
  type NodeView,
  type PartitionView,
} from './format.js';
import { daemonUrl, processIo, type CliIo } from './io.js';
import { safeMessage, terminalSafe } from './terminal-safe.js';

export async function runCli(argv: string[], given: CliIo = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  // every message and warning may quote what a user typed or the daemon stored: shown, not obeyed
  const io: CliIo = { ...given, stderr: (text) => given.stderr(safeMessage(text)) };
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
  const client = () => new ApiClient({ baseUrl: daemonUrl(io.env), ...cliToken(io.env, io.cwd) });
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

  const fail = () => {
    exitCode = 1;
  };
  program.addCommand(squeueCommand(io, client));
  program.addCommand(sacctCommand(io, client));
  program.addCommand(scancelCommand(io, client, fail));
  program.addCommand(scontrolCommand(io, client, fail));
  program.addCommand(userCommand(io, client));
  program.addCommand(auditCommand(io, client));
  program.addCommand(sprioCommand(io, client));
  program.addCommand(simulateCommand(io));
  program.addCommand(sshareCommand(io, client));
  program.addCommand(sacctmgrCommand(io, client));

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
      else io.stdout(`${o.node ? formatSinfoNodes(terminalSafe(nodes)) : formatSinfo(terminalSafe(partitions), terminalSafe(nodes), compressHostlist)}\n`);
    });

  program
    .command('show')
    .description('show one job (same as scontrol show job)')
    .addArgument(new Command().createArgument('<what>', 'job').choices(['job']))
    .argument('<id>', 'job id')
    .option('--json', 'print JSON')
    .action(async (_what: string, id: string, o: { json?: boolean }) => {
      const job = await client().request<JobDetailView>('GET', `/api/v1/jobs/${encodeURIComponent(id)}`);
      io.stdout(o.json ? `${JSON.stringify(job, null, 2)}\n` : `${formatJobDetail(terminalSafe(job), Date.now())}\n`);
    });

  program
    .command('logs')
    .description("a job's log lines, in order")
    .argument('<id>', 'job id')
    .option('-f, --follow', 'keep printing new lines until the job ends')
    .option('-s, --source <source>', 'only this source (stdout, stderr, grm, ...)')
    .option('-a, --all', "also the GRM's own lines (state changes, allocation)")
    .option('-r, --rank <rank>', 'only the lines of this task rank (srun --label output)')
    .option('--run <run>', 'only the lines of this run of a requeued job (0: the first, as its restart count)')
    .addOption(new Option('--timestamps', 'prefix each line with its time and source'))
    .action(async (id: string, o: { follow?: boolean; source?: string; all?: boolean; timestamps?: boolean; rank?: string; run?: string }) => {
      if (o.rank !== undefined && !/^\d{1,6}$/.test(o.rank)) throw new CliError(`Invalid --rank "${o.rank}": a task rank, a whole number such as 0 or 3`);
      if (o.run !== undefined && !/^\d{1,5}$/.test(o.run)) throw new CliError(`Invalid --run "${o.run}": a run, a whole number such as 0 (the first) or 1`);
      const rank = o.rank === undefined ? {} : { rank: Number(o.rank) };
      const run = o.run === undefined ? {} : { run: Number(o.run) };
      const options = { client: client(), id, io, source: o.source, all: Boolean(o.all), timestamps: Boolean(o.timestamps), ...rank, ...run };
      if (o.follow) await followLogs(options);
      else await printLogs(options);
    });

  // commands built apart (addCommand) do not inherit these: a bad option must not exit the process
  const settle = (c: Command): void => {
    c.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
    c.commands.forEach(settle);
  };
  program.commands.forEach(settle);
  await program.parseAsync(argv, { from: 'user' });
  return exitCode;
}
