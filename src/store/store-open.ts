/**
 * The daemon opens its store here, once, before anything else touches the data dir: a store
 * it cannot use (damaged, read-only, no space) stops the start with one clear message, and
 * nothing has been half started (no port bound, no job folder made, no master reattached).
 */
import fs from 'node:fs';
import path from 'node:path';
import { GrmError } from '../errors.js';
import { openDatabase, type Db } from './database.js';

function codeOf(e: unknown): string {
  return String((e as { code?: unknown } | undefined)?.code ?? '');
}

/** What a store error says of the store, by SQLite's or the OS's code; null: something else. */
export function storeFault(e: unknown): 'damaged' | 'full' | 'unwritable' | null {
  const code = codeOf(e);
  if (/^SQLITE_(NOTADB|CORRUPT)/.test(code)) return 'damaged';
  if (/^SQLITE_FULL/.test(code) || code === 'ENOSPC') return 'full';
  if (/^SQLITE_(READONLY|CANTOPEN|PERM|IOERR)/.test(code) || ['EROFS', 'EACCES', 'EPERM'].includes(code)) return 'unwritable';
  return null;
}

/** The sentence for a failed open, by SQLite's or the OS's code. */
export function storeOpenMessage(file: string, e: unknown): string {
  const code = codeOf(e);
  const cause = `${(e as Error)?.message ?? String(e)}${code ? ` (${code})` : ''}`;
  const dir = path.dirname(file);
  const fault = storeFault(e);
  if (fault === 'damaged') {
    return `the store ${file} is damaged: ${cause}. GRM did not start: restore the file from a backup, or move it (and its -wal and -shm files) aside to start with an empty store`;
  }
  if (fault === 'full') {
    return `no space left for the store ${file}: ${cause}. GRM did not start: free space on the filesystem of ${dir}`;
  }
  if (fault === 'unwritable') {
    return `the store ${file} cannot be written: ${cause}. GRM did not start: make ${dir} writable by uid ${process.getuid?.() ?? '?'} (is it mounted read-only?)`;
  }
  return `the store ${file} cannot be opened: ${cause}. GRM did not start`;
}

/**
 * Opens (and migrates) the store and proves it can be written: a store that opens but
 * refuses the first write would otherwise let the daemon start and fail every request.
 */
export function openStore(file: string): Db {
  let db: Db | undefined;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    db = openDatabase(file);
    // takes the write lock (and touches the WAL) without changing anything
    db.exec('BEGIN IMMEDIATE; ROLLBACK');
    return db;
  } catch (e) {
    try {
      db?.close();
    } catch {
      // the open already failed; its reason is what the user needs
    }
    throw new GrmError('E_STORE_UNUSABLE', storeOpenMessage(file, e), { cause: e });
  }
}
