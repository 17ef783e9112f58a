/**
 * Starts one runtime master per job, isolated the way slurmstepd isolates a batch step:
 * its own process group and session, an environment built by the caller (nothing inherited
 * from the daemon), stdin from /dev/null, stdout/stderr written by the kernel straight into
 * the job's files. The daemon never relays output, so its crash loses nothing.
 *
 * The master is started through src/runtime/supervisor.ts, which leads the group, waits for
 * the command and writes exit.json: the exit status survives the daemon too. A restarted
 * daemon rebuilds handles with reattachMaster().
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GrmError } from '../errors.js';
import {
  EXIT_FILE,
  MASTER_FILE,
  SPEC_FILE,
  type ExitStatus,
  type SupervisorMessage,
  type SupervisorSpec,
  readExitStatus,
  readMasterRecord,
  writeJsonAtomic,
} from './master-files.js';
import { isGroupAlive, isProcessAlive, signalGroup, waitGroupGone } from './proc.js';

export type { ExitStatus } from './master-files.js';

export interface MasterSpec {
  jobId: number;
  command: string;
  args: string[];
  cwd: string;
  /** The complete environment (see buildMasterEnv); nothing is inherited from the daemon. */
  env: Record<string, string>;
  stdoutPath: string;
  /** May equal stdoutPath: the file is then opened once and shared, like sbatch without -e. */
  stderrPath: string;
  jobDir: string;
  /** 'append' (default) keeps what a previous attempt wrote; 'truncate' empties the files. */
  openMode?: 'append' | 'truncate';
  /** Grace between SIGTERM and SIGKILL for processes left in the group after the master exits. */
  stragglerGraceMs?: number;
  /** How long the supervisor may take to report that the command started. */
  startTimeoutMs?: number;
}

export interface MasterHandle {
  readonly jobId: number;
  /** The command's pid; null when it could not start (exited then resolves with 126/127). */
  readonly pid: number | null;
  /** The job's process group, led by the supervisor. */
  readonly pgid: number;
  readonly jobDir: string;
  /** Resolves once the supervisor is gone (so is every process it could end) with the status. */
  readonly exited: Promise<ExitStatus>;
  /** Sends a signal to the whole group; false when the group is already gone. */
  signal(sig: NodeJS.Signals | number): boolean;
  /** SIGTERM to the group, SIGKILL to the group after graceMs; resolves when the group is gone. */
  terminate(graceMs: number): Promise<ExitStatus>;
  /** Stops holding the daemon's event loop open for this master; it keeps running. */
  release(): void;
}

const DEFAULT_STRAGGLER_GRACE_MS = 2000;
const DEFAULT_START_TIMEOUT_MS = 30_000;
const REATTACH_POLL_MS = 500;

/**
 * How to run the supervisor: dist/runtime/supervisor.js with plain node in production; the
 * sibling .ts through tsx when this module itself runs from src/ (tests, dev). The tsx
 * loader is resolved to an absolute URL because the supervisor does not run in the repo.
 */
export function supervisorCommand(): { command: string; args: string[] } {
  const here = fileURLToPath(import.meta.url);
  const fromSource = path.extname(here) === '.ts';
  const file = path.join(path.dirname(here), fromSource ? 'supervisor.ts' : 'supervisor.js');
  if (!fromSource) return { command: process.execPath, args: [file] };
  let loader = 'tsx';
  try {
    loader = import.meta.resolve('tsx');
  } catch {
    // fall back to bare resolution from the supervisor's cwd
  }
  return { command: process.execPath, args: ['--import', loader, file] };
}

function startError(spec: MasterSpec, what: string, cause?: unknown): GrmError {
  return new GrmError('E_MASTER_START', `cannot start the master of job ${spec.jobId}: ${what}`, { cause });
}

/** The last line the supervisor wrote to the job's stderr, for the E_MASTER_START message. */
function stderrTail(file: string): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    const lines = text.trimEnd().split('\n');
    return (lines[lines.length - 1] ?? '').slice(0, 500);
  } catch {
    return '';
  }
}

function openOutputs(spec: MasterSpec): { out: number; err: number } {
  const flags = spec.openMode === 'truncate' ? 'w' : 'a';
  const open = (file: string, which: string): number => {
    try {
      // O_APPEND (flag 'a') keeps concurrent writers of one file from overwriting each other
      const fd = fs.openSync(file, flags);
      if (flags === 'w') {
        fs.closeSync(fd);
        return fs.openSync(file, 'a');
      }
      return fd;
    } catch (e) {
      throw startError(spec, `cannot open the ${which} file '${file}': ${(e as Error).message}`, e);
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

interface SupervisorEnd {
  /** The signal that ended the supervisor, when known. */
  signal: string | null;
}

/** Polls with timers that stop holding the event loop once the handle is released. */
function pollUntil(done: () => boolean, ms: number, released: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const tick = (): void => {
      if (done()) return resolve();
      const t = setTimeout(tick, ms);
      if (released()) t.unref();
    };
    tick();
  });
}

class Handle implements MasterHandle {
  readonly exited: Promise<ExitStatus>;
  private released = false;
  private killSent = false;
  private finished = false;

  constructor(
    readonly jobId: number,
    readonly pid: number | null,
    readonly pgid: number,
    readonly jobDir: string,
    supervisorGone: Promise<SupervisorEnd>,
    private readonly onRelease: () => void,
  ) {
    this.exited = supervisorGone.then((end) => this.settle(end));
    this.exited.then(() => (this.finished = true)).catch(() => {});
  }

  /**
   * The supervisor is gone. Normally exit.json is there. If not (SIGKILL escalation, OOM
   * killer, disk full), wait until the rest of the group is gone too and record what is known.
   */
  private async settle(end: SupervisorEnd): Promise<ExitStatus> {
    const recorded = readExitStatus(this.jobDir);
    if (recorded !== null) return recorded;
    await pollUntil(() => !isGroupAlive(this.pgid), 200, () => this.released);
    const late = readExitStatus(this.jobDir);
    if (late !== null) return late;
    const status: ExitStatus = {
      exitCode: null,
      signal: end.signal ?? (this.killSent ? 'SIGKILL' : null),
      endedAt: new Date().toISOString(),
      reason: this.killSent
        ? 'killed by GRM after the termination grace period'
        : 'the supervisor ended without recording the exit status',
    };
    try {
      writeJsonAtomic(path.join(this.jobDir, EXIT_FILE), status);
    } catch {
      // the caller still gets the status; only a later daemon would miss it
    }
    return status;
  }

  signal(sig: NodeJS.Signals | number): boolean {
    return signalGroup(this.pgid, sig);
  }

  async terminate(graceMs: number): Promise<ExitStatus> {
    if (this.finished) return this.exited;
    if (this.signal('SIGTERM') && !(await waitGroupGone(this.pgid, graceMs))) {
      this.killSent = true;
      this.signal('SIGKILL');
      await waitGroupGone(this.pgid, Number.POSITIVE_INFINITY);
    }
    return this.exited;
  }

  release(): void {
    this.released = true;
    this.onRelease();
  }
}

/**
 * Removes what an earlier run of the job (before a requeue) left, so a restarted daemon
 * never mistakes it for this run's master or exit status. Called before RUNNING is written.
 */
export function clearEarlierRun(jobDir: string): void {
  for (const f of [EXIT_FILE, MASTER_FILE]) fs.rmSync(path.join(jobDir, f), { force: true });
}

export async function launchMaster(spec: MasterSpec): Promise<MasterHandle> {
  if (typeof spec.command !== 'string' || spec.command.length === 0) throw startError(spec, 'empty command');
  try {
    fs.mkdirSync(spec.jobDir, { recursive: true });
    clearEarlierRun(spec.jobDir);
  } catch (e) {
    throw startError(spec, `cannot prepare the job directory '${spec.jobDir}': ${(e as Error).message}`, e);
  }
  const fds = openOutputs(spec);
  const specPath = path.join(spec.jobDir, SPEC_FILE);
  const supSpec: SupervisorSpec = {
    jobId: spec.jobId,
    command: spec.command,
    args: spec.args,
    cwd: spec.cwd,
    env: spec.env,
    jobDir: spec.jobDir,
    stragglerGraceMs: spec.stragglerGraceMs ?? DEFAULT_STRAGGLER_GRACE_MS,
  };
  let child: ReturnType<typeof spawn>;
  try {
    writeJsonAtomic(specPath, supSpec, 0o600); // it holds the environment: owner-only
    const sup = supervisorCommand();
    // detached: setsid(), so the supervisor leads a new group and outlives the daemon;
    // env {}: nothing of the daemon's (NODE_OPTIONS...) reaches the supervisor either
    child = spawn(sup.command, [...sup.args, specPath], {
      cwd: spec.jobDir,
      env: {},
      detached: true,
      stdio: ['ignore', fds.out, fds.err, 'ipc'],
    });
  } catch (e) {
    throw startError(spec, (e as Error).message, e);
  } finally {
    // the child holds its own copies now
    fs.closeSync(fds.out);
    if (fds.err !== fds.out) fs.closeSync(fds.err);
  }

  const gone = new Promise<SupervisorEnd & { code: number | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const started = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      reject(startError(spec, `the supervisor did not report within ${spec.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS} ms`));
    }, spec.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
    child.on('message', (m: SupervisorMessage) => {
      if (m?.type !== 'started') return;
      clearTimeout(timer);
      resolve(m.pid);
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(startError(spec, `cannot run the supervisor: ${e.message}`, e));
    });
    void gone.then((end) => {
      clearTimeout(timer);
      // 'exit' may overtake the IPC message of a command that ended at once: exit.json decides
      if (readExitStatus(spec.jobDir) !== null) return resolve(readMasterRecord(spec.jobDir)?.pid ?? null);
      const tail = stderrTail(spec.stderrPath);
      const how = end.signal ?? `exit code ${end.code}`;
      reject(startError(spec, `the supervisor ended (${how}) before starting it${tail ? `: ${tail}` : ''}`));
    });
  });
  child.on('error', () => {}); // later errors (e.g. a failed disconnect) must not crash the daemon
  return new Handle(spec.jobId, started, child.pid as number, spec.jobDir, gone, () => {
    child.unref();
    if (child.connected) child.disconnect();
  });
}

/**
 * Rebuilds a handle for a master started by an earlier daemon, from <jobDir>/master.json.
 * null when there is no (valid) master.json. exited resolves once the supervisor is gone,
 * with exit.json's status.
 */
export function reattachMaster(jobDir: string, options: { pollMs?: number } = {}): MasterHandle | null {
  const rec = readMasterRecord(jobDir);
  if (rec === null) return null;
  let released = false;
  const alive = (): boolean => isProcessAlive(rec.supervisorPid, rec.supervisorStartTicks ?? undefined);
  const gone = pollUntil(() => !alive(), options.pollMs ?? REATTACH_POLL_MS, () => released).then(
    (): SupervisorEnd => ({ signal: null }),
  );
  return new Handle(rec.jobId, rec.pid, rec.pgid, jobDir, gone, () => (released = true));
}
