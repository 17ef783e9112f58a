/** What log retention reads and deletes: ended jobs with their stored log size, and their lines. */
import { TERMINAL_STATES } from '../jobs/job-types.js';
import type { Db } from './database.js';
import { keepIdFloor } from './log-store.js';

const ENDED = `(${[...TERMINAL_STATES].map((s) => `'${s}'`).join(',')})`;

export interface EndedJobLogs {
  id: number;
  endTime: number;
  /** bytes of its stored log lines */
  logBytes: number;
}

export class RetentionStore {
  constructor(private readonly db: Db) {}

  /** Ended jobs, oldest end first, with the size of their stored lines. */
  endedJobs(): EndedJobLogs[] {
    return this.db
      .prepare(
        `SELECT j.id, j.end_time AS endTime, coalesce((SELECT sum(length(line)) FROM log_lines l WHERE l.job_id = j.id), 0) AS logBytes
         FROM jobs j WHERE j.state IN ${ENDED} AND j.end_time IS NOT NULL ORDER BY j.end_time, j.id`,
      )
      .all() as EndedJobLogs[];
  }

  /** Jobs not ended (their folders count toward the total, and are never removed). */
  activeJobIds(): number[] {
    return this.db.prepare(`SELECT id FROM jobs WHERE state NOT IN ${ENDED}`).pluck().all() as number[];
  }

  /** Deletes a job's stored lines and tail offsets, noting it in the job's events; the number of lines. */
  dropLogs(jobId: number, now: number, bytes: number): number {
    return this.db.transaction(() => {
      keepIdFloor(this.db); // the search index is keyed by line id: never hand a deleted id out again
      const n = this.db.prepare('DELETE FROM log_lines WHERE job_id = ?').run(jobId).changes;
      this.db.prepare('DELETE FROM log_offsets WHERE job_id = ?').run(jobId);
      this.db
        .prepare("INSERT INTO job_events (job_id, time, reason, actor) VALUES (?, ?, ?, 'retention')")
        .run(jobId, now, `retention removed ${n} log lines and the job folder (${bytes} bytes)`);
      return n;
    })();
  }
}
