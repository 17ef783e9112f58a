/**
 * What a COMPSs job runs, as `runcompss` takes it: a Python file (copied into the job folder,
 * run by runcompss with the interpreter, so it needs no #! line), a Java main class found on
 * --classpath, or a C binary. Pure: the checks both `grm sbatch` and the daemon apply, the
 * resolution of the path options against the submit directory, and the job's project.xml
 * `<Application>` entries.
 */
import path from 'node:path';
import { GrmError } from '../errors.js';
import type { JobDescription } from '../jobs/job-types.js';
import type { ApplicationModel } from './compss-model.js';

export type CompssAppKind = 'python' | 'java' | 'c';

/** The description fields of the path options, with their GRM option names and runcompss flags. */
export const COMPSS_PATH_OPTIONS = [
  { field: 'classpath', option: '--classpath', flag: '--classpath', list: true },
  { field: 'appdir', option: '--appdir', flag: '--appdir', list: false },
  { field: 'pythonpath', option: '--pythonpath', flag: '--pythonpath', list: true },
  { field: 'library_path', option: '--library-path', flag: '--library_path', list: true },
] as const;

/** A Java class name: dot-separated identifiers (matmul.Matmul, Main, a.b.C$Inner). */
const JAVA_CLASS = /^[\p{L}_$][\p{L}\p{N}_$]*(\.[\p{L}_$][\p{L}\p{N}_$]*)*$/u;

const invalid = (option: string, message: string): GrmError => new GrmError('E_OPTION_INVALID', message, { field: option });

/** Which kind of COMPSs application the description runs; undefined for a plain batch job. */
export function compssAppKind(d: Pick<JobDescription, 'runtime' | 'lang'>): CompssAppKind | undefined {
  return d.runtime === 'compss' ? (d.lang ?? 'python') : undefined;
}

/** Java and C apps are named, not sent: the job has no script text. */
export function hasApplicationFile(d: Pick<JobDescription, 'runtime' | 'lang'>): boolean {
  const kind = compssAppKind(d);
  return kind === undefined || kind === 'python';
}

function checkPathOptions(d: JobDescription, kind: CompssAppKind | undefined): void {
  for (const { field, option, list } of COMPSS_PATH_OPTIONS) {
    if (d[field] === undefined) continue;
    if (kind === undefined) throw invalid(option, `${option} is for COMPSs applications: add --runtime=compss, or remove ${option}`);
    const value = d[field];
    if (value.includes('\0')) throw invalid(option, `Invalid ${option}: the value contains a NUL character`);
    // the CLI resolves relative entries; a REST client must send them resolved
    if ((list ? value.split(':') : [value]).some((p) => !path.isAbsolute(p))) {
      throw invalid(option, `Invalid ${option} '${value}': every entry must be an absolute path (grm sbatch resolves relative ones against the submit directory)`);
    }
  }
  if (d.classpath !== undefined && kind !== 'java') {
    throw invalid('--classpath', `--classpath is for Java applications (--lang=java); for a ${kind} application use ${kind === 'python' ? '--pythonpath' : '--library-path'}`);
  }
  if (d.pythonpath !== undefined && kind !== 'python') {
    throw invalid('--pythonpath', `--pythonpath is for Python applications (--lang=python); for a ${kind} application use ${kind === 'java' ? '--classpath' : '--library-path'}`);
  }
}

function checkJavaClass(name: string): void {
  if (JAVA_CLASS.test(name)) {
    if (/\.(jar|class|java)$/.test(name)) {
      throw invalid('application', `'${name}' is a file name: with --lang=java give the main class (e.g. matmul.Matmul) and put the jar or class folder in --classpath`);
    }
    return;
  }
  throw invalid('application', `'${name}' is not a Java class name: with --lang=java give the main class (e.g. matmul.Matmul) and put the jar or class folder in --classpath`);
}

/**
 * The rules of a COMPSs application, in SLURM-style words naming the option: which path
 * options go with which language, and that Java and C apps are named (application) while
 * Python apps and batch scripts are sent (script).
 */
export function checkCompssApplication(d: JobDescription): void {
  const kind = compssAppKind(d);
  checkPathOptions(d, kind);
  if (hasApplicationFile(d)) {
    if (d.application !== undefined) {
      throw invalid('application', `application names a Java class or C binary: it needs --runtime=compss with --lang=java or --lang=c; send a ${kind === 'python' ? 'Python app' : 'batch script'} as the script`);
    }
    return;
  }
  if (d.script !== undefined) {
    throw invalid('script', `a COMPSs ${kind === 'java' ? 'Java' : 'C'} application has no script: give the ${kind === 'java' ? 'main class' : 'binary path'} as the application`);
  }
  if (d.application === undefined || d.application === '') {
    throw invalid('application', `--lang=${kind} needs the application: ${kind === 'java' ? 'the main class, e.g. grm sbatch --runtime=compss --lang=java --classpath=app.jar matmul.Matmul' : 'the binary, e.g. grm sbatch --runtime=compss --lang=c ./master/simple'}`);
  }
  if (kind === 'java') checkJavaClass(d.application);
  else if (d.application.includes('\0') || !path.isAbsolute(d.application)) {
    throw invalid('application', `the C binary must be an absolute path, got ${JSON.stringify(d.application)}`);
  }
}

/** A ':'-separated path list (or one path), each relative entry made absolute against `cwd`. */
function resolveList(value: string, cwd: string, list: boolean): string {
  const entries = list ? value.split(':') : [value];
  return entries.map((p) => (p === '' ? p : path.resolve(cwd, p))).join(':');
}

/**
 * The path options and a C binary resolved against the submit directory, as sbatch resolves
 * -D: the master runs elsewhere (the job folder or -D), where a relative path means nothing.
 */
export function resolveCompssPaths(d: JobDescription, cwd: string): JobDescription {
  const out: JobDescription = { ...d };
  for (const { field, list } of COMPSS_PATH_OPTIONS) {
    const value = out[field];
    if (value !== undefined) out[field] = resolveList(value, cwd, list);
  }
  if (compssAppKind(d) === 'c' && out.application) out.application = path.resolve(cwd, out.application);
  return out;
}

/** The job's own project.xml `<Application>` entries (they win over the config's, see allocation-xml.ts). */
export function applicationModelOf(d: JobDescription): ApplicationModel | undefined {
  const out: ApplicationModel = {};
  if (d.appdir !== undefined) out.appDir = d.appdir;
  if (d.library_path !== undefined) out.libraryPath = d.library_path;
  if (d.classpath !== undefined) out.classpath = d.classpath;
  if (d.pythonpath !== undefined) out.pythonpath = d.pythonpath;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The runcompss flags of the path options, in COMPSS_PATH_OPTIONS order. */
export function compssPathFlags(d: JobDescription): string[] {
  return COMPSS_PATH_OPTIONS.filter(({ field }) => d[field] !== undefined).map(({ field, flag }) => `${flag}=${d[field]}`);
}
