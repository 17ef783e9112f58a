/**
 * Log lines and tail offsets. One `append` is one transaction holding a batch of lines and
 * the offsets of the files they came from, so after a crash a tail resumes exactly past what
 * was stored: no line lost, none doubled.
 *
 * Speed: rows go in through multi-row INSERT statements (one statement per 128 lines), which
 * roughly halves the per-line cost of better-sqlite3's one-statement-per-row path. The full-text
 * index is not kept here: log-search.ts indexes committed rows by id, off the ingest path.
 * Ids are therefore given explicitly and never reused (see log_meta 'id_floor').
 *
 * Each line is stored with its run: the job's restart count when it is stored (0 for the first
 * run; a requeue's next run writes under the next number), so a requeued job's runs stay apart.
 * The runner stores the last lines of a run before its requeue is written, so a run's own lines
 * carry its number; the "requeued" state line itself opens the next run's.
 */
import { mayHoldMetrics, parseMetricLine } from '../logs/metric-line.js';
import { lineRank, taskFileRank } from '../logs/srun-label.js';
import type { Db } from './database.js';
import type { MetricStore } from './metric-store.js';

export interface LogLineRow {
  jobId: number;
  seq: number;
  /** ms since epoch */
  ts: number;
  source: string;
  line: string;
  /** The task rank of an `srun --label` line (read at append; null for others). */
  rank?: number | null;
  /** The job's run (its restart count when the line was stored); set by append. */
  run?: number;
}

export interface TailOffset {
  jobId: number;
  source: string;
  path: string;
  offset: number;
}

export interface LogQuery {
  /** Only lines with seq > after. */
  after?: number;
  limit?: number;
  source?: string;
  /** Only lines of this task rank (srun --label). */
  rank?: number;
  /** Only lines of this run (0: the first; a requeued job's next runs 1, 2...). */
  run?: number;
}

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** Stored as 1..4 (the column is an integer: smaller rows, cheap comparisons). */
export const levelCode = (level: LogLevel): number => LOG_LEVELS.indexOf(level) + 1;
export const levelName = (code: number | null): LogLevel | undefined => (code ? LOG_LEVELS[code - 1] : undefined);

// Markers of common logging formats: upper-case words (log4j, Python logging, COMPSs:
// "ERROR", "[WARN]"), bracketed words in any case ("[error]"), logfmt ("level=error"), and
// Python tracebacks. Lower-case prose ("0 errors") is deliberately not a marker. Stderr
// alone does not make a line an error: Python logging, progress bars and COMPSs write
// ordinary information there (the job report lists stderr lines separately).
// Separate patterns, each tried only when it can match (a cheap includes() first): this runs
// for every stored line, on the ingest path.
const UPPER_RE = /\b(FATAL|CRITICAL|SEVERE|ERROR|WARNING|WARN|INFO|DEBUG|TRACE)\b/;
const BRACKET_RE = /\[(fatal|critical|error|err|warning|warn|info|debug|trace)\]/i;
const LOGFMT_RE = /\blevel=["']?(fatal|critical|error|err|warning|warn|info|debug|trace)\b/i;
const LEVEL_OF: Record<string, number> = {
  fatal: 1, critical: 1, severe: 1, error: 1, err: 1,
  warning: 2, warn: 2,
  info: 3,
  debug: 4, trace: 4,
};

/** The level a line announces (1 error ... 4 debug), or null. The leftmost marker wins. */
export function lineLevel(line: string): number | null {
  if (line.startsWith('Traceback (most recent call last)') || line.startsWith('Exception in thread ')) return 1;
  let best: RegExpExecArray | null = UPPER_RE.exec(line);
  if (line.includes('[')) {
    const m = BRACKET_RE.exec(line);
    if (m !== null && (best === null || m.index < best.index)) best = m;
  }
  if (line.includes('level=')) {
    const m = LOGFMT_RE.exec(line);
    if (m !== null && (best === null || m.index < best.index)) best = m;
  }
  return best === null ? null : (LEVEL_OF[best[1]!.toLowerCase()] ?? null);
}

const ROWS_PER_STATEMENT = 128;
const COLUMNS = '(id, job_id, seq, ts, source, line, level, rank, run)';
const WIDTH = 9;

export interface ErrorLine extends LogLineRow {
  level: number | null;
}

export class LogStore {
  private readonly insertOne;
  private readonly insertMany;
  private readonly upsertOffset;
  private readonly nextIdStmt;
  private readonly readStmt;
  private readonly readSourceStmt;
  private readonly readRankStmt;
  private readonly runStmt;

  constructor(
    private readonly db: Db,
    /** Where metric lines of job output go, in the same transaction as the lines. */
    private readonly metrics?: MetricStore,
  ) {
    const row = `(${Array(WIDTH).fill('?').join(', ')})`;
    this.insertOne = db.prepare(`INSERT INTO log_lines ${COLUMNS} VALUES ${row}`);
    this.insertMany = db.prepare(`INSERT INTO log_lines ${COLUMNS} VALUES ${Array(ROWS_PER_STATEMENT).fill(row).join(', ')}`);
    this.runStmt = db.prepare('SELECT restart_count AS run FROM jobs WHERE id = ?').pluck();
    this.upsertOffset = db.prepare(
      `INSERT INTO log_offsets (job_id, source, path, offset) VALUES (?, ?, ?, ?)
       ON CONFLICT(job_id, source) DO UPDATE SET path = excluded.path, offset = excluded.offset`,
    );
    this.nextIdStmt = db.prepare(
      "SELECT max(coalesce((SELECT max(id) FROM log_lines), 0), coalesce((SELECT value FROM log_meta WHERE key = 'id_floor'), 0)) + 1 AS id",
    );
    const select = 'SELECT job_id AS jobId, seq, ts, source, line, rank, run FROM log_lines WHERE job_id = ? AND seq > ? AND (? IS NULL OR run = ?)';
    this.readStmt = db.prepare(`${select} ORDER BY seq LIMIT ?`);
    this.readSourceStmt = db.prepare(`${select} AND source = ? ORDER BY seq LIMIT ?`);
    this.readRankStmt = db.prepare(`${select} AND rank = ? AND (? IS NULL OR source = ?) ORDER BY seq LIMIT ?`);
  }

  lastSeq(jobId: number): number {
    const r = this.db.prepare('SELECT max(seq) AS s FROM log_lines WHERE job_id = ?').get(jobId) as { s: number | null };
    return r.s ?? 0;
  }

  append(lines: LogLineRow[], offsets: TailOffset[] = []): void {
    try {
      this.appendInTransaction(lines, offsets);
    } catch (e) {
      this.metrics?.forgetCounts(); // rolled back: the counts are read again
      throw e;
    }
  }

  private appendInTransaction(lines: LogLineRow[], offsets: TailOffset[]): void {
    this.db.transaction(() => {
      let id = (this.nextIdStmt.get() as { id: number }).id;
      const runs = new Map<number, number>();
      for (const l of lines) {
        let run = runs.get(l.jobId);
        if (run === undefined) runs.set(l.jobId, (run = (this.runStmt.get(l.jobId) as number | undefined) ?? 0));
        l.run = run;
      }
      const params: unknown[] = new Array(ROWS_PER_STATEMENT * WIDTH);
      let i = 0;
      for (; i + ROWS_PER_STATEMENT <= lines.length; i += ROWS_PER_STATEMENT) {
        for (let j = 0; j < ROWS_PER_STATEMENT; j++) {
          const l = lines[i + j]!;
          const o = j * WIDTH;
          params[o] = id++;
          params[o + 1] = l.jobId;
          params[o + 2] = l.seq;
          params[o + 3] = l.ts;
          params[o + 4] = l.source;
          params[o + 5] = l.line;
          params[o + 6] = lineLevel(l.line);
          params[o + 7] = rankOf(l);
          params[o + 8] = l.run;
        }
        this.insertMany.run(params);
      }
      for (; i < lines.length; i++) {
        const l = lines[i]!;
        this.insertOne.run(id++, l.jobId, l.seq, l.ts, l.source, l.line, lineLevel(l.line), rankOf(l), l.run);
      }
      for (const o of offsets) this.upsertOffset.run(o.jobId, o.source, o.path, o.offset);
      if (this.metrics) this.storeMetrics(this.metrics, lines);
    })();
  }

  /** The metrics job output lines carry (not GRM's own lines: a job name must not make a point). */
  private storeMetrics(metrics: MetricStore, lines: LogLineRow[]): void {
    for (const l of lines) {
      if (l.source === 'grm' || !mayHoldMetrics(l.line)) continue;
      const points = parseMetricLine(l.line, taskFileRank(l.source));
      if (points.length > 0) metrics.insert(l.jobId, l.ts, points);
    }
  }

  offsets(jobId: number): TailOffset[] {
    return this.db.prepare('SELECT job_id AS jobId, source, path, offset FROM log_offsets WHERE job_id = ?').all(jobId) as TailOffset[];
  }

  read(jobId: number, query: LogQuery = {}): LogLineRow[] {
    const limit = query.limit ?? 1000;
    const run = query.run ?? null;
    const head = [jobId, query.after ?? 0, run, run];
    if (query.rank !== undefined) {
      const source = query.source || null;
      return this.readRankStmt.all(...head, query.rank, source, source, limit) as LogLineRow[];
    }
    if (query.source) return this.readSourceStmt.all(...head, query.source, limit) as LogLineRow[];
    return this.readStmt.all(...head, limit) as LogLineRow[];
  }

  sources(jobId: number): { source: string; lines: number }[] {
    return this.db
      .prepare('SELECT source, count(*) AS lines FROM log_lines WHERE job_id = ? GROUP BY source ORDER BY source')
      .all(jobId) as { source: string; lines: number }[];
  }

  /** The first lines of a job that look like errors: level error, or written to stderr. */
  firstErrors(jobId: number, limit: number): ErrorLine[] {
    return this.db
      .prepare(
        `SELECT job_id AS jobId, seq, ts, source, line, level FROM log_lines INDEXED BY log_lines_errors
         WHERE job_id = ? AND (level = 1 OR source = 'stderr') ORDER BY seq LIMIT ?`,
      )
      .all(jobId, limit) as ErrorLine[];
  }

  deleteJob(jobId: number): number {
    return this.db.transaction(() => {
      keepIdFloor(this.db);
      const n = this.db.prepare('DELETE FROM log_lines WHERE job_id = ?').run(jobId).changes;
      this.db.prepare('DELETE FROM log_offsets WHERE job_id = ?').run(jobId);
      return n;
    })();
  }
}

/** A stored line's task rank (src/logs/srun-label.ts says how it is read). */
export function rankOf(l: Pick<LogLineRow, 'source' | 'line'>): number | null {
  return lineRank(l.source, l.line);
}

/** Call in the transaction that deletes lines: ids above today's highest are never handed out again. */
export function keepIdFloor(db: Db): void {
  db.prepare(
    `INSERT INTO log_meta (key, value) SELECT 'id_floor', m FROM (SELECT max(id) AS m FROM log_lines) WHERE m IS NOT NULL
     ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)`,
  ).run();
}
