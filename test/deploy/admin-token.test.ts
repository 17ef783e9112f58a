/**
 * auth.adminTokenFile (GRM_ADMIN_TOKEN_FILE): the first admin's token from a mounted secret
 * (deploy/k8s's Secret grm-admin-token), so an operator knows it before the first start. A file
 * that is missing or holds no token stops the daemon before it touches anything; the file counts
 * on the first start only.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import '../helpers/no-spawn-hook.js';
import { validateConfig } from '../../src/config/load-config.js';
import { createDaemon } from '../../src/daemon.js';
import { PROJECT_ROOT } from '../helpers/system.js';

const run = promisify(execFile);
const GRM = path.join(PROJECT_ROOT, 'bin/grm.js');

function tempDir(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-admin-token-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const newToken = () => `grm_${randomBytes(32).toString('base64url')}`;

/** A daemon on `dataDir` (loopback, free port) whose first admin token may come from `tokenFile`; stopped at the end. */
async function start(t: Test, dataDir: string, tokenFile: string) {
  const config = validateConfig({ host: '127.0.0.1', port: 0, dataDir, logLevel: 'silent', auth: { adminTokenFile: tokenFile } });
  const daemon = await createDaemon(config, { schedules: false });
  t.teardown(() => daemon.stop());
  const url = await daemon.listen();
  const status = async (token: string, route: string) => (await fetch(`${url}${route}`, { headers: { authorization: `Bearer ${token}` } })).status;
  return { daemon, status };
}

t.test("the first start takes the file's token for the first admin; a later start with another file keeps the first", async (t) => {
  const dir = tempDir(t);
  const token = newToken();
  const file = path.join(dir, 'token');
  fs.writeFileSync(file, `${token}\n`);
  const dataDir = path.join(dir, 'data');
  const first = await start(t, dataDir, file);
  t.equal(fs.readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim(), token, 'admin.token holds the given token');
  t.equal(await first.status(token, '/api/v1/users'), 200, 'the token is an admin');
  t.equal(await first.status(newToken(), '/api/v1/jobs'), 401, 'another token is not');
  await first.daemon.stop();

  const later = newToken();
  fs.writeFileSync(file, `${later}\n`);
  const second = await start(t, dataDir, file);
  t.equal(await second.status(token, '/api/v1/users'), 200, 'the stored admin keeps the first token');
  t.equal(await second.status(later, '/api/v1/jobs'), 401, "the new file's token was not added");
});

for (const [what, content, message] of [
  ['holds no token', 'replace with a token\n', /auth\.adminTokenFile \S+ does not hold a GRM token \(grm_ and 43 base64url characters/],
  ['is missing', null, /cannot read auth\.adminTokenFile \S+: ENOENT/],
] as const) {
  t.test(`GRM_ADMIN_TOKEN_FILE that ${what}: grm daemon refuses to start, says why, touches nothing`, async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'token');
    if (content !== null) fs.writeFileSync(file, content);
    const dataDir = path.join(dir, 'data');
    fs.mkdirSync(dataDir);
    const out = await run(process.execPath, [GRM, 'daemon'], {
      env: { PATH: process.env.PATH ?? '', GRM_PORT: '0', GRM_DATA_DIR: dataDir, GRM_ADMIN_TOKEN_FILE: file },
    }).then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => e);
    t.equal(out.code, 1);
    t.match(out.stderr, message);
    t.notMatch(out.stderr, /\n\s+at /, 'no stack trace');
    t.same(fs.readdirSync(dataDir), [], 'no store, no token file');
  });
}
