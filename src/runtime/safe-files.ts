/**
 * Opening files a job can influence, without ever blocking and without being led elsewhere.
 *
 * A job names its output files and can create, replace or re-point files where it writes. An
 * open(2) of a FIFO blocks until the other end opens it; a symlink or a hard link can lead to
 * /etc/shadow. So every open here uses O_NONBLOCK (a FIFO open returns at once) and looks at
 * what it got with fstat before reading or writing a byte:
 *
 * - output files (the supervisor, as the job's user): regular files, or a character device
 *   listed in runtime.outputDevices (/dev/null by default), nothing else;
 * - files the daemon reads on the job's behalf (its outputs, COMPSs logs): O_NOFOLLOW,
 *   regular, and owned by the job's account when the job runs as another one;
 * - GRM's own files in a job folder (project.xml, master.json...): O_NOFOLLOW, regular, in a
 *   folder that is not a symlink, owned by the daemon.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

const { O_WRONLY, O_RDONLY, O_CREAT, O_APPEND, O_NONBLOCK, O_NOCTTY, O_NOFOLLOW } = fs.constants;

export const DEFAULT_OUTPUT_DEVICES: readonly string[] = ['/dev/null'];

/** Read flags for job-writable files: never follow a final symlink, never wait on a FIFO. */
export const SAFE_READ_FLAGS = O_RDONLY | O_NOFOLLOW | O_NONBLOCK;

/** An output file that cannot be used, with a reason a user can act on. */
export class OutputFileError extends Error {
  constructor(
    readonly file: string,
    readonly why: string,
  ) {
    super(`cannot open '${file}': ${why}`);
    this.name = 'OutputFileError';
  }
}

const ERRNO_WORDS: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  EROFS: 'Read-only file system',
  ENOSPC: 'No space left on device',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
  ETXTBSY: 'Text file busy',
};

export function errnoWords(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return (err.code && ERRNO_WORDS[err.code]) ?? err.code ?? err.message ?? String(e);
}

/** What kind of non-regular file a stat describes, in ls(1)'s words. */
export function fileKind(st: fs.Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

function isAllowedDevice(st: fs.Stats, devices: readonly string[]): boolean {
  if (!st.isCharacterDevice()) return false;
  return devices.some((d) => {
    const allowed = fs.statSync(d, { throwIfNoEntry: false });
    return allowed !== undefined && allowed.dev === st.dev && allowed.ino === st.ino && allowed.rdev === st.rdev;
  });
}

function refusal(st: fs.Stats, devices: readonly string[]): string {
  const allowed = devices.length > 0 ? `regular files and ${devices.join(', ')}` : 'regular files';
  return `it is ${fileKind(st)}; job output goes only to ${allowed} (runtime.outputDevices)`;
}

/**
 * Opens (creating it) an output file for appending: never blocks, refuses anything but a
 * regular file or an allowed device. `truncate` empties a regular file (--open-mode=truncate).
 * The descriptor of a regular file is opened again without O_NONBLOCK, so the job's writes
 * see an ordinary file.
 */
export function openOutputFile(file: string, o: { truncate: boolean; devices: readonly string[] }): number {
  let fd: number;
  try {
    fd = fs.openSync(file, O_WRONLY | O_CREAT | O_APPEND | O_NONBLOCK | O_NOCTTY, 0o666);
  } catch (e) {
    // ENXIO: a FIFO nobody reads, or a socket; stat (which does not block) says which
    const st = (e as NodeJS.ErrnoException).code === 'ENXIO' ? fs.statSync(file, { throwIfNoEntry: false }) : undefined;
    throw new OutputFileError(file, st ? refusal(st, o.devices) : errnoWords(e));
  }
  try {
    const st = fs.fstatSync(fd);
    if (isAllowedDevice(st, o.devices)) return fd;
    if (!st.isFile()) throw new OutputFileError(file, refusal(st, o.devices));
    if (o.truncate) fs.ftruncateSync(fd, 0);
    return reopenBlocking(fd);
  } catch (e) {
    fs.closeSync(fd);
    throw e instanceof OutputFileError ? e : new OutputFileError(file, errnoWords(e));
  }
}

/** The same file again through /proc/self/fd (the very inode, no path lookup), blocking. */
function reopenBlocking(fd: number): number {
  let again: number;
  try {
    again = fs.openSync(`/proc/self/fd/${fd}`, O_WRONLY | O_APPEND | O_NOCTTY);
  } catch {
    return fd; // no /proc: O_NONBLOCK changes nothing for a regular file on Linux anyway
  }
  fs.closeSync(fd);
  return again;
}

/** Why an opened file may not be read for a job, or null. `owner`: the uid it must belong to. */
export function readRefusal(st: fs.Stats, owner: number | undefined): string | null {
  if (!st.isFile()) return `it is ${fileKind(st)}`;
  if (owner !== undefined && st.uid !== owner) return `it belongs to uid ${st.uid}, not to the job's uid ${owner}`;
  return null;
}

/** A job-writable file opened for reading (O_NOFOLLOW, O_NONBLOCK), checked; ENOENT passes through. */
export async function openForReading(file: string, owner?: number): Promise<fsp.FileHandle> {
  const fh = await fsp.open(file, SAFE_READ_FLAGS);
  try {
    const why = readRefusal(await fh.stat(), owner);
    if (why !== null) throw Object.assign(new Error(`GRM does not read '${file}': ${why}`), { code: 'E_UNSAFE_FILE' });
    return fh;
  } catch (e) {
    await fh.close().catch(() => {});
    throw e;
  }
}

/**
 * A small file read whole, synchronously, the safe way; null when it is missing, is not a
 * regular file, is larger than maxBytes, or does not belong to `owner`.
 */
export function readSmallFileSync(file: string, maxBytes: number, owner?: number): string | null {
  let fd: number;
  try {
    fd = fs.openSync(file, SAFE_READ_FLAGS);
  } catch {
    return null;
  }
  try {
    const st = fs.fstatSync(fd);
    if (readRefusal(st, owner) !== null || st.size > maxBytes) return null;
    const buf = Buffer.alloc(st.size);
    let at = 0;
    while (at < buf.length) {
      const n = fs.readSync(fd, buf, at, buf.length - at, at);
      if (n === 0) break;
      at += n;
    }
    return buf.subarray(0, at).toString('utf8');
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * One of the files GRM wrote in a job's folder (project.xml...), for the API: the folder must
 * be a real directory (not a symlink), the file a regular one GRM's own uid owns, not a link.
 * null when it is not there (yet) or is not GRM's.
 */
export async function readGrmJobFile(jobDir: string, name: string, maxBytes: number): Promise<string | null> {
  const dir = await fsp.lstat(jobDir).catch(() => null);
  if (dir === null || !dir.isDirectory()) return null;
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path.join(jobDir, name), SAFE_READ_FLAGS);
  } catch {
    return null;
  }
  try {
    const st = await fh.stat();
    const owner = typeof process.geteuid === 'function' ? process.geteuid() : undefined;
    if (readRefusal(st, owner) !== null || st.nlink !== 1 || st.size > maxBytes) return null;
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}
