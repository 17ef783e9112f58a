/**
 * Read-only figures over a period for GET /api/v1/report: jobs by state, node-hours,
 * failure reasons, utilisation. Computed from the jobs and allocations tables on demand (a
 * period covers at most thousands of jobs; no summary tables to keep in step).
 *
 * Definitions (also in the API description):
 *  - a job belongs to the period when it was submitted before `until` and had not ended
 *    before `since` (like sacct's -S/-E window); it counts under its current state;
 *  - node-hours: each allocation's nodes × the part of [granted, released or now] inside
 *    the period;
 *  - failure reasons: jobs that ended inside the period FAILED, CANCELLED, TIMEOUT or
 *    NODE_FAIL, grouped by "STATE: reason";
 *  - utilisation: per bucket, allocated node-time / bucket length (average busy nodes).
 * A user's report counts their own jobs only (utilisation too: the nodes busy with them).
 */
import type { Db } from './database.js';

export interface PeriodReport {
  since: string;
  until: string;
  jobs_by_state: Record<string, number>;
  node_hours_by_user: Record<string, number>;
  node_hours_by_partition: Record<string, number>;
  failure_reasons: { reason: string; count: number }[];
  utilisation: { time: string; nodes_busy: number; nodes_total: number }[];
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Bucket sizes tried in order: the first giving at most MAX_BUCKETS buckets wins. */
const BUCKETS = [MINUTE, 5 * MINUTE, 15 * MINUTE, HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, 24 * HOUR, 7 * 24 * HOUR];
export const MAX_BUCKETS = 200;

export function bucketSize(periodMs: number): number {
  for (const b of BUCKETS) if (periodMs / b <= MAX_BUCKETS) return b;
  return Math.ceil(periodMs / MAX_BUCKETS / HOUR) * HOUR;
}

const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

export class ReportStore {
  constructor(private readonly db: Db) {}

  /** `user`: only that user's jobs (a non-admin's report); otherwise every job. */
  period(since: number, until: number, nodesTotal: number, now = Date.now(), user?: string): PeriodReport {
    const mine = user === undefined ? '' : 'AND j.user = ?';
    const who = user === undefined ? [] : [user];
    const jobs = this.db
      .prepare(
        `SELECT state, count(*) AS n FROM jobs j WHERE submit_time < ? AND (end_time IS NULL OR end_time >= ?) ${mine} GROUP BY state ORDER BY state`,
      )
      .all(until, since, ...who) as { state: string; n: number }[];
    const allocations = this.db
      .prepare(
        `SELECT j.user, a.partition, a.granted_time AS start, coalesce(a.released_time, j.end_time, ?) AS stop,
                json_array_length(a.nodes) AS nodes
         FROM allocations a JOIN jobs j ON j.id = a.job_id
         WHERE a.granted_time < ? AND coalesce(a.released_time, j.end_time, ?) > ? ${mine}`,
      )
      .all(now, until, now, since, ...who) as { user: string; partition: string; start: number; stop: number; nodes: number }[];
    const failures = this.db
      .prepare(
        `SELECT state || ': ' || reason AS reason, count(*) AS count FROM jobs j
         WHERE state IN ('FAILED','CANCELLED','TIMEOUT','NODE_FAIL') AND end_time >= ? AND end_time < ? ${mine}
         GROUP BY 1 ORDER BY count DESC, reason`,
      )
      .all(since, until, ...who) as { reason: string; count: number }[];

    const byUser: Record<string, number> = {};
    const byPartition: Record<string, number> = {};
    const bucket = bucketSize(until - since);
    const buckets = Math.max(1, Math.ceil((until - since) / bucket));
    const busy = new Array<number>(buckets).fill(0); // node-ms per bucket
    for (const a of allocations) {
      const start = Math.max(a.start, since);
      const stop = Math.min(a.stop, until);
      if (stop <= start) continue;
      const hours = (a.nodes * (stop - start)) / HOUR;
      byUser[a.user] = (byUser[a.user] ?? 0) + hours;
      byPartition[a.partition] = (byPartition[a.partition] ?? 0) + hours;
      for (let b = Math.floor((start - since) / bucket); b < buckets; b++) {
        const bStart = since + b * bucket;
        const overlap = Math.min(stop, bStart + bucket) - Math.max(start, bStart);
        if (overlap <= 0) break;
        busy[b]! += a.nodes * overlap;
      }
    }
    const roundAll = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, round(v)]));
    return {
      since: new Date(since).toISOString(),
      until: new Date(until).toISOString(),
      jobs_by_state: Object.fromEntries(jobs.map((j) => [j.state, j.n])),
      node_hours_by_user: roundAll(byUser),
      node_hours_by_partition: roundAll(byPartition),
      failure_reasons: failures,
      utilisation: busy.map((nodeMs, b) => {
        const bStart = since + b * bucket;
        const length = Math.min(bucket, until - bStart);
        return { time: new Date(bStart).toISOString(), nodes_busy: round(nodeMs / length, 2), nodes_total: nodesTotal };
      }),
    };
  }
}
