import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isGrmError } from '../../src/errors.js';
import { launchMaster, reattachMaster, type MasterHandle, type MasterSpec } from '../../src/runtime/master-launcher.js';
import { readExitStatus, readMasterRecord } from '../../src/runtime/master-files.js';
import { isGroupAlive, isProcessAlive, readProcStat, signalGroup } from '../../src/runtime/proc.js';

import '../helpers/no-spawn-hook.js';

const ENV = { PATH: '/usr/bin:/bin', LANG: 'C' };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

function tempDir(t: Teardown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-runtime-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function spec(dir: string, command: string, args: string[], over: Partial<MasterSpec> = {}): MasterSpec {
  return {
    jobId: 1,
    command,
    args,
    cwd: dir,
    env: ENV,
    stdoutPath: path.join(dir, 'job', 'slurm.out'),
    stderrPath: path.join(dir, 'job', 'slurm.err'),
    jobDir: path.join(dir, 'job'),
    stragglerGraceMs: 500,
    ...over,
  };
}

/** Launches and makes sure nothing of the job outlives the test, whatever happens. */
async function launch(t: Teardown, s: MasterSpec): Promise<MasterHandle> {
  fs.mkdirSync(path.dirname(s.stdoutPath), { recursive: true });
  const h = await launchMaster(s);
  t.teardown(() => void signalGroup(h.pgid, 'SIGKILL'));
  return h;
}

async function waitFor<T>(probe: () => T | null | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(25);
  }
}

const read = (file: string): string => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');

/**
 * Whether PID 1 reaps orphans here. Minimal container inits do not: killed grandchildren
 * then stay zombies, kill(-pgid, 0) keeps succeeding, and only /proc tells they are dead.
 */
async function orphansReaped(): Promise<boolean> {
  const pid = Number(execFileSync('bash', ['-c', 'sleep 0.05 >/dev/null 2>&1 & echo $!']).toString().trim());
  await sleep(400);
  return readProcStat(pid) === null;
}

/** Dead: gone or a zombie. */
const dead = (pid: number): boolean => !isProcessAlive(pid);

t.test('output lands in the files; exit code in exit.json and exited', async (t) => {
  const dir = tempDir(t);
  const s = spec(dir, 'bash', ['-c', 'echo to-out; echo to-err >&2; exit 7']);
  const h = await launch(t, s);
  t.type(h.pid, 'number');
  t.ok(h.pgid > 1);
  const rec = readMasterRecord(s.jobDir);
  t.equal(rec?.pid, h.pid, 'master.json holds the pid');
  t.equal(rec?.pgid, h.pgid, 'and the pgid');
  const st = await h.exited;
  t.equal(st.exitCode, 7);
  t.equal(st.signal, null);
  t.same(readExitStatus(s.jobDir), st, 'exit.json says the same');
  t.equal(read(s.stdoutPath), 'to-out\n');
  t.equal(read(s.stderrPath), 'to-err\n');
  t.notOk(fs.existsSync(path.join(s.jobDir, 'supervisor-spec')), 'the spec with the env is removed');
});

t.test('stdout and stderr to one file; append keeps an earlier attempt', async (t) => {
  const dir = tempDir(t);
  const out = path.join(dir, 'job', 'both.out');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, 'attempt 1\n');
  const h = await launch(t, spec(dir, 'bash', ['-c', 'echo a; echo b >&2; echo c'], { stdoutPath: out, stderrPath: out }));
  t.equal((await h.exited).exitCode, 0);
  t.equal(read(out), 'attempt 1\na\nb\nc\n');
});

t.test('a missing command: 127 and a line on stderr', async (t) => {
  const dir = tempDir(t);
  const s = spec(dir, 'no-such-command-grm', []);
  const h = await launch(t, s);
  t.equal(h.pid, null, 'it never started');
  const st = await h.exited;
  t.equal(st.exitCode, 127);
  t.match(read(s.stderrPath), /^GRM: cannot execute 'no-such-command-grm': No such file/);
  t.equal(readExitStatus(s.jobDir)?.exitCode, 127);
});

t.test('a file that is not executable: 126', async (t) => {
  const dir = tempDir(t);
  const script = path.join(dir, 'noexec.sh');
  fs.writeFileSync(script, '#!/bin/sh\necho hi\n', { mode: 0o644 });
  const s = spec(dir, script, []);
  const h = await launch(t, s);
  t.equal((await h.exited).exitCode, 126);
  t.match(read(s.stderrPath), /Permission denied/);
});

t.test('a working directory that does not exist: exit 1 with the reason', async (t) => {
  const dir = tempDir(t);
  const s = spec(dir, 'true', [], { cwd: path.join(dir, 'nope') });
  const h = await launch(t, s);
  t.equal((await h.exited).exitCode, 1);
  t.match(read(s.stderrPath), /working directory/);
});

t.test('E_MASTER_START when the supervisor cannot be started (output file unopenable)', async (t) => {
  const dir = tempDir(t);
  const s = spec(dir, 'true', [], { stdoutPath: path.join(dir, 'missing-dir', 'out') });
  await t.rejects(launchMaster(s), { code: 'E_MASTER_START' });
  const err = await launchMaster(s).catch((e: unknown) => e);
  t.ok(isGrmError(err));
  t.match((err as Error).message, /standard output/);
});

t.test('the environment is exactly the given one', async (t) => {
  const dir = tempDir(t);
  const env = { PATH: '/usr/bin:/bin', ONLY_THIS: 'x y', MULTI: 'line1\nline2', EMPTY: '' };
  const s = spec(dir, 'env', ['-0'], { env });
  const h = await launch(t, s);
  t.equal((await h.exited).exitCode, 0);
  const printed = Object.fromEntries(
    read(s.stdoutPath)
      .split('\0')
      .filter((e) => e.length > 0)
      .map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  );
  t.same(printed, env);
});

t.test('the working directory is respected', async (t) => {
  const dir = tempDir(t);
  const work = path.join(dir, 'work dir');
  fs.mkdirSync(work);
  const s = spec(dir, 'pwd', ['-P'], { cwd: work });
  const h = await launch(t, s);
  await h.exited;
  t.equal(read(s.stdoutPath).trim(), fs.realpathSync(work));
});

t.test('terminate ends the master and every child of its group', async (t) => {
  const dir = tempDir(t);
  const reaped = await orphansReaped();
  const s = spec(dir, 'bash', ['-c', 'for i in 1 2 3; do sleep 300 & echo $!; done; wait']);
  const h = await launch(t, s);
  const kids = await waitFor(() => {
    const pids = read(s.stdoutPath).trim().split('\n').filter(Boolean).map(Number);
    return pids.length === 3 ? pids : null;
  });
  for (const pid of kids) t.equal(readProcStat(pid)?.pgrp, h.pgid, `child ${pid} is in the job's group`);
  const t0 = Date.now();
  const st = await h.terminate(10_000);
  t.ok(Date.now() - t0 < 5000, 'SIGTERM sufficed, no escalation');
  t.equal(st.signal, 'SIGTERM');
  t.equal(st.exitCode, null);
  t.notOk(isGroupAlive(h.pgid), 'no live process of the group');
  for (const pid of kids) t.ok(dead(pid), `child ${pid} is dead`);
  if (reaped) {
    t.throws(() => process.kill(-h.pgid, 0), { code: 'ESRCH' }, 'the group is gone');
    for (const pid of kids) t.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
  } else {
    t.comment('PID 1 does not reap orphans here: dead children may linger as zombies, checked through /proc');
  }
});

t.test('terminate escalates to SIGKILL for a master that traps TERM', async (t) => {
  const dir = tempDir(t);
  const s = spec(dir, 'bash', ['-c', 'trap "echo got-TERM" TERM; echo ready; while :; do sleep 0.1; done']);
  const h = await launch(t, s);
  await waitFor(() => read(s.stdoutPath).includes('ready'));
  const t0 = Date.now();
  const st = await h.terminate(700);
  t.ok(Date.now() - t0 >= 650, 'waited the grace period');
  t.equal(st.signal, 'SIGKILL');
  t.equal(readExitStatus(s.jobDir)?.signal, 'SIGKILL', 'recorded in exit.json by the daemon side');
  t.notOk(isGroupAlive(h.pgid));
  t.match(read(s.stdoutPath), /got-TERM/, 'SIGTERM was delivered first');
});

t.test('signal reaches the master', async (t) => {
  const dir = tempDir(t);
  const s = spec(dir, 'bash', ['-c', 'trap "exit 9" USR1; echo ready; while :; do sleep 0.05; done']);
  const h = await launch(t, s);
  await waitFor(() => read(s.stdoutPath).includes('ready'));
  t.ok(h.signal('SIGUSR1'));
  t.equal((await h.exited).exitCode, 9, 'the supervisor survived the signal and recorded the exit');
  t.notOk(h.signal('SIGUSR1'), 'false once the group is gone');
});

t.test('processes left behind by a finished master are ended', async (t) => {
  const dir = tempDir(t);
  const s = spec(dir, 'bash', ['-c', 'sleep 300 >/dev/null & echo $!; exit 0']);
  const h = await launch(t, s);
  const st = await h.exited;
  t.equal(st.exitCode, 0);
  const straggler = Number(read(s.stdoutPath).trim());
  t.ok(dead(straggler), 'the background sleep was ended with the job');
  t.notOk(isGroupAlive(h.pgid));
});

t.test('exit.json is written when the handle is dropped', async (t) => {
  const dir = tempDir(t);
  const s = spec(dir, 'bash', ['-c', 'sleep 0.3; exit 5']);
  await launch(t, s).then((h) => h.release()); // forget it
  const st = await waitFor(() => readExitStatus(s.jobDir));
  t.equal(st.exitCode, 5);
  t.ok(Date.parse(st.endedAt) > 0);
});

t.test('the master and its exit status survive the daemon (killed -9), and a new daemon reattaches', async (t) => {
  const dir = tempDir(t);
  const s = spec(dir, 'bash', ['-c', 'echo started; sleep 1; echo finished; exit 3']);
  fs.mkdirSync(s.jobDir, { recursive: true });
  const launcher = fileURLToPath(new URL('../../src/runtime/master-launcher.ts', import.meta.url));
  const daemon = path.join(dir, 'daemon.mts');
  fs.writeFileSync(
    daemon,
    `import { launchMaster } from ${JSON.stringify(launcher)};\n` +
      `const h = await launchMaster(${JSON.stringify(s)});\n` +
      `process.stdout.write(JSON.stringify({ pid: h.pid, pgid: h.pgid }) + '\\n', () => process.kill(process.pid, 'SIGKILL'));\n`,
  );
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), daemon], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const signal = await new Promise((r) => child.on('exit', (_c, sig) => r(sig)));
  t.equal(signal, 'SIGKILL', 'the daemon died');
  const ids = JSON.parse(out) as { pid: number; pgid: number };
  t.teardown(() => void signalGroup(ids.pgid, 'SIGKILL'));
  t.ok(isProcessAlive(ids.pgid), 'the supervisor outlived it');

  const h = reattachMaster(s.jobDir, { pollMs: 50 });
  if (h === null) throw new Error('no handle');
  t.equal(h.pid, ids.pid);
  t.equal(h.pgid, ids.pgid);
  t.equal(h.jobId, 1);
  const st = await h.exited;
  t.equal(st.exitCode, 3);
  t.equal(read(s.stdoutPath), 'started\nfinished\n', 'no output lost');
});

t.test('reattach: terminate through a rebuilt handle; null without master.json', async (t) => {
  const dir = tempDir(t);
  const s = spec(dir, 'sleep', ['300']);
  const h = await launch(t, s);
  const again = reattachMaster(s.jobDir, { pollMs: 50 });
  if (again === null) throw new Error('no handle');
  t.equal(again.pid, h.pid);
  const st = await again.terminate(5000);
  t.equal(st.signal, 'SIGTERM');
  t.same(await h.exited, st, 'both handles see the same end');
  t.equal(reattachMaster(path.join(dir, 'nothing-here')), null);

  // reattaching to a finished job resolves at once with the recorded status
  const done = reattachMaster(s.jobDir, { pollMs: 50 });
  t.same(await done?.exited, st);
});

t.test('reattach trusts only a record of this job naming a live leader of its own group (a planted master.json)', async (t) => {
  const dir = tempDir(t);
  const jobDir = path.join(dir, 'job');
  fs.mkdirSync(jobDir);
  // another process (in the test's own group, not leading one): what a job could point at
  const victim = spawn('sleep', ['300'], { stdio: 'ignore' });
  t.teardown(() => void victim.kill('SIGKILL'));
  const pid = victim.pid as number;
  const planted = { jobId: 1, pid, pgid: pid, supervisorPid: pid, supervisorStartTicks: readProcStat(pid)?.startTicks ?? null, command: 'x', args: [], cwd: '/', startedAt: new Date().toISOString() };
  fs.writeFileSync(path.join(jobDir, 'master.json'), JSON.stringify(planted));
  t.equal(reattachMaster(jobDir, { jobId: 1 }), null, 'a live process that does not lead the group it names is not a supervisor');
  fs.writeFileSync(path.join(jobDir, 'master.json'), JSON.stringify({ ...planted, supervisorPid: process.pid }));
  t.equal(reattachMaster(jobDir, { jobId: 1 }), null, 'supervisor and group must be one process');

  const s = spec(dir, 'sleep', ['300']);
  const h = await launch(t, s);
  t.equal(reattachMaster(s.jobDir, { jobId: 2 }), null, "another job's record is not this job's");
  t.equal(reattachMaster(s.jobDir, { jobId: 1 })?.pgid, h.pgid, 'the genuine record is');
  t.ok(isProcessAlive(pid), 'nothing was signalled');
  t.equal((fs.statSync(path.join(s.jobDir, 'master.json')).mode & 0o777), 0o600, "master.json is the daemon's alone");
});

t.test('the master gets default signal dispositions, an empty mask and no descriptor of the supervisor', async (t) => {
  const dir = tempDir(t);
  // SigIgn/SigBlk in hex: 0 means nothing ignored or blocked (the supervisor ignores SIGPIPE and
  // catches SIGTERM...: none of that may reach the job)
  const sigs = spec(dir, 'grep', ['-E', '^Sig(Ign|Blk)', '/proc/self/status']);
  t.equal((await (await launch(t, sigs)).exited).exitCode, 0);
  t.match(read(sigs.stdoutPath), /SigBlk:\s+0+\n/, 'no signal blocked');
  t.match(read(sigs.stdoutPath), /SigIgn:\s+0+\n/, 'no signal ignored');
  // ls's own listing: 0-2, plus the one descriptor ls opened to read the folder
  const fds = spec(dir, 'ls', ['/proc/self/fd'], { jobDir: path.join(dir, 'job2'), stdoutPath: path.join(dir, 'job2', 'out') });
  t.equal((await (await launch(t, fds)).exited).exitCode, 0);
  t.same(read(fds.stdoutPath).split('\n').filter(Boolean).map(Number).sort((a, b) => a - b), [0, 1, 2, 3], 'stdin, stdout, stderr and ls\'s own');
});

t.test('a file with no #! line is not handed to /bin/sh: exit 126, Exec format error', async (t) => {
  const dir = tempDir(t);
  const script = path.join(dir, 'no-shebang');
  fs.writeFileSync(script, 'echo ran-by-a-shell\n', { mode: 0o755 });
  const s = spec(dir, script, []);
  const h = await launch(t, s);
  const st = await h.exited;
  t.equal(st.exitCode, 126);
  t.match(st.reason, /cannot execute '.*no-shebang': Exec format error/);
  t.notMatch(read(s.stdoutPath), /ran-by-a-shell/);
  t.match(read(s.stderrPath), /^GRM: cannot execute/m, 'the reason is on the job stderr too');
});

t.test('PATH is searched in the job environment; a command found nowhere on it is 127', async (t) => {
  const dir = tempDir(t);
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'grm-only-here'), '#!/bin/sh\necho found $0\n', { mode: 0o755 });
  const s = spec(dir, 'grm-only-here', [], { env: { ...ENV, PATH: `/nonexistent:${bin}` } });
  const h = await launch(t, s);
  t.equal((await h.exited).exitCode, 0);
  t.match(read(s.stdoutPath), /found .*grm-only-here/);
  const missing = await launch(t, spec(dir, 'grm-not-anywhere', [], { jobDir: path.join(dir, 'job2') }));
  const st = await missing.exited;
  t.equal(st.exitCode, 127);
  t.match(st.reason, /No such file or directory/);
});

t.test('the supervisor is a small native process named for its job', async (t) => {
  const dir = tempDir(t);
  const s = spec(dir, 'sleep', ['30'], { jobId: 4242 });
  const h = await launch(t, s);
  const cmdline = fs.readFileSync(`/proc/${h.pgid}/cmdline`, 'utf8').split('\0');
  t.equal(cmdline[0], 'grm-supervisor job 4242', 'ps shows which job it supervises');
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${h.pgid}/status`, 'utf8'))?.[1]);
  t.ok(rssKiB > 0 && rssKiB < 5 * 1024, `resident set ${rssKiB} KiB, under the 5 MiB per job budget`);
  await h.terminate(1000);
});
