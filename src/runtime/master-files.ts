/**
 * The files through which a master's supervisor and any daemon (the one that launched it
 * or a later one after a restart) communicate. Files, not pipes: they outlive the daemon.
 */
import fs from 'node:fs';
import path from 'node:path';

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
}

/** What the launcher hands the supervisor (through SPEC_FILE, deleted once read: it holds env). */
export interface SupervisorSpec {
  jobId: number;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  jobDir: string;
  /** After the master exits, leftover group members get SIGTERM, then SIGKILL after this. */
  stragglerGraceMs: number;
}

/** Messages on the supervisor's IPC channel, which it closes right after the first one. */
export type SupervisorMessage = { type: 'started'; pid: number | null };

/**
 * Write-then-rename so a reader (possibly another daemon) never sees half a file; fsync so
 * a machine crash does not leave an empty exit.json behind.
 */
export function writeJsonAtomic(file: string, value: unknown, mode = 0o644): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  const fd = fs.openSync(tmp, 'w', mode);
  try {
    fs.writeSync(fd, JSON.stringify(value, null, 2) + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** null when the file is missing or not valid JSON. */
export function readJsonFile<T>(file: string): T | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

export function readExitStatus(jobDir: string): ExitStatus | null {
  const s = readJsonFile<ExitStatus>(path.join(jobDir, EXIT_FILE));
  return s !== null && typeof s === 'object' && 'exitCode' in s ? s : null;
}

export function readMasterRecord(jobDir: string): MasterRecord | null {
  const r = readJsonFile<MasterRecord>(path.join(jobDir, MASTER_FILE));
  return r !== null && typeof r === 'object' && Number.isInteger(r.pgid) && r.pgid > 1 ? r : null;
}
