/**
 * Opening files a job can influence: never blocking on a FIFO, never led through a link to a
 * file that is not the job's, only regular files (and allowed devices) for output.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { openForReading, openOutputFile, readGrmJobFile, readSmallFileSync } from '../../src/runtime/safe-files.js';

const DEVICES = ['/dev/null'];

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-safe-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function fifo(dir: string, name = 'fifo'): string {
  const file = path.join(dir, name);
  execFileSync('mkfifo', [file]);
  return file;
}

/** The O_NONBLOCK bit (04000) of an open descriptor, from /proc/self/fdinfo. */
function nonBlocking(fd: number): boolean {
  const flags = /flags:\s*([0-7]+)/.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
  return (parseInt(flags ?? '0', 8) & 0o4000) !== 0;
}

t.test('a regular file: created, appended to, truncated on request, its descriptor blocking again', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'out.log');
  fs.writeFileSync(file, 'before\n');
  const fd = openOutputFile(file, { truncate: false, devices: DEVICES });
  t.notOk(nonBlocking(fd), 'O_NONBLOCK cleared for the job');
  fs.writeSync(fd, 'after\n');
  fs.closeSync(fd);
  t.equal(fs.readFileSync(file, 'utf8'), 'before\nafter\n', 'appended');
  const again = openOutputFile(file, { truncate: true, devices: DEVICES });
  fs.closeSync(again);
  t.equal(fs.readFileSync(file, 'utf8'), '', '--open-mode=truncate empties it');
  const fresh = openOutputFile(path.join(dir, 'new.log'), { truncate: false, devices: DEVICES });
  fs.closeSync(fresh);
  t.ok(fs.statSync(path.join(dir, 'new.log')).isFile(), 'created when missing');
});

t.test('a FIFO nobody reads: refused at once, named as a FIFO', async (t) => {
  const file = fifo(tempDir(t));
  t.throws(() => openOutputFile(file, { truncate: false, devices: DEVICES }), {
    name: 'OutputFileError',
    message: /^cannot open '.*\/fifo'/,
    why: 'it is a FIFO (named pipe); job output goes only to regular files and /dev/null (runtime.outputDevices)',
  });
});

t.test('a FIFO someone reads: opened without blocking, then refused all the same', async (t) => {
  const file = fifo(tempDir(t));
  // a read end held open: now a writer's open(2) would succeed, and write into the reader
  const reader = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  t.teardown(() => fs.closeSync(reader));
  t.throws(() => openOutputFile(file, { truncate: false, devices: DEVICES }), { message: /^cannot open/, why: /it is a FIFO/ });
});

t.test('a socket, a directory and a device not allowed are refused; /dev/null (also through a link) is allowed', async (t) => {
  const dir = tempDir(t);
  const sock = path.join(dir, 'sock');
  const server = net.createServer().listen(sock);
  await new Promise((r) => server.once('listening', r));
  t.teardown(() => void server.close());
  t.throws(() => openOutputFile(sock, { truncate: false, devices: DEVICES }), { message: /^cannot open/, why: /it is a socket/ });
  t.throws(() => openOutputFile(dir, { truncate: false, devices: DEVICES }), { message: /^cannot open/, why: 'Is a directory' });
  t.throws(() => openOutputFile('/dev/zero', { truncate: false, devices: DEVICES }), { message: /^cannot open/, why: /it is a character device; job output goes only to regular files and \/dev\/null/ });
  t.throws(() => openOutputFile('/dev/null', { truncate: false, devices: [] }), { message: /^cannot open/, why: 'it is a character device; job output goes only to regular files (runtime.outputDevices)' });
  fs.closeSync(openOutputFile('/dev/null', { truncate: true, devices: DEVICES }));
  fs.symlinkSync('/dev/null', path.join(dir, 'null-link'));
  fs.closeSync(openOutputFile(path.join(dir, 'null-link'), { truncate: false, devices: DEVICES }));
  t.pass('/dev/null opened, by name and through a link');
  t.throws(() => openOutputFile(path.join(dir, 'no/such/dir/out'), { truncate: false, devices: DEVICES }), { message: /^cannot open/, why: 'No such file or directory' });
});

t.test('reading a job-writable file: a FIFO does not block, a link is not followed, the owner is checked', async (t) => {
  const dir = tempDir(t);
  const pipe = fifo(dir);
  t.equal(readSmallFileSync(pipe, 1024), null, 'a FIFO reads as nothing (and did not block)');
  fs.symlinkSync('/etc/passwd', path.join(dir, 'link'));
  t.equal(readSmallFileSync(path.join(dir, 'link'), 1 << 20), null, 'not through a symlink');
  fs.writeFileSync(path.join(dir, 'big'), 'x'.repeat(2000));
  t.equal(readSmallFileSync(path.join(dir, 'big'), 1000), null, 'larger than allowed');
  t.equal(readSmallFileSync(path.join(dir, 'big'), 4000)?.length, 2000);
  const mine = process.getuid?.() ?? 0;
  t.equal(readSmallFileSync(path.join(dir, 'big'), 4000, mine + 1), null, "someone else's file");
  await t.rejects(openForReading(pipe), { code: 'E_UNSAFE_FILE', message: /FIFO/ });
  await t.rejects(openForReading(path.join(dir, 'link')), { code: 'ELOOP' });
  await t.rejects(openForReading(path.join(dir, 'big'), mine + 1), { code: 'E_UNSAFE_FILE', message: new RegExp(`belongs to uid ${mine}, not to the job's uid ${mine + 1}`) });
  const fh = await openForReading(path.join(dir, 'big'), mine);
  await fh.close();
});

t.test("GRM's files of a job: only the regular file GRM wrote, in a folder that is not a link", async (t) => {
  const dir = tempDir(t);
  const jobDir = path.join(dir, 'jobs', '1');
  fs.mkdirSync(jobDir, { recursive: true });
  fs.writeFileSync(path.join(jobDir, 'project.xml'), '<Project/>');
  t.equal(await readGrmJobFile(jobDir, 'project.xml', 1 << 20), '<Project/>');
  fs.rmSync(path.join(jobDir, 'project.xml'));
  fs.symlinkSync('/etc/shadow', path.join(jobDir, 'project.xml'));
  t.equal(await readGrmJobFile(jobDir, 'project.xml', 1 << 20), null, 'a symlink to /etc/shadow is not served');
  fs.rmSync(path.join(jobDir, 'project.xml'));
  execFileSync('mkfifo', [path.join(jobDir, 'project.xml')]);
  t.equal(await readGrmJobFile(jobDir, 'project.xml', 1 << 20), null, 'a FIFO neither (and nothing blocked)');
  fs.rmSync(path.join(jobDir, 'project.xml'));
  fs.writeFileSync(path.join(dir, 'elsewhere.xml'), 'secret');
  fs.linkSync(path.join(dir, 'elsewhere.xml'), path.join(jobDir, 'project.xml'));
  t.equal(await readGrmJobFile(jobDir, 'project.xml', 1 << 20), null, 'a hard link to another file is not GRM\'s file');
  const linked = path.join(dir, 'jobs', '2');
  const real = path.join(dir, 'real');
  fs.mkdirSync(real);
  fs.writeFileSync(path.join(real, 'resources.xml'), '<ResourcesList/>');
  fs.symlinkSync(real, linked);
  t.equal(await readGrmJobFile(linked, 'resources.xml', 1 << 20), null, 'a job folder that is a symlink is not GRM\'s');
});
