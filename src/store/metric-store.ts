/**
 * Training metrics of jobs (logs/metric-line.ts reads them from output lines). Points are
 * written by LogStore.append in the transaction of their lines; this reads them, by job, in
 * the order they were printed, a page at a time (cursor: the last point's id).
 */
import type { MetricPoint } from '../logs/metric-line.js';
import type { Db } from './database.js';

export interface StoredMetric extends MetricPoint {
  id: number;
  jobId: number;
  /** ms since epoch: when the line was read */
  ts: number;
}

export interface MetricPage {
  points: StoredMetric[];
  /** More points after the last one of this page. */
  more: boolean;
  /** The job reached maxPerJob points: any later ones are in its log only. */
  capped: boolean;
}

/** Jobs whose point counts are kept in memory at once. */
const MAX_COUNTED_JOBS = 10_000;

export class MetricStore {
  private readonly insertStmt;
  private readonly countStmt;
  private readonly pageStmt;
  private readonly pageByNameStmt;
  /** Points stored per job, counted once per job and then kept up to date (the per-job bound). */
  private readonly counts = new Map<number, number>();

  constructor(
    db: Db,
    /** At most this many points per job (logs.maxMetricsPerJob). */
    readonly maxPerJob: number,
  ) {
    this.insertStmt = db.prepare('INSERT INTO job_metrics (job_id, name, step, rank, value, ts) VALUES (?, ?, ?, ?, ?, ?)');
    this.countStmt = db.prepare('SELECT count(*) FROM job_metrics WHERE job_id = ?').pluck();
    const select = 'SELECT id, job_id AS jobId, name, step, rank, value, ts FROM job_metrics WHERE job_id = ? AND id > ?';
    this.pageStmt = db.prepare(`${select} ORDER BY id LIMIT ?`);
    this.pageByNameStmt = db.prepare(`${select} AND name = ? ORDER BY id LIMIT ?`);
  }

  /** Inside the caller's transaction: a job's points from one line, as far as its bound allows. */
  insert(jobId: number, ts: number, points: MetricPoint[]): void {
    const stored = this.count(jobId);
    const room = Math.max(0, this.maxPerJob - stored);
    const kept = points.length <= room ? points : points.slice(0, room);
    for (const p of kept) this.insertStmt.run(jobId, p.name, p.step, p.rank, p.value, ts);
    this.counts.set(jobId, stored + kept.length);
  }

  /** Forgets counts after a rolled-back transaction (they are read again from the table). */
  forgetCounts(): void {
    this.counts.clear();
  }

  read(jobId: number, query: { after?: number; limit: number; name?: string }): MetricPage {
    const after = query.after ?? 0;
    const rows = (
      query.name === undefined ? this.pageStmt.all(jobId, after, query.limit + 1) : this.pageByNameStmt.all(jobId, after, query.name, query.limit + 1)
    ) as StoredMetric[];
    const more = rows.length > query.limit;
    return { points: more ? rows.slice(0, query.limit) : rows, more, capped: this.count(jobId) >= this.maxPerJob };
  }

  private count(jobId: number): number {
    let n = this.counts.get(jobId);
    if (n === undefined) {
      // a long-lived daemon meets many jobs: forget the counts (they are read again) past a bound
      if (this.counts.size >= MAX_COUNTED_JOBS) this.counts.clear();
      this.counts.set(jobId, (n = this.countStmt.get(jobId) as number));
    }
    return n;
  }
}
