/**
 * The token the grm command sends: GRM_TOKEN; else the file GRM_TOKEN_FILE names; else the
 * first admin's <dataDir>/admin.token, found as the daemon finds its data dir (GRM_DATA_DIR,
 * the config file's dataDir, ./var), which only the daemon's own user can read.
 */
import fs from 'node:fs';
import { configuredDataDir } from '../config/load-config.js';
import { adminTokenPath } from '../users/first-admin.js';
import { CliError } from './api-client.js';

export interface CliToken {
  token: string | undefined;
  /** Where it came from, or where grm looked: for the message when the daemon refuses. */
  tokenFrom: string;
}

export function cliToken(env: NodeJS.ProcessEnv, cwd: string): CliToken {
  if (env.GRM_TOKEN) return { token: env.GRM_TOKEN.trim(), tokenFrom: 'GRM_TOKEN' };
  if (env.GRM_TOKEN_FILE) {
    try {
      return { token: fs.readFileSync(env.GRM_TOKEN_FILE, 'utf8').trim(), tokenFrom: `GRM_TOKEN_FILE (${env.GRM_TOKEN_FILE})` };
    } catch (e) {
      throw new CliError(`cannot read GRM_TOKEN_FILE ${env.GRM_TOKEN_FILE}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'E_AUTH_REQUIRED');
    }
  }
  let file: string;
  try {
    file = adminTokenPath(configuredDataDir(env, cwd));
  } catch {
    return { token: undefined, tokenFrom: 'no GRM_TOKEN, no GRM_TOKEN_FILE, and the config file is unreadable' };
  }
  try {
    return { token: fs.readFileSync(file, 'utf8').trim(), tokenFrom: file };
  } catch {
    // not there, or not ours to read (the daemon's user only): the daemon will say what it wants
    return { token: undefined, tokenFrom: `no GRM_TOKEN, no GRM_TOKEN_FILE, and ${file} is not readable` };
  }
}
