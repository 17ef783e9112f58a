/**
 * A small tmpfs of the test's own (root only), to fill up: the disk-full faults of issue 18.
 * Unmounted when the test ends, also when it fails.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

interface Teardownable {
  teardown(fn: () => unknown): void;
}

interface TestLike extends Teardownable {
  fail(message: string): void;
  comment(message: string): void;
}

export const canMount = (): boolean => process.getuid?.() === 0;

/**
 * mountSmallFilesystem when the test may mount (root); else null, the test skipped with a
 * comment, or failed under CI (which runs as root: a skip there would hide the suite).
 */
export async function mountOrSkip(t: TestLike, size: string): Promise<string | null> {
  if (canMount()) return mountSmallFilesystem(t, size);
  if (process.env.CI === 'true') t.fail('needs root (a tmpfs mount) and CI runs as root');
  else t.comment('skipped: needs root to mount a small tmpfs');
  return null;
}

/** Mounts a tmpfs of `size` (e.g. '16m') on a new temp dir; returns the dir. */
export async function mountSmallFilesystem(t: Teardownable, size: string): Promise<string> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-small-fs-'));
  await run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', root]);
  t.teardown(async () => {
    await run('umount', ['-l', root]);
    fs.rmSync(root, { recursive: true, force: true });
  });
  return root;
}

/** Fills the filesystem of `dir` with one file until it says ENOSPC; removing the file frees the space. */
export function fillFilesystem(dir: string): string {
  const file = path.join(dir, 'filler');
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(256 * 1024, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    fs.closeSync(fd);
  }
  return file;
}
