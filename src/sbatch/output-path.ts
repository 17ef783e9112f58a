/**
 * The paths a job names (-o/--output, -e/--error, -D/--chdir), checked as text and placed
 * relative to the daemon's data dir. Pure: resolving symlinks of existing folders is the
 * caller's part (src/jobs/output-policy.ts); here a path is only text.
 *
 * Rules, whoever asks:
 * - not empty, no NUL (execve and open(2) cannot carry one), at most PATH_MAX bytes;
 * - -D absolute (the CLI resolves a relative one against its working directory, as sbatch);
 * - -o/-e absolute or relative to the job's working directory (after %-pattern expansion);
 * - never inside the daemon's data dir, except the job's own folder, and there not over a
 *   file GRM itself writes (the store, another job's outputs, project.xml...).
 */
import path from 'node:path';
import { expandOutputPattern, type OutputPatternValues } from './output-pattern.js';

/** Linux PATH_MAX, counted in bytes as the kernel counts it. */
export const PATH_MAX = 4096;

export type PathField = 'standard_output' | 'standard_error' | 'current_working_directory';

/** How sbatch names each field in its messages. */
export const PATH_OPTION: Record<PathField, string> = {
  standard_output: '--output',
  standard_error: '--error',
  current_working_directory: '--chdir',
};

/** Files GRM writes in a job's own folder: no output may land on them. */
export const GRM_JOB_FILES: readonly string[] = [
  'project.xml',
  'resources.xml',
  'script',
  'app.py',
  'app.jar',
  'app',
  'master.json',
  'exit.json',
  'supervisor-spec.json',
];

/** What is wrong with a path as text (empty, NUL, too long), or null. */
export function pathTextProblem(value: string): string | null {
  if (value.length === 0) return 'the value must not be empty';
  if (value.includes('\0')) return 'the value contains a NUL byte';
  if (Buffer.byteLength(value, 'utf8') > PATH_MAX) return `the value is longer than ${PATH_MAX} bytes (PATH_MAX)`;
  return null;
}

/** The message sbatch-style for a bad path value of a field. */
export function pathTextError(field: PathField, value: string): string | null {
  const problem = pathTextProblem(value);
  if (problem === null) {
    if (field === 'current_working_directory' && !path.isAbsolute(value)) {
      return `Invalid ${PATH_OPTION[field]} '${value}': the directory must be an absolute path (the API has no current directory; grm sbatch resolves a relative one)`;
    }
    return null;
  }
  // a NUL or a huge value is not echoed back
  const shown = problem === 'the value must not be empty' ? "''" : `(${Buffer.byteLength(value, 'utf8')} bytes)`;
  return `Invalid ${PATH_OPTION[field]} ${shown}: ${problem}`;
}

/**
 * The absolute path an -o/-e pattern names for a job: %-specifiers expanded as slurmstepd
 * does, a relative result joined to the working directory. Not normalised: a `..` after a
 * symlink means what the kernel makes of it, which only resolving the real path can tell.
 */
export function resolveOutputPath(pattern: string, values: OutputPatternValues, workDir: string): string {
  const expanded = expandOutputPattern(pattern, values);
  return path.isAbsolute(expanded) ? expanded : `${workDir.replace(/\/+$/, '')}/${expanded}`;
}

/** True when p is dir or below it (both absolute and normalised). */
export function isInside(p: string, dir: string): boolean {
  if (dir === '/') return p.startsWith('/');
  return p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

export interface DataDirLayout {
  /** The daemon's data dir, symlinks resolved. */
  dataDir: string;
  /** This job's folder (<dataDir>/jobs/<id>), symlinks resolved the same way. */
  ownJobDir: string;
}

/**
 * Why a real (symlink-free) path may not be used for a job's output or working directory,
 * or null. Inside the data dir only the job's own folder is open, minus GRM's files there.
 */
export function dataDirViolation(real: string, layout: DataDirLayout, field: PathField): string | null {
  if (!isInside(real, layout.dataDir)) return null;
  if (isInside(real, layout.ownJobDir)) {
    const rel = path.relative(layout.ownJobDir, real);
    if (field !== 'current_working_directory' && (rel === '' || GRM_JOB_FILES.includes(rel))) {
      return `it is ${rel === '' ? "the job's folder itself" : `GRM's own ${rel} of the job`}`;
    }
    return null;
  }
  const jobsDir = path.join(layout.dataDir, 'jobs');
  if (isInside(real, jobsDir) && real !== jobsDir) return "it is inside another job's folder";
  return "it is inside GRM's data directory (the daemon's store)";
}

/** Why a real path is outside every root a user may write under, or null; `shown` names them. */
export function rootsViolation(real: string, roots: readonly string[], shown: readonly string[] = roots): string | null {
  if (roots.some((r) => isInside(real, r))) return null;
  return `it is outside the directories open to job output (${shown.join(', ')})`;
}
