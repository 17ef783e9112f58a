/**
 * Log and job-folder retention: ended jobs older than maxAgeDays lose their stored lines
 * and their folder; then, while the total is over maxTotalMiB, the oldest ended jobs go
 * first. Active jobs are never touched. The job row and its events stay (the history).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../store/database.js';
import { keepIdFloor } from '../store/log-store.js';
import { TERMINAL_STATES } from '../jobs/job-types.js';

export interface RetentionPolicy {
  maxAgeDays: number;
  maxTotalMiB: number;
}

export interface RetentionReport {
  jobs: number[];
  linesDeleted: number;
  bytesFreed: number;
}

interface Candidate {
  id: number;
  endTime: number;
  logBytes: number;
  dirBytes: number;
}

function dirSize(dir: string): number {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += dirSize(p);
    else if (e.isFile()) total += fs.statSync(p, { throwIfNoEntry: false })?.size ?? 0;
  }
  return total;
}

export function runRetention(db: Db, jobsDir: string, policy: RetentionPolicy, now = Date.now()): RetentionReport {
  const ENDED = `(${[...TERMINAL_STATES].map((s) => `'${s}'`).join(',')})`;
  const ended = db
    .prepare(
      `SELECT j.id, j.end_time AS endTime, coalesce((SELECT sum(length(line)) FROM log_lines l WHERE l.job_id = j.id), 0) AS logBytes
       FROM jobs j WHERE j.state IN ${ENDED} AND j.end_time IS NOT NULL ORDER BY j.end_time, j.id`,
    )
    .all() as Omit<Candidate, 'dirBytes'>[];
  const candidates: Candidate[] = ended
    .map((c) => ({ ...c, dirBytes: dirSize(path.join(jobsDir, String(c.id))) }))
    .filter((c) => c.logBytes > 0 || c.dirBytes > 0);
  const doomed = new Set<number>();
  if (policy.maxAgeDays > 0) {
    const cutoff = now - policy.maxAgeDays * 86_400_000;
    for (const c of candidates) if (c.endTime < cutoff) doomed.add(c.id);
  }
  if (policy.maxTotalMiB > 0) {
    const active = db.prepare(`SELECT id FROM jobs WHERE state NOT IN ${ENDED}`).all() as { id: number }[];
    let total =
      candidates.reduce((s, c) => s + c.logBytes + c.dirBytes, 0) +
      active.reduce((s, a) => s + dirSize(path.join(jobsDir, String(a.id))), 0);
    const cap = policy.maxTotalMiB * 1024 * 1024;
    for (const c of candidates) {
      if (total <= cap) break;
      if (!doomed.has(c.id)) doomed.add(c.id);
      total -= c.logBytes + c.dirBytes;
    }
  }
  const report: RetentionReport = { jobs: [], linesDeleted: 0, bytesFreed: 0 };
  const deleteLines = db.prepare('DELETE FROM log_lines WHERE job_id = ?');
  const deleteOffsets = db.prepare('DELETE FROM log_offsets WHERE job_id = ?');
  const note = db.prepare("INSERT INTO job_events (job_id, time, reason, actor) VALUES (?, ?, ?, 'retention')");
  for (const c of candidates.filter((c) => doomed.has(c.id))) {
    const lines = db.transaction(() => {
      keepIdFloor(db); // the search index is keyed by line id: never hand a deleted id out again
      const n = deleteLines.run(c.id).changes;
      deleteOffsets.run(c.id);
      note.run(c.id, now, `retention removed ${n} log lines and the job folder (${c.logBytes + c.dirBytes} bytes)`);
      return n;
    })();
    fs.rmSync(path.join(jobsDir, String(c.id)), { recursive: true, force: true });
    report.jobs.push(c.id);
    report.linesDeleted += lines;
    report.bytesFreed += c.logBytes + c.dirBytes;
  }
  return report;
}
