/**
 * A local Unix account made for one test (useradd, with a primary and a supplementary group),
 * removed at teardown. Only root can make one: otherwise the test is skipped with the reason,
 * and under CI=true a skip is a failure (CI must exercise run-as).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunAs } from '../../src/runtime/run-as.js';
import type { Tap } from './system.js';

export interface LocalUser extends RunAs {
  name: string;
  /** The supplementary group's gid (also in groups). */
  extraGid: number;
}

interface UserTap extends Tap {
  teardown(fn: () => unknown): void;
}

const SBIN = { env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` } };

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { ...SBIN, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** null (skipped, or failed under CI) when this process cannot make users. */
export function createLocalUser(t: UserTap): LocalUser | null {
  const why = process.getuid?.() !== 0 ? 'needs root to create a local user' : null;
  if (why !== null) {
    if (process.env.CI === 'true') t.fail(`CI=true forbids skipping: ${why}`);
    else t.skip(why, () => {});
    return null;
  }
  const name = `grmt${randomBytes(4).toString('hex')}`;
  const extra = `${name}x`;
  run('groupadd', [name]);
  run('groupadd', [extra]);
  t.teardown(() => {
    // -f: even while a process of it lingers; the groups after the user that uses them
    for (const [cmd, args] of [['userdel', ['-f', name]], ['groupdel', [extra]], ['groupdel', [name]]] as const) {
      try {
        run(cmd, [...args]);
      } catch {
        // already gone
      }
    }
  });
  run('useradd', ['-M', '-N', '-s', '/bin/sh', '-d', '/nonexistent', '-g', name, '-G', extra, name]);
  const uid = Number(run('id', ['-u', name]));
  const gid = Number(run('id', ['-g', name]));
  const extraGid = Number(run('getent', ['group', extra]).split(':')[2]);
  return { name, uid, gid, groups: [gid, extraGid], extraGid };
}

/** A folder under /tmp owned by the user (mode 0700). */
export function userDir(t: UserTap, user: LocalUser, prefix = 'grm-user-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.chownSync(dir, user.uid, user.gid);
  return dir;
}

/** A folder under /tmp only root may enter (what mkdtemp makes). */
export function rootOnlyDir(t: UserTap, prefix = 'grm-root-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.chmodSync(dir, 0o700);
  return dir;
}
