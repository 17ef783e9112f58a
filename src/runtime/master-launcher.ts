/**
 * Starts one runtime master per job, isolated the way slurmstepd isolates a batch step:
 * its own process group and session, an environment built by the caller (nothing inherited
 * from the daemon), stdin from /dev/null, stdout/stderr written by the kernel straight into
 * the job's files. The daemon never relays output, so its crash loses nothing.
 *
 * The master is started through grm-supervisor (src/runtime/native/, C: ~1 MB and ~1 ms per
 * job where a Node.js supervisor cost 43 MB and tens of ms), which leads the group, drops to
 * the job's user, opens the output files (the daemon never opens a path a job named: a FIFO
 * there would stop its event loop), waits for the command and writes exit.json: the exit
 * status survives the daemon too. The daemon writes master.json (which group is the job's)
 * itself, from the pid spawn() gave it. A restarted daemon rebuilds handles with
 * reattachMaster().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { GrmError } from '../errors.js';
import {
  EXIT_FILE,
  MASTER_FILE,
  SPEC_FILE,
  type ExitStatus,
  type MasterRecord,
  type SupervisorMessage,
  type SupervisorSpec,
  encodeSpec,
  parseSupervisorMessage,
  readExitStatus,
  readMasterRecord,
  writeJsonAtomic,
} from './master-files.js';
import { isGroupAlive, isProcessAlive, readProcStat, signalGroup, waitGroupGone } from './proc.js';
import type { RunAs } from './run-as.js';
import { DEFAULT_OUTPUT_DEVICES } from './safe-files.js';

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
  /** The account the supervisor drops to before opening the outputs; default: the daemon's. */
  runAs?: RunAs | null;
  /** Character devices an output may be; default /dev/null only. */
  outputDevices?: readonly string[];
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
  /** The uid the master runs as when the supervisor dropped to the job's account; null: the daemon's. */
  readonly runAsUid: number | null;
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
 * The supervisor program, dist/native/grm-supervisor (built by `npm run build`), found from
 * this module whether it runs from dist/runtime/ or, under tsx, from src/runtime/.
 */
export function supervisorProgram(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const root = path.basename(path.dirname(here)) === 'dist' ? path.dirname(path.dirname(here)) : path.resolve(here, '../..');
  return path.join(root, 'dist', 'native', 'grm-supervisor');
}

function startError(spec: MasterSpec, what: string, cause?: unknown): GrmError {
  return new GrmError('E_MASTER_START', `cannot start the master of job ${spec.jobId}: ${what}`, { cause });
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
    readonly runAsUid: number | null,
    supervisorGone: Promise<SupervisorEnd>,
    private readonly onRelease: () => void,
    /** SIGTERM to SIGKILL, for a master whose supervisor was lost. */
    private readonly lostGraceMs: number,
  ) {
    this.exited = supervisorGone.then((end) => this.settle(end));
    this.exited.then(() => (this.finished = true)).catch(() => {});
  }

  /**
   * The supervisor is gone. Normally exit.json is there. If not (SIGKILL escalation, OOM
   * killer, disk full), wait until the rest of the group is gone too and record what is known.
   * A supervisor killed while its master still runs leaves a master whose exit nobody can
   * record: it is ended (SIGTERM, SIGKILL after the grace), as SLURM ends a step whose
   * slurmstepd died, and the job ends MasterLost (no exit code, no signal of its own).
   */
  private async settle(end: SupervisorEnd): Promise<ExitStatus> {
    const recorded = readExitStatus(this.jobDir);
    if (recorded !== null) return recorded;
    // a released handle belongs to a daemon that stopped supervising: the next one decides
    const orphaned = !this.killSent && !this.released && isGroupAlive(this.pgid);
    if (orphaned && signalGroup(this.pgid, 'SIGTERM') && !(await waitGroupGone(this.pgid, this.lostGraceMs))) signalGroup(this.pgid, 'SIGKILL');
    await pollUntil(() => !isGroupAlive(this.pgid), 200, () => this.released);
    const late = readExitStatus(this.jobDir);
    if (late !== null) return late;
    const killedBy = end.signal ? ` (${end.signal})` : '';
    const status: ExitStatus = {
      exitCode: null,
      // the supervisor's own signal says nothing of how its master ended
      signal: this.killSent ? 'SIGKILL' : null,
      endedAt: new Date().toISOString(),
      reason: this.killSent
        ? 'killed by GRM after the termination grace period'
        : orphaned
          ? `the supervisor was lost${killedBy} while the master ran; GRM ended the master's process group`
          : `the supervisor was lost${killedBy} without recording the exit status`,
    };
    try {
      writeJsonAtomic(path.join(this.jobDir, EXIT_FILE), status, { durable: true });
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

function supervisorSpec(spec: MasterSpec): SupervisorSpec {
  return {
    jobId: spec.jobId,
    command: spec.command,
    args: spec.args,
    cwd: spec.cwd,
    env: spec.env,
    jobDir: spec.jobDir,
    stdoutPath: spec.stdoutPath,
    stderrPath: spec.stderrPath,
    openMode: spec.openMode ?? 'append',
    outputDevices: [...(spec.outputDevices ?? DEFAULT_OUTPUT_DEVICES)],
    runAs: spec.runAs ?? null,
    stragglerGraceMs: spec.stragglerGraceMs ?? DEFAULT_STRAGGLER_GRACE_MS,
  };
}

/** Spawns the supervisor and records its group in master.json before anything can go wrong. */
function spawnSupervisor(spec: MasterSpec): ChildProcess {
  const program = supervisorProgram();
  if (!fs.existsSync(program)) throw startError(spec, `the supervisor program '${program}' is missing: build it with npm run build (it needs a C compiler)`);
  let child: ChildProcess;
  try {
    const specFile = path.join(spec.jobDir, SPEC_FILE);
    fs.rmSync(specFile, { force: true });
    // it holds the environment: owner-only, created fresh, never through a link
    fs.writeFileSync(specFile, encodeSpec(supervisorSpec(spec)), { mode: 0o600, flag: 'wx' });
    // detached: setsid(), so the supervisor leads a new group and outlives the daemon;
    // env {}: nothing of the daemon's reaches it; fd 3: its one status line, then closed
    child = spawn(program, [specFile], {
      argv0: `grm-supervisor job ${spec.jobId}`,
      cwd: spec.jobDir,
      env: {},
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    });
  } catch (e) {
    throw startError(spec, (e as Error).message, e);
  }
  if (child.pid !== undefined) {
    // written by the daemon, in the job folder the job cannot write: which group to signal
    const record: MasterRecord = {
      jobId: spec.jobId,
      pid: null,
      pgid: child.pid,
      supervisorPid: child.pid,
      supervisorStartTicks: readProcStat(child.pid)?.startTicks ?? null,
      command: spec.command,
      args: spec.args,
      cwd: spec.cwd,
      startedAt: new Date().toISOString(),
      runAsUid: spec.runAs?.uid ?? null,
    };
    writeJsonAtomic(path.join(spec.jobDir, MASTER_FILE), record);
  }
  return child;
}

/** The supervisor's status line (null: it closed the pipe without one). */
function statusLine(child: ChildProcess): Promise<SupervisorMessage | null> {
  const pipe = child.stdio[3] as Readable | null | undefined;
  if (!pipe) return Promise.resolve(null);
  return new Promise((resolve) => {
    let text = '';
    pipe.setEncoding('utf8');
    pipe.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\n') || text.length > 8192) pipe.destroy();
    });
    pipe.on('error', () => {});
    pipe.once('close', () => resolve(text.length > 0 ? parseSupervisorMessage(text.split('\n')[0] ?? '') : null));
  });
}

/** The pid of the started command, once master.json holds it too. */
function recordPid(jobDir: string, pid: number | null): void {
  const rec = readMasterRecord(jobDir);
  if (rec === null || pid === null) return;
  try {
    writeJsonAtomic(path.join(jobDir, MASTER_FILE), { ...rec, pid });
  } catch {
    // informational only: the group is what the daemon signals
  }
}

export async function launchMaster(spec: MasterSpec): Promise<MasterHandle> {
  if (typeof spec.command !== 'string' || spec.command.length === 0) throw startError(spec, 'empty command');
  try {
    fs.mkdirSync(spec.jobDir, { recursive: true });
    clearEarlierRun(spec.jobDir);
  } catch (e) {
    throw startError(spec, `cannot prepare the job directory '${spec.jobDir}': ${(e as Error).message}`, e);
  }
  const child = spawnSupervisor(spec);
  const gone = new Promise<SupervisorEnd & { code: number | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  /** A start that failed: the supervisor is gone, and so is any claim that a master runs. */
  const failed = async (what: string): Promise<never> => {
    await gone;
    clearEarlierRun(spec.jobDir);
    throw startError(spec, what);
  };
  const started = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      reject(startError(spec, `the supervisor did not report within ${spec.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS} ms`));
    }, spec.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(startError(spec, `cannot run the supervisor: ${e.message}`, e));
    });
    void statusLine(child).then(async (m) => {
      if (m?.type === 'started') {
        clearTimeout(timer);
        return resolve(m.pid);
      }
      if (m?.type === 'failed') {
        clearTimeout(timer);
        return failed(m.reason.slice(0, 2000)).catch(reject);
      }
      // no line: the supervisor died before it could say; exit.json (if any) decides
      const end = await gone;
      clearTimeout(timer);
      const status = readExitStatus(spec.jobDir);
      if (status?.startFailed) return failed(status.reason ?? 'the supervisor could not set the master up').catch(reject);
      if (status !== null) return resolve(readMasterRecord(spec.jobDir)?.pid ?? null);
      failed(`the supervisor ended (${end.signal ?? `exit code ${end.code}`}) before starting it`).catch(reject);
    });
  });
  recordPid(spec.jobDir, started);
  child.on('error', () => {}); // later errors (e.g. a failed disconnect) must not crash the daemon
  return new Handle(spec.jobId, started, child.pid as number, spec.jobDir, spec.runAs?.uid ?? null, gone, () => child.unref(), spec.stragglerGraceMs ?? DEFAULT_STRAGGLER_GRACE_MS);
}

/**
 * Rebuilds a handle for a master started by an earlier daemon, from <jobDir>/master.json.
 * null when there is no (valid) master.json. exited resolves once the supervisor is gone,
 * with exit.json's status.
 */
export function reattachMaster(jobDir: string, options: { pollMs?: number; jobId?: number; lostGraceMs?: number } = {}): MasterHandle | null {
  const rec = readMasterRecord(jobDir, options.jobId);
  if (rec === null) return null;
  // a live process at that pid must be the supervisor itself: leading the group it names
  const st = readProcStat(rec.supervisorPid);
  if (st !== null && isProcessAlive(rec.supervisorPid, rec.supervisorStartTicks ?? undefined) && st.pgrp !== rec.pgid) return null;
  let released = false;
  const alive = (): boolean => isProcessAlive(rec.supervisorPid, rec.supervisorStartTicks ?? undefined);
  const gone = pollUntil(() => !alive(), options.pollMs ?? REATTACH_POLL_MS, () => released).then(
    (): SupervisorEnd => ({ signal: null }),
  );
  return new Handle(rec.jobId, rec.pid, rec.pgid, jobDir, rec.runAsUid ?? null, gone, () => (released = true), options.lostGraceMs ?? DEFAULT_STRAGGLER_GRACE_MS);
}
