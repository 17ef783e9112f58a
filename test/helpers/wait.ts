/**
 * Waiting for things a test cannot be told about directly (a line stored, a file seen), instead
 * of sleeping for a guessed time. Polls until the condition holds; the timeout is only a
 * safety net against a hang, never an assertion about how long something took.
 */
import type { TestDaemon } from './daemon.js';

export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  { timeoutMs = 60_000, intervalMs = 25 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Resolves once the daemon has stored (given a seq to) a line of the job with exactly this text. */
export function waitForLogLine(d: TestDaemon, jobId: number, text: string): Promise<{ seq: number; source: string; line: string }> {
  return waitUntil(`job ${jobId} to log "${text}"`, async () => {
    const { body } = await d.api('GET', `/api/v1/jobs/${jobId}/logs?limit=100000`);
    return (body.lines as { seq: number; source: string; line: string }[] | undefined)?.find((l) => l.line === text);
  });
}

/**
 * A bash line that blocks a job until `file` exists: the test decides when the job goes on
 * (fs.writeFileSync(file, '')), so what the job does next cannot race what the test checks.
 */
export const untilFileExists = (file: string) => `until [ -e '${file}' ]; do sleep 0.02; done`;
