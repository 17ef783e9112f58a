/**
 * Issue 18, item 4 (the start): the daemon never half-starts on a store it cannot use. A
 * damaged store file, or a data dir it cannot write (a read-only mount when the test runs as
 * root, a read-only directory otherwise), stops `grmd` with one clear message and exit code 1,
 * before it binds a port or makes anything in the data dir.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { GRMD, daemonEnv, startDaemonProcess } from '../helpers/daemon-process.js';

const run = promisify(execFile);

/** grmd until it exits by itself (a refused start): its code and stderr. */
async function refusedStart(dataDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [GRMD], { cwd: os.tmpdir(), env: daemonEnv(dataDir), timeout: 60_000 }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
}

function tempDir(t: Test, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('a damaged store: exit 1, says which file and what to do, makes nothing', async (t) => {
  const dataDir = tempDir(t, 'grm-corrupt-');
  const store = path.join(dataDir, 'grm.sqlite');
  fs.writeFileSync(store, Buffer.alloc(16384, 'not a database, at all '));
  const out = await refusedStart(dataDir);
  t.equal(out.code, 1);
  t.equal(out.stderr, `grm daemon: error: the store ${store} is damaged: file is not a database (SQLITE_NOTADB). GRM did not start: restore the file from a backup, or move it (and its -wal and -shm files) aside to start with an empty store\n`);
  t.notMatch(out.stdout, /listening/, 'it never listened');
  t.same(fs.readdirSync(dataDir), ['grm.sqlite'], 'no job folder, no token file, no search index');
});

t.test('a data dir it cannot write: exit 1, says so; the same store starts once writable again', async (t) => {
  const root = tempDir(t, 'grm-readonly-');
  const asRoot = process.getuid?.() === 0;
  // root writes through any mode bits: it gets a real read-only filesystem
  if (asRoot) {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', root]);
    t.teardown(() => run('umount', ['-l', root]));
  }
  const dataDir = path.join(root, 'var');
  // a store made by a daemon that ran here before (started and stopped with SIGTERM)
  const before = await startDaemonProcess(t, dataDir, { cwd: root });
  before.child.kill('SIGTERM');
  t.same(await before.exited, { code: 0, signal: null });
  const made = fs.readdirSync(dataDir).sort();
  if (asRoot) await run('mount', ['-o', 'remount,ro', root]);
  else fs.chmodSync(dataDir, 0o500);
  const out = await refusedStart(dataDir);
  t.equal(out.code, 1);
  t.match(out.stderr, new RegExp(`^grm daemon: error: the store ${path.join(dataDir, 'grm.sqlite')} cannot be written: .*\\. GRM did not start: make ${dataDir} writable by uid \\d+ \\(is it mounted read-only\\?\\)\\n$`));
  t.notMatch(out.stdout, /listening/, 'it never listened');
  t.same(fs.readdirSync(dataDir).sort(), made, 'nothing was made or removed');
  if (asRoot) await run('mount', ['-o', 'remount,rw', root]);
  else fs.chmodSync(dataDir, 0o700);
  const after = await startDaemonProcess(t, dataDir, { cwd: root });
  t.equal((await after.api('GET', '/api/v1/jobs')).status, 200, 'the store was left intact: it starts on it again');
  after.child.kill('SIGTERM');
  t.same(await after.exited, { code: 0, signal: null });
});
