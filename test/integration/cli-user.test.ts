/**
 * grm user and grm audit end to end: an admin adds a user and prints a token, the user works
 * with it through GRM_TOKEN, is refused admin commands, is disabled and enabled; tokens are
 * issued and revoked; the CLI finds the first admin's token file as the daemon places it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { runCli } from '../../src/cli/main.js';
import { SMALL_CLUSTER, startDaemon, type TestDaemon } from '../helpers/daemon.js';

const lastLine = (text: string) => text.trimEnd().split('\n').pop()!;

/** grm with exactly this environment (no GRM_TOKEN unless given), in `cwd`. */
async function grm(d: TestDaemon, env: Record<string, string>, cwd: string, ...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: { PATH: process.env.PATH ?? '', GRM_URL: d.url, ...env }, cwd });
  return { code, stdout, stderr };
}

t.test('an admin adds a user with --print-token; the user works with it through GRM_TOKEN', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const added = await d.cli('user', 'add', 'dave', '--role', 'user', '--account', 'physics', '-A', 'ml,chem', '--uid', String(process.getuid!()), '--gid', String(process.getgid!()), '--print-token');
  t.equal(added.code, 0, added.stderr);
  const token = lastLine(added.stdout);
  t.match(token, /^grm_[A-Za-z0-9_-]{43}$/, 'the token alone on the last line');
  t.match(added.stdout, /^Added user dave \(role user, default account physics\)\nToken \d+ for dave, expires \d{4}-\d\d-\d\dT[\d:]+Z; shown this once:\n/);
  const dave = d.cliWith(token);

  const script = d.writeScript('hi.sh', '#!/bin/bash\necho hi\n');
  const sub = await dave('sbatch', '-H', script);
  t.equal(sub.code, 0, sub.stderr);
  const id = Number(/Submitted batch job (\d+)/.exec(sub.stdout)![1]);
  t.equal((await dave('squeue', '--me', '-h', '-o', '%i %u %a')).stdout, `${id} dave physics\n`, "squeue --me: the token's user, charged to the default account");
  t.equal((await d.cli('squeue', '--me', '-h', '-o', '%i')).stdout, '', "the admin's --me is the admin's jobs");
  t.equal((await dave('sacct', '-n', '-P', '-o', 'JobID,User', '-S', 'now-1hour')).stdout, `${id}|dave\n`, "sacct's default: my jobs");
  const wrongAccount = await dave('sbatch', '-A', 'bio', script);
  t.equal(wrongAccount.code, 1);
  t.equal(wrongAccount.stderr, 'sbatch: error: Invalid account or account/partition combination specified\n');

  const denied = await dave('user', 'list');
  t.equal(denied.code, 1);
  t.match(denied.stderr, /^user: error: Access\/permission denied: GET \/api\/v1\/users is for administrators \(dave has role user\)\n$/);
  t.equal((await dave('audit')).code, 1, 'the audit log is for admins');

  const list = await d.cli('user', 'list');
  t.match(list.stdout, /^USER\s+ROLE\s+STATE\s+DEF_ACCOUNT\s+ACCOUNTS\s+RUN_AS\n/);
  t.match(list.stdout, new RegExp(`^dave\\s+user\\s+enabled\\s+physics\\s+physics,ml,chem\\s+${process.getuid!()}:${process.getgid!()}`, 'm'));

  t.equal((await d.cli('user', 'disable', 'dave')).stdout, 'User dave disabled\n');
  const off = await dave('squeue');
  t.equal(off.code, 1);
  t.equal(off.stderr, 'squeue: error: Invalid authentication credential: user dave is disabled [token: GRM_TOKEN]\n');
  t.equal((await d.cli('user', 'enable', 'dave')).stdout, 'User dave enabled\n');
  t.equal((await dave('squeue')).code, 0, 'enabled again');

  const second = await d.cli('user', 'token', 'dave', '--expires', '30d');
  t.equal(second.code, 0, second.stderr);
  const newer = lastLine(second.stdout);
  t.match(newer, /^grm_/);
  const tokens = (await d.cli('user', 'tokens', 'dave')).stdout;
  t.match(tokens, /^ID\s+STATE\s+CREATED\s+EXPIRES\s+LAST_USED\n/);
  t.equal(tokens.trimEnd().split('\n').length, 3, 'two tokens');
  const firstId = /Token (\d+) for dave/.exec(added.stdout)![1]!;
  t.equal((await d.cli('user', 'revoke', 'dave', firstId)).stdout, `Revoked token ${firstId} of dave\n`);
  t.match((await dave('squeue')).stderr, /^squeue: error: Invalid authentication credential: token \d+ was revoked on /);
  t.equal((await d.cliWith(newer)('squeue', '--me', '-h', '-o', '%i')).stdout, `${id}\n`, 'the newer token works');
  t.equal((await d.cli('user', 'revoke', 'dave', '--all')).code, 0);
  t.equal((await d.cliWith(newer)('squeue')).code, 1, '--all revoked it too');

  const audit = await d.cli('audit', '-n', '20');
  t.equal(audit.code, 0, audit.stderr);
  const actions = audit.stdout.split('\n').slice(1).map((l) => l.split(/\s+/)[1]).filter(Boolean);
  for (const action of ['user.add', 'user.disable', 'user.enable', 'token.issue', 'token.revoke', 'auth.fail']) t.ok(actions.includes(action), `grm audit lists ${action}`);
  t.match(audit.stdout, /^TIME\s+ACTION\s+ACTOR\s+WHERE\s+OUTCOME\s+REMOTE\s+COUNT\n/);
});

t.test('the CLI finds the first admin token as it finds the daemon: GRM_TOKEN, GRM_TOKEN_FILE, <dataDir>/admin.token', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-cwd-'));
  t.teardown(() => fs.rmSync(elsewhere, { recursive: true, force: true }));
  t.equal(fs.statSync(path.join(d.dataDir, 'admin.token')).mode & 0o777, 0o600, 'the token file is 0600');

  const byDataDir = await grm(d, { GRM_DATA_DIR: d.dataDir }, elsewhere, 'squeue', '-h');
  t.equal(byDataDir.code, 0, `GRM_DATA_DIR: ${byDataDir.stderr}`);
  fs.writeFileSync(path.join(elsewhere, 'grm.config.json'), JSON.stringify({ dataDir: d.dataDir }));
  t.equal((await grm(d, {}, elsewhere, 'squeue', '-h')).code, 0, "the config file's dataDir, as the daemon reads it");
  fs.rmSync(path.join(elsewhere, 'grm.config.json'));

  const none = await grm(d, {}, elsewhere, 'squeue');
  t.equal(none.code, 1);
  t.equal(
    none.stderr,
    `squeue: error: Authentication required: send "Authorization: Bearer <token>" (the grm command reads GRM_TOKEN, else the file GRM_TOKEN_FILE names) [token: no GRM_TOKEN, no GRM_TOKEN_FILE, and ${path.join(elsewhere, 'var', 'admin.token')} is not readable]\n`,
    'no token: the daemon says what it wants, grm says where it looked',
  );
  const missingFile = await grm(d, { GRM_TOKEN_FILE: path.join(elsewhere, 'nope') }, elsewhere, 'squeue');
  t.equal(missingFile.stderr, `squeue: error: cannot read GRM_TOKEN_FILE ${path.join(elsewhere, 'nope')}: ENOENT\n`);
  const wrong = await grm(d, { GRM_TOKEN: 'grm_wrong' }, elsewhere, 'squeue');
  t.equal(wrong.stderr, 'squeue: error: Invalid authentication credential [token: GRM_TOKEN]\n');
});
