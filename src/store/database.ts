/**
 * Opens the SQLite database (better-sqlite3) in WAL mode and applies pending migrations.
 * synchronous=NORMAL in WAL keeps every committed transaction across a process crash;
 * only an OS crash may lose the last ones, which the design accepts for throughput.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, type Migration } from './migrations.js';
import { cacheStatements } from './statement-cache.js';

export type Db = Database.Database;

/**
 * SQLite's page cache, per connection and per attached database (PRAGMA cache_size, in KiB).
 * better-sqlite3 builds SQLite with 16 MiB (SQLITE_DEFAULT_CACHE_SIZE=-16000), which the daemon
 * filled and kept: the pages are in the OS page cache anyway, and every query here is an index
 * lookup or an append whose interior b-tree pages fit in far less. PAGE_CACHE_KIB below keeps
 * `npm run bench` figures (submissions, listing, search) within noise of 16 MiB.
 */
export const PAGE_CACHE_KIB = 4096;

/**
 * A store file only the daemon's account may read: it holds every job's script and
 * environment, and job accounts pass through the data dir to reach their job folders. SQLite
 * creates the -wal and -shm files with the main file's mode; existing ones are fixed here.
 */
export function keepPrivate(file: string): void {
  if (file === ':memory:') return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.closeSync(fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      fs.chmodSync(f, 0o600);
    } catch {
      // not there (yet)
    }
  }
}

export function openDatabase(file: string, migrations: Migration[] = MIGRATIONS): Db {
  keepPrivate(file);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
  cacheStatements(db);
  migrate(db, migrations);
  return db;
}

export function migrate(db: Db, migrations: Migration[]): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_time INTEGER NOT NULL)');
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
  );
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_time) VALUES (?, ?, ?)');
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, Date.now());
    })();
  }
}
