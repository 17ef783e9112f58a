/**
 * Log and job-folder retention: ended jobs older than maxAgeDays lose their stored lines
 * and their folder; then, while the total is over maxTotalMiB, the oldest ended jobs go
 * first. Active jobs are never touched. The job row and its events stay (the history).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../store/database.js';
import { RetentionStore } from '../store/retention-store.js';

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
  const store = new RetentionStore(db);
  const candidates: Candidate[] = store
    .endedJobs()
    .map((c) => ({ ...c, dirBytes: dirSize(path.join(jobsDir, String(c.id))) }))
    .filter((c) => c.logBytes > 0 || c.dirBytes > 0);
  const doomed = new Set<number>();
  if (policy.maxAgeDays > 0) {
    const cutoff = now - policy.maxAgeDays * 86_400_000;
    for (const c of candidates) if (c.endTime < cutoff) doomed.add(c.id);
  }
  if (policy.maxTotalMiB > 0) {
    let total =
      candidates.reduce((s, c) => s + c.logBytes + c.dirBytes, 0) +
      store.activeJobIds().reduce((s, id) => s + dirSize(path.join(jobsDir, String(id))), 0);
    const cap = policy.maxTotalMiB * 1024 * 1024;
    for (const c of candidates) {
      if (total <= cap) break;
      doomed.add(c.id);
      total -= c.logBytes + c.dirBytes;
    }
  }
  const report: RetentionReport = { jobs: [], linesDeleted: 0, bytesFreed: 0 };
  for (const c of candidates.filter((c) => doomed.has(c.id))) {
    const lines = store.dropLogs(c.id, now, c.logBytes + c.dirBytes);
    fs.rmSync(path.join(jobsDir, String(c.id)), { recursive: true, force: true });
    report.jobs.push(c.id);
    report.linesDeleted += lines;
    report.bytesFreed += c.logBytes + c.dirBytes;
  }
  return report;
}
