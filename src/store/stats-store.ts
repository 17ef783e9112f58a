/**
 * Counts for the operators' /metrics (src/metrics), read when Prometheus scrapes: a few
 * grouped counts over indexed columns, so the numbers are the store's own and never drift
 * from it, however the daemon was restarted.
 */
import fs from 'node:fs';
import type { Db } from './database.js';

export interface JobCount {
  state: string;
  partition: string;
  count: number;
}

export interface LogLineStats {
  /** Lines stored over the store's life: line ids are never reused (retention keeps an id floor). */
  ingested: number;
  /** Lines stored and not yet in the search index (ids above its high-water mark). */
  unindexed: number;
  /** When the oldest of those was read (ms since epoch, the aggregator's clock); null when none. */
  oldestUnindexedTime: number | null;
}

export class StatsStore {
  private readonly jobCountsStmt;
  private readonly pendingStmt;
  private readonly queueStmt;
  private readonly runningStmt;
  private readonly topIdStmt;
  private readonly oldestStmt;

  constructor(db: Db) {
    this.jobCountsStmt = db.prepare('SELECT state, partition, count(*) AS count FROM jobs GROUP BY state, partition');
    // as squeue shows them (api/present.ts awaitsStart): a job the backend holds in its queue waits too
    this.pendingStmt = db.prepare(
      "SELECT reason, count(*) AS count FROM jobs WHERE state = 'PENDING' OR (state = 'ALLOCATING' AND node_list IS NULL) GROUP BY reason",
    );
    // the eligible queue the dispatcher reads (queue-store.ts): pending and blocked by nothing
    this.queueStmt = db.prepare("SELECT count(*) FROM jobs INDEXED BY jobs_ready WHERE state = 'PENDING' AND blocked IS NULL").pluck();
    this.runningStmt = db.prepare("SELECT user, count(*) AS count FROM jobs WHERE state = 'RUNNING' GROUP BY user");
    this.topIdStmt = db
      .prepare("SELECT max(coalesce((SELECT max(id) FROM log_lines), 0), coalesce((SELECT value FROM log_meta WHERE key = 'id_floor'), 0))")
      .pluck();
    this.oldestStmt = db.prepare('SELECT ts FROM log_lines WHERE id > ? ORDER BY id LIMIT 1').pluck();
  }

  /** Jobs the store holds, by state and partition (ended ones until retention drops them). */
  jobCounts(): JobCount[] {
    return this.jobCountsStmt.all() as JobCount[];
  }

  /** Jobs waiting to start (PENDING, or ALLOCATING without nodes yet) by the reason squeue shows. */
  pendingByReason(): { reason: string; count: number }[] {
    return this.pendingStmt.all() as { reason: string; count: number }[];
  }

  /** Pending jobs nothing blocks (no hold, begin time or dependency): those a dispatch pass may start. */
  queueLength(): number {
    return this.queueStmt.get() as number;
  }

  runningByUser(): { user: string; count: number }[] {
    return this.runningStmt.all() as { user: string; count: number }[];
  }

  /** `indexedTo`: the search index's high-water mark (LogSearch.indexedTo). */
  logLines(indexedTo: number): LogLineStats {
    const top = this.topIdStmt.get() as number;
    const oldest = top > indexedTo ? ((this.oldestStmt.get(indexedTo) as number | undefined) ?? null) : null;
    return { ingested: top, unindexed: Math.max(0, top - indexedTo), oldestUnindexedTime: oldest };
  }

  /** Bytes on disk of each database file and its write-ahead log (absent files are 0). */
  fileSizes(files: string[]): { file: string; bytes: number }[] {
    return files.flatMap((file) => [file, `${file}-wal`]).map((file) => ({ file, bytes: sizeOf(file) }));
  }
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
