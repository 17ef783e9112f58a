/**
 * The first admin, made on a daemon's first start: named after the daemon's OS user, mapped to
 * its uid/gid (whoever holds this token can read the daemon's files anyway), with a token in
 * <dataDir>/admin.token that only the daemon's user can read.
 */
import fs from 'node:fs';
import os from 'node:os';
import type { RunAs } from './user-types.js';
import path from 'node:path';
import { GrmError } from '../errors.js';
import { isWellFormedToken } from './tokens.js';

export const ADMIN_TOKEN_FILE = 'admin.token';

export function adminTokenPath(dataDir: string): string {
  return path.join(dataDir, ADMIN_TOKEN_FILE);
}

/**
 * Writes `text` to `file` as a new file created with mode 0600 (the umask can only take bits
 * away), never chmod-ed afterwards: no instant where another user could open it. Written to a
 * fresh temp name (O_EXCL: a planted file or symlink there fails the write) then renamed over
 * `file`, so a reader sees the old token or the new one, never half of one.
 */
export function writeSecretFile(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.rmSync(tmp, { force: true });
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** The first admin's name: the daemon's OS user when that is a valid GRM user name, else "admin". */
export function firstAdminName(isValid: (name: string) => boolean): string {
  let name = '';
  try {
    name = os.userInfo().username;
  } catch {
    /* no passwd entry (a container's arbitrary uid) */
  }
  return isValid(name) ? name : 'admin';
}

/** The daemon's own identity, the first admin's run-as mapping; null where the platform has none. */
export function daemonRunAs(): RunAs | null {
  if (typeof process.getuid !== 'function' || typeof process.getgid !== 'function') return null;
  const gid = process.getgid();
  const groups = typeof process.getgroups === 'function' ? process.getgroups().filter((g) => g !== gid) : [];
  return { uid: process.getuid(), gid, groups };
}

/**
 * The first admin's token chosen by the operator (auth.adminTokenFile, GRM_ADMIN_TOKEN_FILE:
 * a Kubernetes or swarm secret, say), read and checked before anything is opened. Used on the
 * first start only; a store that has users keeps theirs.
 */
export function readAdminTokenFile(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new GrmError('E_CONFIG_INVALID', `invalid configuration: cannot read auth.adminTokenFile ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      field: 'auth.adminTokenFile',
    });
  }
  const token = text.trim();
  if (!isWellFormedToken(token)) {
    throw new GrmError(
      'E_CONFIG_INVALID',
      `invalid configuration: auth.adminTokenFile ${file} does not hold a GRM token (grm_ and 43 base64url characters, e.g. printf 'grm_%s' "$(head -c 32 /dev/urandom | basenc --base64url | tr -d =)")`,
      { field: 'auth.adminTokenFile' },
    );
  }
  return token;
}
