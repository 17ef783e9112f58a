/**
 * Starts a real GRM daemon for a test: a temp data dir, a free loopback port, a small
 * simulated cluster, quick kill grace. Stopped (and its masters killed) when the test ends,
 * also when it fails.
 */
import './no-spawn-hook.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validateConfig } from '../../src/config/load-config.js';
import type { GrmConfig } from '../../src/config/config-schema.js';
import { createDaemon, type Daemon } from '../../src/daemon.js';
import type { Clock } from '../../src/backends/simulator/clock.js';
import { runCli } from '../../src/cli/main.js';

export interface TestDaemon {
  daemon: Daemon;
  url: string;
  dataDir: string;
  /** fetch + JSON against the daemon */
  api<T = any>(method: string, route: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T }>;
  /** runs `grm ...` in-process against this daemon */
  cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  waitForState(id: number, states: string[], timeoutMs?: number): Promise<any>;
  writeScript(name: string, text: string): string;
}

interface Teardownable {
  teardown(fn: () => unknown): void;
}

/** `clock`: the daemon's time (a ManualClock makes time limits and begin times the test's to move). */
export async function startDaemon(t: Teardownable, overrides: Record<string, unknown> = {}, options: { clock?: Clock } = {}): Promise<TestDaemon> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-test-'));
  const config: GrmConfig = validateConfig({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    logLevel: 'silent',
    runtime: { killGraceMs: 1000 },
    logs: { flushIntervalMs: 20, pollIntervalMs: 50 },
    ...overrides,
  });
  const daemon = await createDaemon(config, { schedules: false, ...(options.clock ? { clock: options.clock } : {}) });
  const url = await daemon.listen();
  t.teardown(async () => {
    // Kill what the test left running, then stop the daemon and drop its files.
    for (const id of daemon.runner.runningJobIds()) await daemon.runner.stopMaster(id).catch(() => undefined);
    await daemon.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const api: TestDaemon['api'] = async (method, route, body, headers = {}) => {
    const res = await fetch(`${url}${route}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* text */
    }
    return { status: res.status, body: parsed as any };
  };
  return {
    daemon,
    url,
    dataDir,
    api,
    async cli(...argv) {
      let stdout = '';
      let stderr = '';
      const code = await runCli(argv, {
        stdout: (s) => (stdout += s),
        stderr: (s) => (stderr += s),
        env: { ...process.env, GRM_URL: url, USER: 'tester' },
        cwd: dataDir,
      });
      return { code, stdout, stderr };
    },
    async waitForState(id, states, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { body } = await api('GET', `/api/v1/jobs/${id}`);
        if (states.includes(body.job_state)) return body;
        if (Date.now() > deadline) throw new Error(`job ${id} is ${body.job_state}, waited for ${states.join('|')}: ${JSON.stringify(body.events)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    writeScript(name, text) {
      const file = path.join(dataDir, name);
      fs.writeFileSync(file, text, { mode: 0o755 });
      return file;
    },
  };
}

export const SMALL_CLUSTER = {
  cluster: {
    nodes: [{ names: 'node[01-08]', cpus: 4, memory: '16G' }],
    partitions: [{ name: 'batch', nodes: 'node[01-08]', default: true, maxTime: 'UNLIMITED' }],
  },
};
