// The bench's daemons: each one built from dist/ (as production runs it) in a temp data dir,
// on a free loopback port, and stopped with its masters at the end, also on failure.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validateConfig } from '../dist/config/load-config.js';
import { createDaemon } from '../dist/daemon.js';
import { api, useDaemonToken } from './api.mjs';

export async function withDaemon(overrides, fn) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-bench-'));
  // no rate limit (the bench floods on purpose); masters as this account, as the tests run them
  const base = { port: 0, dataDir, logLevel: 'silent', rateLimit: { max: 0 }, ...(process.getuid?.() === 0 ? { runtime: { runAsUser: false } } : {}) };
  const daemon = await createDaemon(validateConfig({ ...base, ...overrides }), { schedules: false });
  const url = await daemon.listen();
  useDaemonToken(url, dataDir);
  try {
    return await fn(url, daemon);
  } finally {
    for (const id of daemon.runner.runningJobIds()) await daemon.runner.stopMaster(id).catch(() => {});
    await daemon.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export const post = (url, body) =>
  api(url, '/api/v1/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => {
    if (r.status !== 201) throw new Error(`submit: ${r.status} ${await r.text()}`);
    return r.json();
  });

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
