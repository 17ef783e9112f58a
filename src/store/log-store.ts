/**
 * Log lines and tail offsets. One `append` is one transaction holding a batch of lines and
 * the offsets of the files they came from, so after a crash a tail resumes exactly past what
 * was stored: no line lost, none doubled.
 */
import type { Db } from './database.js';

export interface LogLineRow {
  jobId: number;
  seq: number;
  /** ms since epoch */
  ts: number;
  source: string;
  line: string;
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
}

export class LogStore {
  private readonly insertLine;
  private readonly upsertOffset;

  constructor(private readonly db: Db) {
    this.insertLine = db.prepare('INSERT INTO log_lines (job_id, seq, ts, source, line) VALUES (?, ?, ?, ?, ?)');
    this.upsertOffset = db.prepare(
      `INSERT INTO log_offsets (job_id, source, path, offset) VALUES (?, ?, ?, ?)
       ON CONFLICT(job_id, source) DO UPDATE SET path = excluded.path, offset = excluded.offset`,
    );
  }

  lastSeq(jobId: number): number {
    const r = this.db.prepare('SELECT max(seq) AS s FROM log_lines WHERE job_id = ?').get(jobId) as { s: number | null };
    return r.s ?? 0;
  }

  append(lines: LogLineRow[], offsets: TailOffset[] = []): void {
    this.db.transaction(() => {
      for (const l of lines) this.insertLine.run(l.jobId, l.seq, l.ts, l.source, l.line);
      for (const o of offsets) this.upsertOffset.run(o.jobId, o.source, o.path, o.offset);
    })();
  }

  offsets(jobId: number): TailOffset[] {
    return this.db.prepare('SELECT job_id AS jobId, source, path, offset FROM log_offsets WHERE job_id = ?').all(jobId) as TailOffset[];
  }

  read(jobId: number, query: LogQuery = {}): LogLineRow[] {
    const params: unknown[] = [jobId, query.after ?? 0];
    let sql = 'SELECT job_id AS jobId, seq, ts, source, line FROM log_lines WHERE job_id = ? AND seq > ?';
    if (query.source) {
      sql += ' AND source = ?';
      params.push(query.source);
    }
    sql += ' ORDER BY seq LIMIT ?';
    params.push(query.limit ?? 1000);
    return this.db.prepare(sql).all(...params) as LogLineRow[];
  }

  sources(jobId: number): { source: string; lines: number }[] {
    return this.db
      .prepare('SELECT source, count(*) AS lines FROM log_lines WHERE job_id = ? GROUP BY source ORDER BY source')
      .all(jobId) as { source: string; lines: number }[];
  }

  deleteJob(jobId: number): number {
    return this.db.transaction(() => {
      const n = this.db.prepare('DELETE FROM log_lines WHERE job_id = ?').run(jobId).changes;
      this.db.prepare('DELETE FROM log_offsets WHERE job_id = ?').run(jobId);
      return n;
    })();
  }
}
