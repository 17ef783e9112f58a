/**
 * The supervisor of one runtime master, GRM's tiny slurmstepd.
 *
 *   node dist/runtime/supervisor.js <jobDir>/supervisor-spec.json
 *
 * The launcher starts it detached (setsid), so it leads a new session and process group.
 * It opens exit.json while it is still the daemon's account, drops to the job's user
 * (setgroups, setgid, setuid: as slurmstepd, before touching any path the job named), then
 * opens the job's output files as that user, never blocking and only regular files (or an
 * allowed device), spawns the real command in the same group (one kill(-pgid) reaches
 * everything) with those descriptors, waits for it, and records the exit status in exit.json.
 * Because the status is written by this process and not by the daemon, it survives a daemon
 * crash or restart. Once it changed its uid the kernel marks it non-dumpable: the job, same
 * uid, cannot ptrace it or reach its descriptors through /proc.
 *
 * It ignores the catchable termination signals: they are meant for the job, which is in the
 * same group and gets them too; the supervisor must live to record how the job ended. Only
 * SIGKILL (the escalation) stops it, and then the daemon records the status.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  EXIT_FILE,
  type ExitStatus,
  type SupervisorMessage,
  type SupervisorSpec,
  writeJsonToFd,
} from './master-files.js';
import { groupMembers, signalGroup, sleep } from './proc.js';
import { withAccountEnv, type AccountInfo, type RunAs } from './run-as.js';
import { OutputFileError, errnoWords, openOutputFile } from './safe-files.js';

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

/** The job's stderr, once opened. */
let jobStderr: number | null = null;

/** One line on the job's stderr. */
function errorLine(text: string): void {
  if (jobStderr === null) return; // not open (yet): exit.json and the launcher carry the reason
  try {
    fs.writeSync(jobStderr, `GRM: ${text}\n`);
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

/** Becomes the job's account for good: groups first, the uid last (after it nothing else may change). */
function dropPrivileges(runAs: RunAs): void {
  if (!process.setgroups || !process.setgid || !process.setuid) throw new Error('this platform cannot change process ids');
  process.setgroups(runAs.groups);
  process.setgid(runAs.gid);
  process.setuid(runAs.uid);
  const ok = process.getuid?.() === runAs.uid && process.geteuid?.() === runAs.uid && process.getgid?.() === runAs.gid && process.getegid?.() === runAs.gid;
  if (!ok) throw new Error('the process ids did not change');
}

/** This process's account (after the drop: the job's), or none when it has no passwd entry. */
function accountInfo(): AccountInfo {
  try {
    return os.userInfo();
  } catch {
    return { username: '', homedir: '' };
  }
}

/** exit.json, created empty now: after the drop the job's user could not create it. */
function openExitFile(jobDir: string): number {
  const { O_WRONLY, O_CREAT, O_TRUNC, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
  return fs.openSync(path.join(jobDir, EXIT_FILE), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK, 0o600);
}

/** The job's stdout and stderr descriptors (one for both when the paths are the same). */
function openOutputs(spec: SupervisorSpec): { out: number; err: number } {
  const o = { truncate: spec.openMode === 'truncate', devices: spec.outputDevices };
  const open = (file: string, which: string): number => {
    try {
      return openOutputFile(file, o);
    } catch (e) {
      const why = e instanceof OutputFileError ? e.why : errnoWords(e);
      const as = spec.runAs ? ` (as uid ${spec.runAs.uid})` : '';
      throw new OutputFileError(file, `cannot open the ${which} file '${file}'${as}: ${why}`);
    }
  };
  const out = open(spec.stdoutPath, 'standard output');
  if (path.resolve(spec.stderrPath) === path.resolve(spec.stdoutPath)) return { out, err: out };
  try {
    return { out, err: open(spec.stderrPath, 'standard error') };
  } catch (e) {
    fs.closeSync(out);
    throw e;
  }
}

function usableDirectory(dir: string): boolean {
  try {
    // as the job's user: a folder root may enter but the user may not is no working directory
    fs.accessSync(dir, fs.constants.X_OK);
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
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
  const exitFd = openExitFile(spec.jobDir);

  const finish = async (status: Omit<ExitStatus, 'endedAt'>, message: SupervisorMessage): Promise<void> => {
    let recorded = true;
    try {
      writeJsonToFd(exitFd, { ...status, endedAt: new Date().toISOString() });
    } catch (e) {
      recorded = false; // the daemon notices the missing exit.json and records what it knows
      errorLine(`cannot record the exit status: ${(e as Error).message}`);
    }
    await report(message);
    await endStragglers(pgid, spec.stragglerGraceMs);
    process.exit(recorded ? 0 : 71);
  };
  const cannotStart = (exitCode: number, reason: string): Promise<void> => {
    errorLine(reason);
    return finish({ exitCode, signal: null, reason }, { type: 'started', pid: null });
  };
  /** GRM could not set the master up: the job fails to start (MasterStartFailed), with why. */
  const setupFailed = (reason: string): Promise<void> =>
    finish({ exitCode: null, signal: null, reason, startFailed: true }, { type: 'failed', reason });

  let env = spec.env;
  if (spec.runAs !== null) {
    try {
      dropPrivileges(spec.runAs);
    } catch (e) {
      return setupFailed(`cannot become uid ${spec.runAs.uid} gid ${spec.runAs.gid}: ${errnoWords(e)}`);
    }
    env = withAccountEnv(env, accountInfo());
  }
  let fds: { out: number; err: number };
  try {
    fds = openOutputs(spec);
  } catch (e) {
    return setupFailed(e instanceof OutputFileError ? e.why : String(e));
  }
  jobStderr = fds.err;

  if (!usableDirectory(spec.cwd)) return cannotStart(1, `cannot use working directory '${spec.cwd}': not an existing directory this job may enter`);

  let child: ChildProcess;
  try {
    // detached: false keeps the command in our group; its fds 1 and 2 are the job's files
    child = spawn(spec.command, spec.args, { cwd: spec.cwd, env, stdio: ['ignore', fds.out, fds.err] });
  } catch (e) {
    return cannotStart(126, `cannot execute '${spec.command}': ${(e as Error).message}`);
  }
  let spawned = false;
  let pid: number | null = null;
  child.once('error', (e: NodeJS.ErrnoException) => {
    if (spawned) return;
    const code = e.code ?? 'UNKNOWN';
    void cannotStart(code === 'ENOENT' ? 127 : 126, `cannot execute '${spec.command}': ${ERRNO_TEXT[code] ?? code}`);
  });
  child.once('spawn', () => {
    spawned = true;
    pid = child.pid ?? null;
    void report({ type: 'started', pid });
  });
  child.once('exit', (code, signal) => {
    void finish({ exitCode: signal === null ? code : null, signal }, { type: 'started', pid });
  });
}

main().catch((e: unknown) => {
  const reason = `supervisor failed: ${e instanceof Error ? e.message : String(e)}`;
  errorLine(reason);
  void report({ type: 'failed', reason }).finally(() => process.exit(70));
});
