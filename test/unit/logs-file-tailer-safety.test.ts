/**
 * The tail of a job's output is a file the job can replace: a FIFO must not hang the daemon's
 * reads, a symlink must not lead it elsewhere, a file of another account must not be read.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileTailer, type TailBatch } from '../../src/logs/file-tailer.js';
import { waitUntil } from '../helpers/wait.js';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-tail-safe-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function tail(t: { teardown(fn: () => unknown): void }, file: string, owner?: number) {
  const batches: TailBatch[] = [];
  const errors: string[] = [];
  const tailer = new FileTailer({
    path: file,
    pollIntervalMs: 20,
    watch: false,
    ...(owner !== undefined ? { owner } : {}),
    onBatch: (b) => void batches.push(b),
    onError: (e) => void errors.push(e.message),
  });
  t.teardown(() => tailer.stop());
  return { tailer, errors, lines: () => batches.flatMap((b) => b.lines) };
}


t.test('a FIFO at the output path: not opened for reading (no blocked read), reported once', async (t) => {
  const file = path.join(tempDir(t), 'out.log');
  execFileSync('mkfifo', [file]);
  const c = tail(t, file);
  c.tailer.start();
  await waitUntil('the refusal', () => c.errors.length > 0);
  // a draining stop reads once more: it returns (nothing waits on the FIFO) and says nothing new
  await c.tailer.stop({ drain: true });
  t.same(c.lines(), []);
  t.same(c.errors, [`not following ${file}: GRM does not read '${file}': it is a FIFO (named pipe)`], 'once, not at every read');
});

t.test('an output replaced by a symlink: the old file is read to its end, the link is not followed', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'out.log');
  const secret = path.join(dir, 'secret');
  fs.writeFileSync(secret, 'SECRET\n');
  fs.writeFileSync(file, 'one\n');
  const c = tail(t, file);
  c.tailer.start();
  await waitUntil('the first line', () => c.lines().includes('one'));
  fs.rmSync(file);
  fs.symlinkSync(secret, file);
  await c.tailer.stop({ drain: true }); // reads on: notices the replacement, looks at the new file
  t.same(c.lines(), ['one'], 'nothing of the link target');
  t.match(c.errors.join('\n'), /not following .*out\.log/);
});

t.test("with an owner: a file of another account is not read", async (t) => {
  const file = path.join(tempDir(t), 'out.log');
  fs.writeFileSync(file, 'not yours\n');
  const mine = process.getuid?.() ?? 0;
  const c = tail(t, file, mine + 1);
  c.tailer.start();
  await waitUntil('the refusal', () => c.errors.length > 0);
  await c.tailer.stop({ drain: true });
  t.same(c.lines(), []);
  t.match(c.errors, [new RegExp(`belongs to uid ${mine}, not to the job's uid ${mine + 1}`)]);
  const own = tail(t, file, mine);
  own.tailer.start();
  await waitUntil('the line', () => own.lines().length > 0);
  await own.tailer.stop({ drain: true });
  t.same(own.lines(), ['not yours'], "the job's own file is read");
});
