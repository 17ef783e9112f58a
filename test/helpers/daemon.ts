/**
 * Starts a real GRM daemon for a test: a temp data dir, a free loopback port, a small
 * simulated cluster, quick kill grace. Stopped (and its masters killed) when the test ends,
 * also when it fails.
 */
import './no-spawn-hook.js';
import { jsonApi, type TestApi } from './json-api.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validateConfig } from '../../src/config/load-config.js';
import type { GrmConfig } from '../../src/config/config-schema.js';
import { createDaemon, type CreateDaemonOptions, type Daemon } from '../../src/daemon.js';
import type { Clock } from '../../src/backends/simulator/clock.js';
import { runCli } from '../../src/cli/main.js';
import { daemonRunAs } from '../../src/users/first-admin.js';
import type { RunAs } from '../../src/users/user-types.js';

export type { TestApi } from './json-api.js';
export type TestCli = (...argv: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

/** A user of the daemon with a token of their own, and the API and CLI bound to it. */
export interface TestUser {
  name: string;
  token: string;
  api: TestApi;
  cli: TestCli;
}

export interface TestDaemon {
  daemon: Daemon;
  url: string;
  dataDir: string;
  /** The first admin's token (written by the daemon to <dataDir>/admin.token). */
  token: string;
  /** fetch + JSON against the daemon, as the first admin (an `authorization` header given wins) */
  api: TestApi;
  /** the same with another token; null: no Authorization header at all */
  apiWith(token: string | null): TestApi;
  /** runs `grm ...` in-process against this daemon, as the first admin (GRM_TOKEN) */
  cli: TestCli;
  /** the same with another token in GRM_TOKEN */
  cliWith(token: string): TestCli;
  /** user `name` (made once, role user unless told) with a token, through the admin API; the first admin's name gives the admin */
  asUser(name: string, options?: { role?: 'user' | 'admin'; accounts?: string[]; runAs?: RunAs | null }): Promise<TestUser>;
  waitForState(id: number, states: string[], timeoutMs?: number): Promise<any>;
  writeScript(name: string, text: string): string;
}

interface Teardownable {
  teardown(fn: () => unknown): void;
}

/**
 * `clock`: the daemon's time (a ManualClock makes time limits and begin times the test's to move).
 * `runAs`, `isAdmin`: the users part's mapping and roles, for tests of run-as and output paths.
 */
export async function startDaemon(
  t: Teardownable,
  overrides: Record<string, unknown> = {},
  options: { clock?: Clock } & Pick<CreateDaemonOptions, 'runAs' | 'isAdmin' | 'onDraining'> = {},
): Promise<TestDaemon> {
  // a test may put the data dir somewhere of its own (a small filesystem): it is removed all the same
  const dataDir = typeof overrides.dataDir === 'string' ? overrides.dataDir : fs.mkdtempSync(path.join(os.tmpdir(), 'grm-test-'));
  const config: GrmConfig = validateConfig({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    logLevel: 'silent',
    // masters run as the test's own account (root in CI) unless a test turns run-as on
    runtime: { killGraceMs: 1000, runAsUser: false },
    logs: { flushIntervalMs: 20, pollIntervalMs: 50 },
    ...overrides,
  });
  const { clock, ...hooks } = options;
  const daemon = await createDaemon(config, { schedules: false, ...(clock ? { clock } : {}), ...hooks });
  const url = await daemon.listen();
  t.teardown(async () => {
    // Kill what the test left running, then stop the daemon and drop its files.
    for (const id of daemon.runner.runningJobIds()) await daemon.runner.stopMaster(id).catch(() => undefined);
    await daemon.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const token = fs.readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
  const apiWith = (bearer: string | null): TestApi => jsonApi(url, bearer);
  const cliWith = (bearer: string): TestCli => async (...argv) => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, {
      stdout: (s) => (stdout += s),
      stderr: (s) => (stderr += s),
      env: { ...process.env, GRM_URL: url, GRM_TOKEN: bearer, USER: 'tester' },
      cwd: dataDir,
    });
    return { code, stdout, stderr };
  };
  const api = apiWith(token);
  const users = new Map<string, Promise<TestUser>>();
  let adminName: Promise<string> | undefined;
  return {
    daemon,
    url,
    dataDir,
    token,
    api,
    apiWith,
    cli: cliWith(token),
    cliWith,
    // run as the test's own identity unless told (a root daemon refuses jobs of unmapped users)
    async asUser(name, { role = 'user', accounts = [], runAs = daemonRunAs() } = {}) {
      // the first admin is a user too; others are made once per daemon and then reused
      adminName ??= api('GET', '/api/v1/whoami').then((r) => r.body.user_name as string);
      if (name === (await adminName)) return { name, token, api, cli: cliWith(token) };
      let user = users.get(name);
      if (!user) {
        user = (async () => {
          const res = await api('POST', '/api/v1/users', { name, role, accounts, token: true, ...(runAs ? { run_as: runAs } : {}) });
          if (res.status !== 201) throw new Error(`user add ${name}: ${res.status} ${JSON.stringify(res.body)}`);
          const bearer = res.body.token.token as string;
          return { name, token: bearer, api: apiWith(bearer), cli: cliWith(bearer) };
        })();
        users.set(name, user);
      }
      return user;
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
