/**
 * Suites that need Debian packages (xmllint, chromium, slurm, torch, shellcheck and yamllint) call requireSystem() first.
 * It installs them through scripts/system-deps.sh when run as root; otherwise the suite is
 * skipped with the reason. Under CI=true a skip is a failure: CI must exercise everything.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export type SystemGroup = 'xml' | 'browser' | 'slurm' | 'training' | 'deploy';

/** The bits of a tap Test used here (t.skip(name, fn) records a visible skipped subtest). */
export interface Tap {
  skip(name: string, fn: () => void): unknown;
  fail(message: string): unknown;
}

/** Returns true when the group is ready; otherwise skips (or fails under CI) and returns false. */
export function requireSystem(t: Tap, ...groups: SystemGroup[]): boolean {
  try {
    execFileSync(path.join(PROJECT_ROOT, 'scripts/system-deps.sh'), groups, {
      stdio: ['ignore', 'inherit', 'pipe'],
      timeout: 15 * 60_000,
    });
    return true;
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim() ?? String(e);
    const reason = `needs system packages (${groups.join(', ')}): ${stderr}`;
    if (process.env.CI === 'true') t.fail(`CI=true forbids skipping: ${reason}`);
    else t.skip(reason, () => {});
    return false;
  }
}
