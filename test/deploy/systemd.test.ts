/**
 * deploy/systemd: install.sh writes grmd.service with the paths it is given, and
 * `systemd-analyze verify` finds nothing to say about the result (an ExecStart that exists,
 * every directive known and well-formed). The unit's promises: hardened, restarted on failure,
 * and a stop that ends the daemon only, leaving the masters to their supervisors.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { PROJECT_ROOT, requireSystem } from '../helpers/system.js';

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
