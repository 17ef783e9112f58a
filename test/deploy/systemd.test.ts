/**
 * deploy/systemd: install.sh writes grmd.service with the paths it is given, and
 * `systemd-analyze verify` finds nothing to say about the result (an ExecStart that exists,
 * every directive known and well-formed). The unit's promises: hardened, restarted on failure,
 * and a stop that ends the daemon only, leaving the masters to their supervisors.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import readline from 'node:readline';
import t, { type Test } from 'tap';
import '../helpers/no-spawn-hook.js';
import { createLocalUser } from '../helpers/local-user.js';
import { PROJECT_ROOT, requireSystem } from '../helpers/system.js';
import { waitUntil } from '../helpers/wait.js';

const run = promisify(execFile);
const INSTALL = path.join(PROJECT_ROOT, 'deploy/systemd/install.sh');

async function outcome(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return run(cmd, args).then(
    ({ stdout, stderr }) => ({ code: 0, out: stdout + stderr }),
    (e: { code: number; stdout?: string; stderr?: string }) => ({ code: e.code, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
  );
}

/** install.sh --no-build --no-start into a temp root, with a copy of bin/grmd.js as the installed daemon. */
async function installInto(t: Test): Promise<{ root: string; unit: string; prefix: string; dataDir: string }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-systemd-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const prefix = path.join(root, 'opt/grm');
  const dataDir = path.join(root, 'var/lib/grm');
  fs.mkdirSync(path.join(prefix, 'bin'), { recursive: true });
  fs.copyFileSync(path.join(PROJECT_ROOT, 'bin/grmd.js'), path.join(prefix, 'bin/grmd.js'));
  fs.chmodSync(path.join(prefix, 'bin/grmd.js'), 0o755);
  await run(INSTALL, ['--prefix', prefix, '--data-dir', dataDir, '--unit-dir', path.join(root, 'units'), '--no-build', '--no-start']);
  return { root, unit: path.join(root, 'units/grmd.service'), prefix, dataDir };
}

/** Directive values of the [Service] section (every occurrence). */
function serviceDirectives(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let section = '';
  for (const line of text.split('\n')) {
    const header = /^\[(\w+)\]$/.exec(line.trim());
    if (header) section = header[1]!;
    const kv = /^(\w+)=(.*)$/.exec(line);
    if (section === 'Service' && kv) out.set(kv[1]!, [...(out.get(kv[1]!) ?? []), kv[2]!]);
  }
  return out;
}

if (requireSystem(t, 'deploy')) {
  t.test('install.sh writes grmd.service for its paths; systemd-analyze verify finds nothing to say', async (t) => {
    const { unit, prefix, dataDir } = await installInto(t);
    const d = serviceDirectives(fs.readFileSync(unit, 'utf8'));
    t.same(d.get('ExecStart'), [`${prefix}/bin/grmd.js`]);
    t.same(d.get('WorkingDirectory'), [dataDir]);
    t.ok(d.get('Environment')?.includes(`GRM_DATA_DIR=${dataDir}`));
    t.equal((fs.statSync(dataDir).mode & 0o777).toString(8), '750', 'the data dir, mode 0750');
    const verify = await outcome('systemd-analyze', ['verify', unit]);
    t.equal(verify.out.trim(), '', 'no complaint');
    t.equal(verify.code, 0);
  });

  t.test('the verify step bites: a bad directive or a missing ExecStart is reported', async (t) => {
    const { unit, prefix } = await installInto(t);
    const text = fs.readFileSync(unit, 'utf8');
    fs.writeFileSync(unit, text.replace(/^KillMode=process$/m, 'KillMode=processes'));
    t.match((await outcome('systemd-analyze', ['verify', unit])).out, /kill mode/i);
    fs.writeFileSync(unit, text);
    fs.rmSync(path.join(prefix, 'bin/grmd.js'));
    const missing = await outcome('systemd-analyze', ['verify', unit]);
    t.not(missing.code, 0);
    t.match(missing.out, /grmd\.js is not executable/);
  });

  t.test('the unit: hardened, restarted on failure, a stop ends the daemon and leaves the masters', async (t) => {
    const { unit, dataDir } = await installInto(t);
    const d = serviceDirectives(fs.readFileSync(unit, 'utf8'));
    const one = (k: string) => d.get(k)?.at(-1);
    t.equal(one('KillMode'), 'process', 'masters (own sessions under grm-supervisor) outlive a stop; the next start reattaches them');
    t.equal(one('Restart'), 'on-failure');
    t.equal(one('NoNewPrivileges'), 'yes');
    t.equal(one('ProtectSystem'), 'strict');
    const writable = (d.get('ReadWritePaths') ?? []).flatMap((v) => v.split(/\s+/));
    t.ok(writable.includes(dataDir), 'the data dir is writable');
    // run-as needs root: the supervisor drops to each user's account
    t.equal(one('User'), 'root');
    t.notOk(d.has('CapabilityBoundingSet'), 'setuid/setgid/kill stay available to the supervisor');
  });

  t.test('install.sh refuses a relative prefix and says why', async (t) => {
    const out = await outcome(INSTALL, ['--prefix', 'opt/grm', '--no-build', '--no-start']);
    t.equal(out.code, 1);
    t.match(out.out, /prefix must be an absolute path, got 'opt\/grm'/);
  });
}

/**
 * The unit's NoNewPrivileges with run-as: the real daemon, as root, under setpriv --no-new-privs
 * (what the unit's NoNewPrivileges=yes sets), runs a mapped user's job as that user.
 */
t.test("NoNewPrivileges leaves run-as working: a root daemon with no_new_privs runs a user's job as the user", async (t) => {
  const user = createLocalUser(t);
  if (!user) return;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-nnp-'));
  fs.chmodSync(dataDir, 0o711); // the job's account passes through to its job folder
  t.teardown(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const child = spawn('setpriv', ['--no-new-privs', process.execPath, path.join(PROJECT_ROOT, 'bin/grmd.js')], {
    env: { PATH: process.env.PATH ?? '', GRM_PORT: '0', GRM_DATA_DIR: dataDir, GRM_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  t.teardown(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const startLine = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const msg = line.startsWith('{') ? ((JSON.parse(line) as { msg?: string }).msg ?? '') : '';
      if (msg.startsWith('GRM ')) resolve(msg);
    });
    child.once('exit', () => reject(new Error(`daemon exited before listening: ${stderr}`)));
  });
  const url = /listening on (http:\/\/\S+)/.exec(startLine)![1]!;
  t.match(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'), /^NoNewPrivs:\s+1$/m, 'the daemon has no_new_privs');
  const api = async (token: string, method: string, route: string, body?: unknown) => {
    const res = await fetch(`${url}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const admin = fs.readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
  const added = await api(admin, 'POST', '/api/v1/users', { name: 'nnp', role: 'user', run_as: { uid: user.uid, gid: user.gid, groups: user.groups }, token: true });
  t.equal(added.status, 201, JSON.stringify(added.body));
  const token = added.body.token.token as string;
  const submitted = await api(token, 'POST', '/api/v1/jobs', { script: '#!/bin/bash\nid -u\ngrep NoNewPrivs /proc/self/status\n' });
  t.equal(submitted.status, 201, JSON.stringify(submitted.body));
  const id = submitted.body.job_id as number;
  const job = await waitUntil('the job to end', async () => {
    const j = (await api(token, 'GET', `/api/v1/jobs/${id}`)).body;
    return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(j.job_state) ? j : undefined;
  }, { timeoutMs: 60_000, intervalMs: 100 });
  t.equal(job.job_state, 'COMPLETED');
  const lines = await waitUntil('its two output lines', async () => {
    const got = (await api(token, 'GET', `/api/v1/jobs/${id}/logs?source=stdout&limit=100`)).body.lines.map((l: { line: string }) => l.line);
    return got.length >= 2 ? got : undefined;
  });
  t.equal(Number(lines[0]), user.uid, "the master ran as the user's uid");
  t.match(lines[1], /^NoNewPrivs:\s+1$/, 'under no_new_privs, as the unit has it');
});
