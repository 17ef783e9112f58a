/**
 * Where the daemon listens (issue 14, item 6): any address but loopback needs TLS (and
 * authentication, always on), else `grm daemon` refuses to start and says what to set; the
 * start-up line names the address really bound, https when TLS is on.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import '../helpers/no-spawn-hook.js';
import { PROJECT_ROOT } from '../helpers/system.js';

const run = promisify(execFile);
const GRM = path.join(PROJECT_ROOT, 'bin/grm.js');

function tempDir(t: Test, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl (argv, no shell). */
async function selfSigned(dir: string): Promise<{ key: string; cert: string }> {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert,
  ]);
  return { key, cert };
}

t.test('0.0.0.0 without TLS: grm daemon refuses to start, says why and what to set, touches nothing', async (t) => {
  const dataDir = tempDir(t, 'grm-bind-');
  const out = await run(process.execPath, [GRM, 'daemon'], {
    env: { PATH: process.env.PATH ?? '', GRM_HOST: '0.0.0.0', GRM_PORT: '0', GRM_DATA_DIR: dataDir },
  }).then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => e);
  t.equal(out.code, 1);
  t.match(out.stderr, /^grm daemon: error: refusing to listen on 0\.0\.0\.0: it is not a loopback address, so the API would be served to the network without TLS \(set tls\.key and tls\.cert, or GRM_TLS_KEY and GRM_TLS_CERT, to PEM files\)\. Set those, or set host \(GRM_HOST\) to 127\.0\.0\.1/);
  t.notMatch(out.stderr, /\n\s+at /, 'no stack trace');
  t.same(fs.readdirSync(dataDir), [], 'no store, no token file');
  const half = await run(process.execPath, [GRM, 'daemon'], {
    env: { PATH: process.env.PATH ?? '', GRM_HOST: '0.0.0.0', GRM_PORT: '0', GRM_DATA_DIR: dataDir, GRM_TLS_KEY: '/nonexistent/key.pem' },
  }).then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => e);
  t.equal(half.code, 1);
  t.match(half.stderr, /without TLS/, 'a key alone is not TLS');
});

t.test('0.0.0.0 with TLS: starts, names https://0.0.0.0:<port>, answers over https only', async (t) => {
  const dir = tempDir(t, 'grm-tls-');
  const { key, cert } = await selfSigned(dir);
  const child = spawn(process.execPath, [GRM, 'daemon'], {
    env: { PATH: process.env.PATH ?? '', GRM_HOST: '0.0.0.0', GRM_PORT: '0', GRM_DATA_DIR: path.join(dir, 'data'), GRM_TLS_KEY: key, GRM_TLS_CERT: cert, GRM_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  // the start-up line, as it comes: no sleeping for a guessed time
  const startLine = await new Promise<string>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const msg = /^\{/.test(line) ? ((JSON.parse(line) as { msg?: string }).msg ?? '') : '';
      if (msg.startsWith('GRM ')) resolve(msg);
    });
    child.once('exit', () => reject(new Error(`daemon exited before listening: ${stderr}`)));
  });
  t.match(startLine, /^GRM \S+ listening on https:\/\/0\.0\.0\.0:\d+ \(every interface\) \(backend simulator, /);
  const port = Number(/:(\d+) /.exec(startLine)![1]);
  const get = (route: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port, path: route, ca: fs.readFileSync(cert), headers }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
        .on('error', reject);
    });
  const health = await get('/api/v1/health');
  t.equal(health.status, 200);
  t.equal(JSON.parse(health.body).status, 'ok');
  t.equal((await get('/api/v1/jobs')).status, 401, 'authentication is on');
  const token = fs.readFileSync(path.join(dir, 'data', 'admin.token'), 'utf8').trim();
  t.equal((await get('/api/v1/jobs', { authorization: `Bearer ${token}` })).status, 200, 'with the token, over TLS');
  const plain = await fetch(`http://127.0.0.1:${port}/api/v1/health`).then((r) => r.status, () => 'refused');
  t.not(plain, 200, 'plain HTTP gets no answer');
  child.kill('SIGTERM');
  t.equal(await exited, 0);
});
