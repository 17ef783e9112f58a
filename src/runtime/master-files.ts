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
export const SPEC_FILE = 'supervisor-spec';

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
 * The spec as grm-supervisor reads it (src/runtime/native/spec.c): `key\0value\0` pairs,
 * lists as repeated keys. No argument, environment entry or path can hold a NUL (exec could
 * not pass it), so a string with one is refused here rather than cut short there.
 */
export function encodeSpec(spec: SupervisorSpec): Buffer {
  const pairs: [string, string][] = [
    ['job', String(spec.jobId)],
    ['dir', spec.jobDir],
    ['cmd', spec.command],
    ['arg', spec.command], // argv[0], as spawn() sets it
    ...spec.args.map((a): [string, string] => ['arg', a]),
    ['cwd', spec.cwd],
    ...Object.entries(spec.env).map(([k, v]): [string, string] => ['env', `${k}=${v}`]),
    ['out', spec.stdoutPath],
    ['mode', spec.openMode],
    ...spec.outputDevices.map((d): [string, string] => ['dev', d]),
    ['grace', String(Math.max(0, Math.round(spec.stragglerGraceMs)))],
  ];
  // one descriptor for both when they name the same file, as Node's path.resolve compares them
  if (path.resolve(spec.jobDir, spec.stderrPath) !== path.resolve(spec.jobDir, spec.stdoutPath)) pairs.push(['err', spec.stderrPath]);
  if (spec.runAs !== null) {
    pairs.push(['uid', String(spec.runAs.uid)], ['gid', String(spec.runAs.gid)]);
    for (const g of spec.runAs.groups) pairs.push(['grp', String(g)]);
  }
  for (const [key, value] of pairs) {
    if (value.includes('\0')) throw new Error(`the job's ${key === 'env' ? 'environment' : key === 'arg' ? 'arguments' : key} hold a NUL byte`);
  }
  return Buffer.from(pairs.map(([k, v]) => `${k}\0${v}\0`).join(''), 'utf8');
}

/**
 * The supervisor's one line on its status pipe, which it closes right after: the master
 * runs (`started <pid>`; `started -` when the command could not run, see exit.json), or GRM
 * could not start it (`failed <reason>`: the file or the account, and why).
 */
export type SupervisorMessage = { type: 'started'; pid: number | null } | { type: 'failed'; reason: string };

export function parseSupervisorMessage(line: string): SupervisorMessage | null {
  const space = line.indexOf(' ');
  const kind = space < 0 ? line : line.slice(0, space);
  const rest = space < 0 ? '' : line.slice(space + 1);
  if (kind === 'failed') return { type: 'failed', reason: rest };
  if (kind !== 'started') return null;
  const pid = Number(rest);
  return { type: 'started', pid: Number.isSafeInteger(pid) && pid > 1 ? pid : null };
}

/**
 * Write-then-rename so a reader (possibly another daemon) never sees half a file. 0600: the
 * daemon's alone (a master.json names the job's command line, which other accounts have no
 * business reading). `durable` adds an fsync, for what must outlive a machine crash (an exit
 * status); master.json need not: a machine crash ends its master too, and a missing record
 * reads as a lost master, which is then the truth.
 */
export function writeJsonAtomic(file: string, value: unknown, o: { mode?: number; durable?: boolean } = {}): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  // a fresh file, whatever was left at its name (never through a link, never blocking)
  fs.rmSync(tmp, { force: true });
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
  const fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK, o.mode ?? 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(value, null, 2) + '\n');
    if (o.durable) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
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
