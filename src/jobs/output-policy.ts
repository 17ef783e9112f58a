/**
 * Where a job may send its output and run: the daemon side of -o/-e/-D. Checked at submit and
 * update (with a placeholder job id: the real one is not known yet) and again at start, with
 * the job's real values, just before the supervisor opens the files.
 *
 * Always refused, whoever asks: a path (symlinks of its existing folders resolved) inside the
 * daemon's data dir other than the job's own folder, i.e. another job's folder or the store.
 * For non-admins, also a path outside the output roots (runtime.outputRoots); when none are
 * configured: anywhere when the master runs as a non-root account (the OS decides what it may
 * write), /tmp and the job's own folder when it would run as root.
 *
 * These checks stop a job from making GRM write where the job itself could not; they cannot
 * stop a master that runs as root from writing anywhere by itself, which is why the daemon
 * runs each master as its user's account (src/runtime/run-as.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { GrmError } from '../errors.js';
import { masterUid, type MasterIdentity } from '../runtime/run-as.js';
import type { OutputPatternValues } from '../sbatch/output-pattern.js';
import {
  PATH_OPTION,
  dataDirViolation,
  pathTextError,
  resolveOutputPath,
  rootsViolation,
  type PathField,
} from '../sbatch/output-path.js';
import type { JobDescription, JobRecord } from './job-types.js';

export interface OutputPolicyOptions {
  dataDir: string;
  /** runtime.outputRoots; empty: decided by who the master runs as (see above). */
  roots: readonly string[];
  /** Who a user's master runs as. */
  identity: (user: string) => MasterIdentity;
  /** The users part's role lookup; default: nobody is an admin. */
  isAdmin?: (user: string) => boolean;
}

/** Where roots are not configured and the master would run as root. */
export const ROOT_MASTER_ROOTS: readonly string[] = ['/tmp'];

/** The job id checked at submit, before the real one exists: no job ever has it. */
const SUBMIT_JOB_ID = 0;

const FIELDS: readonly PathField[] = ['current_working_directory', 'standard_output', 'standard_error'];

export interface JobPath {
  field: PathField;
  /** As the user wrote it (for messages). */
  given: string;
  /** Absolute: relative outputs joined to the working directory, patterns expanded. */
  path: string;
}

export function jobDirOf(dataDir: string, jobId: number): string {
  return path.join(dataDir, 'jobs', String(jobId));
}

/**
 * The path with every symlink of its existing part resolved as the kernel would (a `..`
 * after a symlink leaves the symlink's target), the part that does not exist yet appended.
 */
export function realPathOf(p: string): string {
  const parts = p.split('/');
  for (let n = parts.length; n > 0; n--) {
    const head = parts.slice(0, n).join('/') || '/';
    let real: string;
    try {
      real = fs.realpathSync.native(head);
    } catch {
      continue;
    }
    return path.resolve(real, ...parts.slice(n).filter((x) => x !== '' && x !== '.'));
  }
  return path.resolve(p);
}

export class OutputPolicy {
  private readonly dataDir: string;

  constructor(private readonly o: OutputPolicyOptions) {
    this.dataDir = realPathOf(path.resolve(o.dataDir));
  }

  /** Who a user's master runs as (the runner asks the same question at start). */
  identity(user: string): MasterIdentity {
    return this.o.identity(user);
  }

  /** At submit or update: the request's -o/-e/-D, for a job of `user` named `name`. */
  checkRequest(description: JobDescription, user: string, name: string): void {
    checkPathTexts(description);
    const identity = this.o.identity(user);
    if (identity.kind === 'refused') throw new GrmError('E_PERMISSION_DENIED', `Invalid user for job submission: ${identity.reason}`, { field: 'user' });
    const ownDir = jobDirOf(this.o.dataDir, SUBMIT_JOB_ID);
    const workDir = description.current_working_directory ?? path.join(ownDir, 'work');
    const values: OutputPatternValues = { jobId: SUBMIT_JOB_ID, jobName: name, user, nodeName: 'node' };
    this.checkPaths(jobPaths(description, values, workDir), user, identity, SUBMIT_JOB_ID);
  }

  /** At start, with the job's own id, name and first node: what it would fail with, thrown. */
  checkStart(job: JobRecord, identity: MasterIdentity, firstNode: string): void {
    checkPathTexts(job.description); // a job stored before these checks existed
    const workDir = job.description.current_working_directory ?? path.join(jobDirOf(this.o.dataDir, job.id), 'work');
    this.checkPaths(jobPaths(job.description, patternValuesOf(job, firstNode), workDir), job.user, identity, job.id);
  }

  /** Throws E_PERMISSION_DENIED naming the first path the job may not use. */
  checkPaths(paths: readonly JobPath[], user: string, identity: MasterIdentity, jobId: number): void {
    const ownJobDir = realPathOf(jobDirOf(path.resolve(this.o.dataDir), jobId));
    const roots = this.rootsFor(user, identity);
    const open = roots === null ? null : [...roots, ownJobDir];
    for (const p of paths) {
      const real = realPathOf(p.path);
      const outside = open === null ? null : rootsViolation(real, open, [...roots!, "the job's folder"]);
      const why = dataDirViolation(real, { dataDir: this.dataDir, ownJobDir }, p.field) ?? outside;
      if (why === null) continue;
      const shown = real === p.given ? `'${p.given}'` : `'${p.given}' (${real})`;
      throw new GrmError('E_PERMISSION_DENIED', `${PATH_OPTION[p.field]} ${shown} is refused: ${why}`, { field: p.field });
    }
  }

  /** The folders (besides its own) a user's paths must be under; null: anywhere (admins, or a non-root master). */
  private rootsFor(user: string, identity: MasterIdentity): string[] | null {
    if (this.o.isAdmin?.(user) === true) return null;
    if (this.o.roots.length > 0) return this.o.roots.map((r) => realPathOf(path.resolve(r)));
    if (masterUid(identity) !== 0) return null;
    return ROOT_MASTER_ROOTS.map((r) => realPathOf(r));
  }
}

/** Empty, NUL, too long, a relative -D: E_OPTION_INVALID naming the field. */
function checkPathTexts(description: JobDescription): void {
  for (const field of FIELDS) {
    const value: unknown = description[field];
    if (value === undefined) continue;
    const problem = typeof value === 'string' ? pathTextError(field, value) : `Invalid ${PATH_OPTION[field]}: a path is text`;
    if (problem !== null) throw new GrmError('E_OPTION_INVALID', problem, { field });
  }
}

/** The job's -D, -o and -e as absolute paths (the defaults in its own folder are GRM's, not checked). */
export function jobPaths(description: JobDescription, values: OutputPatternValues, workDir: string): JobPath[] {
  const out: JobPath[] = [];
  const cwd = description.current_working_directory;
  if (cwd !== undefined) out.push({ field: 'current_working_directory', given: cwd, path: cwd });
  for (const field of ['standard_output', 'standard_error'] as const) {
    const given = description[field];
    if (given !== undefined) out.push({ field, given, path: resolveOutputPath(given, values, workDir) });
  }
  return out;
}

export interface OutputFile {
  source: 'stdout' | 'stderr';
  path: string;
}

/** Where the master's stdout and stderr go: -o/-e when given (sbatch patterns), else the job folder. */
export function outputFilesOf(job: JobRecord, jobDir: string, firstNode: string): OutputFile[] {
  const workDir = job.description.current_working_directory ?? path.join(jobDir, 'work');
  const values = patternValuesOf(job, firstNode);
  const { standard_output: out, standard_error: err } = job.description;
  const stdoutPath = out ? resolveOutputPath(out, values, workDir) : path.join(jobDir, 'stdout.log');
  // sbatch: without -e, stderr goes where stdout goes
  const stderrPath = err ? resolveOutputPath(err, values, workDir) : out ? stdoutPath : path.join(jobDir, 'stderr.log');
  return stderrPath === stdoutPath
    ? [{ source: 'stdout', path: stdoutPath }]
    : [
        { source: 'stdout', path: stdoutPath },
        { source: 'stderr', path: stderrPath },
      ];
}

/** The values %-patterns expand to for a job about to start. */
export function patternValuesOf(job: JobRecord, firstNode: string): OutputPatternValues {
  return {
    jobId: job.id,
    jobName: job.name,
    user: job.user,
    nodeName: firstNode,
    ...(job.arrayJobId !== null && job.arrayTaskId !== null ? { arrayJobId: job.arrayJobId, arrayTaskId: job.arrayTaskId } : {}),
  };
}
