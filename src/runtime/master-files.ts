/**
 * The files through which a master's supervisor and any daemon (the one that launched it
 * or a later one after a restart) communicate. Files, not pipes: they outlive the daemon.
 *
 * They are control files: the daemon decides from them which process group to signal. So
 * they live in the job folder, which belongs to GRM (a job running as its user writes only
 * under work/, compss/ and its own output files there), master.json is written by the
 * daemon itself, and exit.json by the supervisor through a descriptor it opened before
 * dropping to the job's user. Read back with O_NOFOLLOW/O_NONBLOCK, bounded and checked:
 * where the job does run as the daemon's user, a planted file can mislead nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RunAs } from './run-as.js';
import { readSmallFileSync } from './safe-files.js';

export const MASTER_FILE = 'master.json';
export const EXIT_FILE = 'exit.json';
export const SPEC_FILE = 'supervisor-spec.json';

/** Like SLURM: exitCode for a normal exit, signal name (exitCode null) when killed. */
export interface ExitStatus {
  exitCode: number | null;
  signal: string | null;
  /** ISO 8601 */
  endedAt: string;
  /** Set when the status was not observed directly (start failure, supervisor lost...). */
  reason?: string;
  /** The master never started because GRM could not set it up (an output file, the user). */
  startFailed?: boolean;
}

/** Content of <jobDir>/master.json. */
export interface MasterRecord {
  jobId: number;
  /** The real command's pid; null before it started or when it could not start. */
  pid: number | null;
  /** The group every process of the job is in; led by the supervisor (pgid = supervisorPid). */
  pgid: number;
  supervisorPid: number;
  /** /proc start time of the supervisor, to tell it from a later process that reused its pid. */
  supervisorStartTicks: number | null;
  command: string;
  args: string[];
  cwd: string;
  startedAt: string;
  /** The account the supervisor dropped to; null or absent: the daemon's own. */
  runAsUid?: number | null;
}

/** What the launcher hands the supervisor (through SPEC_FILE, deleted once read: it holds env). */
export interface SupervisorSpec {
  jobId: number;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  jobDir: string;
  /** Opened by the supervisor, after it dropped to runAs: never by the daemon. */
  stdoutPath: string;
  /** Equal to stdoutPath: one file for both, as sbatch without -e. */
  stderrPath: string;
  openMode: 'append' | 'truncate';
  /** Character devices an output may be (runtime.outputDevices). */
  outputDevices: string[];
  /** The account to drop to before anything else; null: stay the daemon's user. */
  runAs: RunAs | null;
  /** After the master exits, leftover group members get SIGTERM, then SIGKILL after this. */
  stragglerGraceMs: number;
}

/**
 * Messages on the supervisor's IPC channel, which it closes right after the first one:
 * the master runs (or ended at once, see exit.json), or GRM could not start it (the reason
 * names the file or the account and why).
 */
export type SupervisorMessage = { type: 'started'; pid: number | null } | { type: 'failed'; reason: string };

/**
 * Write-then-rename so a reader (possibly another daemon) never sees half a file; fsync so
 * a machine crash does not leave an empty exit.json behind. 0600: the daemon's alone (a
 * master.json names the job's command line, which other accounts have no business reading).
 */
export function writeJsonAtomic(file: string, value: unknown, mode = 0o600): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  // a fresh file, whatever was left at its name (never through a link, never blocking)
  fs.rmSync(tmp, { force: true });
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
  const fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK, mode);
  try {
    fs.writeSync(fd, JSON.stringify(value, null, 2) + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/**
 * exit.json through the descriptor the supervisor opened while it still could (before it
 * dropped to the job's user): written once into the empty file, then synced. A reader that
 * comes early sees an empty or partial file, which reads as "no status yet".
 */
export function writeJsonToFd(fd: number, value: unknown): void {
  const text = Buffer.from(JSON.stringify(value, null, 2) + '\n');
  fs.ftruncateSync(fd, 0);
  let at = 0;
  while (at < text.length) at += fs.writeSync(fd, text, at, text.length - at, at);
  fs.fsyncSync(fd);
}

/** Control files are a few hundred bytes; anything larger is not one of ours. */
const MAX_CONTROL_BYTES = 1 << 20;

/** null when the file is missing, not a regular file, too large or not valid JSON. */
export function readJsonFile<T>(file: string): T | null {
  const text = readSmallFileSync(file, MAX_CONTROL_BYTES);
  if (text === null) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

const isInt = (v: unknown): v is number => Number.isSafeInteger(v);

/** exit.json, when it holds a status (an empty one means the supervisor has not written it yet). */
export function readExitStatus(jobDir: string): ExitStatus | null {
  const s = readJsonFile<Record<string, unknown>>(path.join(jobDir, EXIT_FILE));
  if (s === null || typeof s !== 'object') return null;
  if (!(s.exitCode === null || isInt(s.exitCode)) || !(s.signal === null || typeof s.signal === 'string')) return null;
  const status: ExitStatus = {
    exitCode: s.exitCode as number | null,
    signal: s.signal === null ? null : String(s.signal).slice(0, 32),
    endedAt: typeof s.endedAt === 'string' ? s.endedAt.slice(0, 64) : new Date().toISOString(),
  };
  if (typeof s.reason === 'string') status.reason = s.reason.slice(0, 1000);
  if (s.startFailed === true) status.startFailed = true;
  return status;
}

/** master.json, when it is well formed (and names the job, when jobId is given). */
export function readMasterRecord(jobDir: string, jobId?: number): MasterRecord | null {
  const r = readJsonFile<MasterRecord>(path.join(jobDir, MASTER_FILE));
  if (r === null || typeof r !== 'object') return null;
  // the supervisor leads its own group (setsid): anything else is not a record GRM wrote
  if (!isInt(r.pgid) || r.pgid <= 1 || r.supervisorPid !== r.pgid || !isInt(r.jobId)) return null;
  if (jobId !== undefined && r.jobId !== jobId) return null;
  if (!(r.pid === null || (isInt(r.pid) && r.pid > 1))) return null;
  if (!(r.supervisorStartTicks === null || isInt(r.supervisorStartTicks))) return null;
  if (!(r.runAsUid === undefined || r.runAsUid === null || isInt(r.runAsUid))) return null;
  return r;
}
