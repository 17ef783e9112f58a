/**
 * A job's folder, <dataDir>/jobs/<id>: GRM's, with the parts its master writes handed to the
 * account it runs as.
 *
 *   jobs/<id>/                 GRM's (0755): the job cannot create, replace or re-point entries
 *     project.xml, resources.xml, master.json, exit.json     GRM's, read-only for the job
 *     script | app.py          the job's (0700): its own code, private to it
 *     stdout.log, stderr.log   the job's: created here by GRM, written by the master
 *     work/, compss/           the job's (0700): default working directory, COMPSs logs
 *     tasks/                   the job's (0700): per-task output (srun -o "$GRM_TASK_OUTPUT_DIR/%t.out")
 *
 * So master.json and exit.json, from which the daemon decides which process group to
 * signal, stay out of the job's reach without moving them elsewhere. Without run-as (the
 * daemon is not root) the job is the daemon's own account and nothing here is handed over.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RunAs } from '../runtime/run-as.js';
import { errnoWords } from '../runtime/safe-files.js';

const { O_WRONLY, O_CREAT, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

/** The folder of per-task output files, each stored with the task rank its name carries. */
export const TASK_OUTPUT_DIR = 'tasks';

/** A directory that must be a real one (not a symlink), created when missing. */
function realDirectory(dir: string, mode: number): void {
  try {
    fs.mkdirSync(dir, { mode });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const st = fs.lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory GRM made (it is a link or a file)`);
}

/** The job folder and its work/ (and compss/) folders, owned as described above. */
export function prepareJobFolder(jobDir: string, runAs: RunAs | null, subdirs: readonly string[]): void {
  fs.mkdirSync(path.dirname(jobDir), { recursive: true });
  realDirectory(jobDir, 0o755);
  if (runAs !== null) {
    // GRM's, whatever an earlier run left: the job's account must not own or write it
    fs.lchownSync(jobDir, 0, 0);
    fs.chmodSync(jobDir, 0o755);
  }
  for (const name of subdirs) {
    const dir = path.join(jobDir, name);
    realDirectory(dir, 0o755);
    if (runAs !== null) {
      fs.lchownSync(dir, runAs.uid, runAs.gid);
      fs.chmodSync(dir, 0o700);
    }
  }
}

/** A file GRM wrote for the job (its script) handed to its account. */
export function giveToJob(file: string, runAs: RunAs | null, mode: number): void {
  if (runAs === null) return;
  fs.lchownSync(file, runAs.uid, runAs.gid);
  fs.chmodSync(file, mode);
}

/**
 * Output files directly in the job folder (stdout.log by default), which the job's account
 * cannot create there: created by GRM (in its own folder nothing can be a FIFO or a link it
 * did not make; O_NOFOLLOW and O_NONBLOCK all the same) and handed over. The supervisor then
 * opens them as the job's user, like any other output.
 */
export function precreateOutputs(jobDir: string, files: readonly string[], runAs: RunAs | null): void {
  if (runAs === null) return;
  for (const file of files) {
    if (path.dirname(file) !== jobDir) continue;
    let fd: number;
    try {
      fd = fs.openSync(file, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o600);
    } catch (e) {
      throw new Error(`cannot create the output file '${file}': ${errnoWords(e)}`);
    }
    try {
      if (!fs.fstatSync(fd).isFile()) throw new Error(`cannot create the output file '${file}': it is not a regular file`);
      fs.fchownSync(fd, runAs.uid, runAs.gid);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** Whether an account (uid, its groups) may enter a directory, by its mode bits. */
function mayEnter(st: fs.Stats, runAs: RunAs): boolean {
  if (runAs.uid === 0) return true;
  if (st.uid === runAs.uid) return (st.mode & 0o100) !== 0;
  if (st.gid === runAs.gid || runAs.groups.includes(st.gid)) return (st.mode & 0o010) !== 0;
  return (st.mode & 0o001) !== 0;
}

/**
 * The first folder on the way to the job folder that the job's account cannot enter, or
 * null. Its master could not even run its script: say so before starting it.
 */
export function unreachableFolder(jobDir: string, runAs: RunAs | null): string | null {
  if (runAs === null) return null;
  let dir = path.resolve(jobDir);
  const chain: string[] = [];
  for (;;) {
    chain.unshift(dir);
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  for (const d of chain) {
    const st = fs.statSync(d, { throwIfNoEntry: false });
    if (st !== undefined && !mayEnter(st, runAs)) return `${d} (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}, uid ${st.uid})`;
  }
  return null;
}
