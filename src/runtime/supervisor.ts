/**
 * The supervisor of one runtime master, GRM's tiny slurmstepd.
 *
 *   node dist/runtime/supervisor.js <jobDir>/supervisor-spec.json
 *
 * The launcher starts it detached (setsid), so it leads a new session and process group;
 * its stdout/stderr are already the job's output files. It spawns the real command in the
 * same group (one kill(-pgid) reaches everything) with those same descriptors, waits for
 * it, and records the exit status in <jobDir>/exit.json. Because the status is written by
 * this process and not by the daemon, it survives a daemon crash or restart.
 *
 * It ignores the catchable termination signals: they are meant for the job, which is in the
 * same group and gets them too; the supervisor must live to record how the job ended. Only
 * SIGKILL (the escalation) stops it, and then the daemon records the status.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  EXIT_FILE,
  MASTER_FILE,
  type ExitStatus,
  type MasterRecord,
  type SupervisorMessage,
  type SupervisorSpec,
  writeJsonAtomic,
} from './master-files.js';
import { groupMembers, readProcStat, signalGroup, sleep } from './proc.js';

const IGNORED_SIGNALS: NodeJS.Signals[] = [
  'SIGTERM',
  'SIGINT',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGALRM',
  'SIGTSTP',
];

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'No such file or directory (or its interpreter is missing)',
  EACCES: 'Permission denied',
  ENOEXEC: 'Exec format error',
  ENOTDIR: 'Not a directory',
  E2BIG: 'Argument list too long',
};

/** One line on the job's stderr (fd 2 is the job's stderr file). */
function errorLine(text: string): void {
  try {
    fs.writeSync(2, `GRM: ${text}\n`);
  } catch {
    // nowhere left to report it; exit.json still carries the reason
  }
}

/** Tells the launcher (if it still listens) and closes the channel so nothing ties us to it. */
function report(message: SupervisorMessage): Promise<void> {
  return new Promise((resolve) => {
    if (typeof process.send !== 'function' || !process.connected) return resolve();
    try {
      process.send(message, undefined, {}, () => {
        try {
          if (process.connected) process.disconnect();
        } catch {
          // already gone
        }
        resolve();
      });
    } catch {
      resolve();
    }
  });
}

/**
 * SLURM ends every process of a step when the batch script ends. After the master exits,
 * leftover group members (background jobs it forgot) get SIGTERM, then SIGKILL after grace.
 */
async function endStragglers(pgid: number, graceMs: number): Promise<void> {
  const others = (): number[] | null => groupMembers(pgid)?.filter((p) => p !== process.pid) ?? null;
  const first = others();
  if (first !== null && first.length === 0) return;
  signalGroup(pgid, 'SIGTERM'); // our own handler ignores it
  const deadline = Date.now() + (first === null ? Math.min(graceMs, 200) : graceMs);
  while (Date.now() < deadline) {
    await sleep(50);
    const left = others();
    if (left !== null && left.length === 0) return;
  }
  const left = others();
  if (left === null) {
    // no /proc to tell members apart: the group, ourselves included (exit.json is written)
    signalGroup(pgid, 'SIGKILL');
    return;
  }
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function main(): Promise<void> {
  for (const sig of IGNORED_SIGNALS) process.on(sig, () => {});

  const specPath = process.argv[2];
  if (specPath === undefined) throw new Error('usage: supervisor <spec.json>');
  const spec = JSON.parse(fs.readFileSync(specPath, 'utf8')) as SupervisorSpec;
  fs.rmSync(specPath, { force: true }); // it holds the job's environment
  process.title = `grm-supervisor job ${spec.jobId}`;

  const pgid = process.pid;
  const record: MasterRecord = {
    jobId: spec.jobId,
    pid: null,
    pgid,
    supervisorPid: process.pid,
    supervisorStartTicks: readProcStat(process.pid)?.startTicks ?? null,
    command: spec.command,
    args: spec.args,
    cwd: spec.cwd,
    startedAt: new Date().toISOString(),
  };
  // written before the command exists, so a daemon that crashes now still finds the group
  writeJsonAtomic(path.join(spec.jobDir, MASTER_FILE), record);

  const finish = async (status: Omit<ExitStatus, 'endedAt'>, pid: number | null): Promise<void> => {
    let recorded = true;
    try {
      writeJsonAtomic(path.join(spec.jobDir, EXIT_FILE), { ...status, endedAt: new Date().toISOString() });
    } catch (e) {
      recorded = false; // the daemon notices the missing exit.json and records what it knows
      errorLine(`cannot record the exit status: ${(e as Error).message}`);
    }
    await report({ type: 'started', pid });
    await endStragglers(pgid, spec.stragglerGraceMs);
    process.exit(recorded ? 0 : 71);
  };
  const cannotStart = (exitCode: number, reason: string): Promise<void> => {
    errorLine(reason);
    return finish({ exitCode, signal: null, reason }, null);
  };

  let cwdOk = false;
  try {
    cwdOk = fs.statSync(spec.cwd).isDirectory();
  } catch {
    cwdOk = false;
  }
  if (!cwdOk) return cannotStart(1, `cannot use working directory '${spec.cwd}': not an existing directory`);

  let child: ChildProcess;
  try {
    // detached: false keeps the command in our group; fds 1 and 2 are the job's files
    child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (e) {
    return cannotStart(126, `cannot execute '${spec.command}': ${(e as Error).message}`);
  }
  let spawned = false;
  child.once('error', (e: NodeJS.ErrnoException) => {
    if (spawned) return;
    const code = e.code ?? 'UNKNOWN';
    void cannotStart(code === 'ENOENT' ? 127 : 126, `cannot execute '${spec.command}': ${ERRNO_TEXT[code] ?? code}`);
  });
  child.once('spawn', () => {
    spawned = true;
    record.pid = child.pid ?? null;
    writeJsonAtomic(path.join(spec.jobDir, MASTER_FILE), record);
    void report({ type: 'started', pid: record.pid });
  });
  child.once('exit', (code, signal) => {
    void finish({ exitCode: signal === null ? code : null, signal }, record.pid);
  });
}

main().catch((e: unknown) => {
  errorLine(`supervisor failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(70);
});
