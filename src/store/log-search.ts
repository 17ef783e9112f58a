/**
 * Full-text search over every stored log line (SQLite FTS5), indexed off the ingest path.
 *
 * Why this shape (figures in ../shared/DESIGN.md and `npm run bench`): an FTS5 index kept by a
 * per-row trigger makes ingest ten times slower, and even bulk `INSERT … SELECT` indexing on
 * the ingest thread halves it. So:
 *  - the index lives in its own database file (`grm-search.sqlite` beside `grm.sqlite`): SQLite
 *    allows one writer per file, so ingest (main thread, main file) and indexing (a worker
 *    thread, index file) really run at the same time, one per core;
 *  - the worker indexes committed lines in id order, in bulk: `INSERT INTO log_fts(rowid, line)
 *    SELECT id, line FROM logs.log_lines WHERE id > high-water AND id <= high-water + chunk`,
 *    and moves the high-water mark in the same transaction of the same file, so a restart
 *    indexes nothing twice and misses nothing (deleting the index file rebuilds it);
 *  - the FTS table is contentless (`content=''`): the text stays once, in log_lines; hits are
 *    joined back by rowid = log_lines.id. Lines deleted by retention simply stop joining.
 *
 * Search therefore lags ingest: by at most `intervalMs` (default 250 ms) plus the backlog
 * divided by the indexing rate while ingest outruns the indexer (bench: "index lag").
 *
 * The worker is an isolate of its own (about 14 MiB resident): it starts when there is a line
 * to index (adding its start, about 0.1 s, to the lag) and stops after `idleMs` with nothing to
 * index; meanwhile the main thread only reads the highest line id every `intervalMs`. Indexing
 * stays off the main thread even for a few lines: an FTS5 merge within a chunk of 250 lines
 * took up to 100 ms over a 2-million-line index.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { GrmError } from '../errors.js';
import { PAGE_CACHE_KIB, keepPrivate, type Db } from './database.js';
import { levelCode, levelName, type LogLevel } from './log-store.js';

export interface LogSearchOptions {
  db: Db;
  /** The index database file. */
  file: string;
  /** Indexer wake-up period when idle (default 250 ms). */
  intervalMs?: number;
  /** The worker stops after this long with nothing to index (default 60 s); the next line starts it again. */
  idleMs?: number;
  /** Lines per indexing transaction (default 100,000: fewer, larger FTS segments). */
  chunkRows?: number;
  /** 'full' (default) allows phrase and NEAR queries; 'none' indexes about twice as fast but only words. */
  detail?: 'full' | 'none';
  onError?: (error: Error) => void;
}

export interface SearchQuery {
  q: string;
  job?: number;
  user?: string;
  source?: string;
  /** ms since epoch, inclusive */
  since?: number;
  /** ms since epoch, exclusive */
  until?: number;
  level?: LogLevel;
  limit?: number;
  /** With `job`: only lines with seq > after. */
  after?: number;
}

export interface SearchHit {
  job_id: number;
  seq: number;
  time: string;
  source: string;
  line: string;
  level?: LogLevel;
}

const SCHEMA = 'search';

// The worker is plain JavaScript evaluated from this string: it then runs the same under tsx
// (tests) and from dist/ (production) without a second build artefact. SQL comes in workerData.
const WORKER_CODE = `
const { parentPort, workerData: w } = require('node:worker_threads');
const Database = require(w.driver);
const db = new Database(w.indexFile);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
db.prepare('ATTACH ? AS logs').run(w.logFile);
// the lines are read once, in id order, and the segments written once: no use for a large cache
db.pragma('cache_size = -' + w.cacheKiB);
db.pragma('logs.cache_size = -' + w.cacheKiB);
const state = db.prepare('SELECT indexed_to AS n FROM index_state WHERE id = 1');
const top = db.prepare('SELECT coalesce(max(id), 0) AS n FROM logs.log_lines');
const insert = db.prepare('INSERT INTO log_fts(rowid, line) SELECT id, line FROM logs.log_lines WHERE id > ? AND id <= ?');
const mark = db.prepare('UPDATE index_state SET indexed_to = ? WHERE id = 1');
const step = db.transaction(() => {
  const from = state.get().n;
  const to = Math.min(from + w.chunkRows, top.get().n);
  if (to > from) { insert.run(from, to); mark.run(to); }
  return { indexedTo: Math.max(from, to), more: to - from >= w.chunkRows };
});
parentPort.on('message', (m) => {
  if (m.type === 'close') { db.close(); parentPort.close(); return; }
  try {
    let r;
    // a bounded number of chunks per request, so a close request waits at most that long
    for (let i = 0; i < 8; i++) { r = step(); if (!r.more) break; }
    parentPort.postMessage({ type: 'indexed', indexedTo: r.indexedTo, more: r.more });
  } catch (e) {
    parentPort.postMessage({ type: 'error', message: String(e && e.message || e) });
  }
});
`;

export class LogSearch {
  private worker: Worker | null = null;
  /** A worker told to stop when idle, until it has exited: no second one meanwhile. */
  private retiring: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private started = false;
  /** The worker failed (reported): indexing stops, as it must not spin on the same error. */
  private failed = false;
  private closed = false;
  private indexed = 0;
  /** When the worker last indexed a line (or started). */
  private lastWork = 0;
  private waiters: { target: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  private readonly intervalMs: number;
  private readonly idleMs: number;
  private readonly chunkRows: number;
  private readonly onError: (error: Error) => void;
  private readonly jobBounds;
  private readonly jobLastId;
  private readonly topId;

  constructor(private readonly o: LogSearchOptions) {
    this.intervalMs = Math.max(1, o.intervalMs ?? 250);
    this.idleMs = Math.max(0, o.idleMs ?? 60_000);
    this.chunkRows = Math.max(1000, o.chunkRows ?? 100_000);
    this.onError = o.onError ?? ((e) => process.emitWarning(`log search index: ${e.message}`));
    const db = o.db;
    keepPrivate(o.file);
    db.prepare(`ATTACH ? AS ${SCHEMA}`).run(o.file);
    db.pragma(`${SCHEMA}.journal_mode = WAL`);
    db.pragma(`${SCHEMA}.synchronous = NORMAL`);
    db.pragma(`${SCHEMA}.cache_size = -${PAGE_CACHE_KIB}`);
    // columnsize=0: no per-row length records (no bm25 ranking needed: hits come in time order)
    db.exec(`
      CREATE VIRTUAL TABLE IF NOT EXISTS ${SCHEMA}.log_fts USING fts5(line, content='', columnsize=0, detail=${o.detail === 'none' ? 'none' : 'full'});
      CREATE TABLE IF NOT EXISTS ${SCHEMA}.index_state (id INTEGER PRIMARY KEY CHECK (id = 1), indexed_to INTEGER NOT NULL);
      INSERT OR IGNORE INTO ${SCHEMA}.index_state (id, indexed_to) VALUES (1, 0);
    `);
    this.indexed = this.readIndexedTo();
    this.jobBounds = db.prepare('SELECT id FROM log_lines WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT 1');
    this.jobLastId = db.prepare('SELECT id FROM log_lines WHERE job_id = ? ORDER BY seq DESC LIMIT 1');
    this.topId = db.prepare('SELECT coalesce(max(id), 0) AS n FROM log_lines');
  }

  /** Starts indexing: whatever is stored and not indexed first, then each new line. */
  start(): this {
    if (this.started || this.closed) return this;
    this.started = true;
    this.kick();
    return this;
  }

  /** Highest log_lines.id indexed. */
  get indexedTo(): number {
    return this.indexed;
  }

  /** Resolves once every line stored before this call is searchable (tests, bench). */
  catchUp(): Promise<void> {
    const target = (this.topId.get() as { n: number }).n;
    if (this.indexed >= target) return Promise.resolve();
    if (!this.started || this.failed || this.closed) return Promise.reject(new Error('log search indexer is not running'));
    return new Promise((resolve, reject) => {
      this.waiters.push({ target, resolve, reject });
      this.kick();
    });
  }

  search(query: SearchQuery): { hits: SearchHit[]; truncated: boolean } {
    const where = [`f.log_fts MATCH ?`];
    const params: unknown[] = [query.q];
    if (query.job !== undefined) {
      // a job's lines have increasing ids in seq order: bound the FTS scan to its id range
      const first = this.jobBounds.get(query.job, query.after ?? 0) as { id: number } | undefined;
      if (first === undefined) return { hits: [], truncated: false };
      const last = this.jobLastId.get(query.job) as { id: number };
      where.push('f.rowid >= ?', 'f.rowid <= ?', 'l.job_id = ?');
      params.push(first.id, last.id, query.job);
      if (query.after) {
        where.push('l.seq > ?');
        params.push(query.after);
      }
    } else if (query.after) {
      throw new GrmError('E_REQUEST_INVALID', 'after: only with job= (a seq is a position in one job\'s log)', { field: 'after' });
    }
    if (query.user !== undefined) {
      where.push('l.job_id IN (SELECT id FROM jobs WHERE user = ?)');
      params.push(query.user);
    }
    if (query.source !== undefined) {
      where.push('l.source = ?');
      params.push(query.source);
    }
    if (query.since !== undefined) {
      where.push('l.ts >= ?');
      params.push(query.since);
    }
    if (query.until !== undefined) {
      where.push('l.ts < ?');
      params.push(query.until);
    }
    if (query.level !== undefined) {
      where.push('l.level = ?');
      params.push(levelCode(query.level));
    }
    const limit = Math.max(1, Math.min(query.limit ?? 100, 10_000));
    const sql = `SELECT l.job_id, l.seq, l.ts, l.source, l.line, l.level
      FROM ${SCHEMA}.log_fts f JOIN log_lines l ON l.id = f.rowid
      WHERE ${where.join(' AND ')}
      ORDER BY f.rowid ${query.job !== undefined ? 'ASC' : 'DESC'} LIMIT ?`;
    params.push(limit + 1);
    let rows: { job_id: number; seq: number; ts: number; source: string; line: string; level: number | null }[];
    try {
      rows = this.o.db.prepare(sql).all(...params) as typeof rows;
    } catch (e) {
      // the SQL is fixed and every other value is bound: an SQLite error here is about q
      const message = e instanceof Error ? e.message : String(e);
      throw new GrmError(
        'E_REQUEST_INVALID',
        `q: not a valid full-text query (${message}); put words with punctuation in double quotes, e.g. "worker-3"`,
        { field: 'q', cause: e },
      );
    }
    const truncated = rows.length > limit;
    return {
      truncated,
      hits: rows.slice(0, limit).map((r) => {
        const level = levelName(r.level);
        return { job_id: r.job_id, seq: r.seq, time: new Date(r.ts).toISOString(), source: r.source, line: r.line, ...(level ? { level } : {}) };
      }),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const worker = this.worker;
    this.worker = null;
    for (const w of this.waiters.splice(0)) w.reject(new Error('log search closed'));
    if (this.retiring !== null) await this.retiring;
    if (worker !== null) {
      worker.ref(); // unref'd while running so it never holds the process; now we wait for it
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ type: 'close' });
      // a chunk in progress finishes first (bounded); past that, stop it (its transaction rolls back)
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, 10_000)));
      await Promise.race([exited, timeout]);
      clearTimeout(timer);
      await worker.terminate();
    }
    try {
      this.o.db.exec(`DETACH ${SCHEMA}`);
    } catch {
      /* the database is already closed */
    }
  }

  private readIndexedTo(): number {
    return (this.o.db.prepare(`SELECT indexed_to AS n FROM ${SCHEMA}.index_state WHERE id = 1`).get() as { n: number }).n;
  }

  private kick(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.busy || this.closed || this.failed || !this.started) return;
    if (this.worker === null) {
      if (this.retiring !== null) return; // its exit schedules the next look
      if (this.waiters.length === 0 && (this.topId.get() as { n: number }).n <= this.indexed) return this.scheduleNext();
      this.worker = this.spawn();
      this.lastWork = Date.now();
    }
    this.busy = true;
    this.worker.postMessage({ type: 'index' });
  }

  private spawn(): Worker {
    const worker = new Worker(WORKER_CODE, {
      eval: true,
      workerData: {
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
        indexFile: this.o.file,
        logFile: this.o.db.name,
        chunkRows: this.chunkRows,
        cacheKiB: PAGE_CACHE_KIB,
      },
    });
    worker.unref();
    worker.on('message', (m: { type: string; indexedTo?: number; more?: boolean; message?: string }) => {
      this.busy = false;
      if (m.type === 'error') this.onError(new Error(m.message));
      else {
        if (m.indexedTo! > this.indexed) this.lastWork = Date.now();
        this.indexed = m.indexedTo!;
        this.settleWaiters();
      }
      if (m.more === true) this.kick();
      else if (this.waiters.length === 0 && Date.now() - this.lastWork >= this.idleMs) this.retire();
      else this.scheduleNext();
    });
    worker.on('error', (e) => {
      this.onError(e);
      this.failed = true;
      this.worker = null;
      for (const w of this.waiters.splice(0)) w.reject(e);
    });
    return worker;
  }

  /** Stops an idle worker; the main thread goes back to looking for new lines. */
  private retire(): void {
    const worker = this.worker;
    if (worker === null || this.closed) return;
    this.worker = null;
    this.retiring = new Promise<void>((resolve) => worker.once('exit', () => resolve())).then(() => {
      this.retiring = null;
      this.scheduleNext();
    });
    worker.postMessage({ type: 'close' });
  }

  private scheduleNext(): void {
    if (this.timer !== null || this.closed) return;
    if (this.waiters.length > 0) return this.kick();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.kick();
    }, this.intervalMs);
    this.timer.unref();
  }

  private settleWaiters(): void {
    this.waiters = this.waiters.filter((w) => {
      if (this.indexed < w.target) return true;
      w.resolve();
      return false;
    });
  }
}
