/**
 * A GRM daemon as deployed: `bin/grmd.js` in a child process of its own, so a test can send
 * it real signals and read its exit code. A free loopback port, the data dir the test gives
 * (reused across restarts), killed with SIGKILL at the end if still running, also on failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import './no-spawn-hook.js';
import { PROJECT_ROOT } from './system.js';
import { jsonApi, type TestApi } from './json-api.js';

export const GRMD = path.join(PROJECT_ROOT, 'bin/grmd.js');

export interface DaemonProcess {
  child: ChildProcess;
  url: string;
  api: TestApi;
  /** The daemon's log messages so far (pino's msg fields), and its stderr. */
  messages: string[];
  stderr(): string;
  /** Resolves with the exit code and signal once the process has ended and its output is read. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

interface Teardownable {
  teardown(fn: () => unknown): void;
}

/** The environment a daemon of the test gets: nothing of the test's own but PATH. */
export function daemonEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '', GRM_HOST: '127.0.0.1', GRM_PORT: '0', GRM_DATA_DIR: dataDir, GRM_LOG_LEVEL: 'info', ...extra };
}

/** Starts bin/grmd.js in `cwd` (where a grm.config.json may be) and waits for its start-up line. */
export async function startDaemonProcess(t: Teardownable, dataDir: string, options: { cwd?: string; env?: Record<string, string> } = {}): Promise<DaemonProcess> {
  const child = spawn(process.execPath, [GRMD], { cwd: options.cwd ?? dataDir, env: daemonEnv(dataDir, options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal })));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return exited;
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const messages: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      let msg = line;
      try {
        msg = (JSON.parse(line) as { msg?: string }).msg ?? line;
      } catch {
        /* not a log line */
      }
      messages.push(msg);
      const listening = /listening on (\S+)/.exec(msg);
      if (listening) resolve(listening[1]!);
    });
    void exited.then(({ code, signal }) => reject(new Error(`daemon exited (${signal ?? code}) before listening: ${stderr}`)));
  });
  const token = fs.readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
  const api = jsonApi(url, token);
  return { child, url, api, messages, stderr: () => stderr, exited };
}
