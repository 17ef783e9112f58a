/**
 * The Standard Workload Format of the Parallel Workloads Archive (pure): header comments
 * (`; MaxNodes: 100`, `; MaxProcs: 100`, ...) then one job a line, 18 whitespace-separated
 * fields, -1 where unknown:
 *   1 job id, 2 submit time (s), 3 wait, 4 run time (s), 5 allocated processors, 6 average CPU,
 *   7 memory, 8 requested processors, 9 requested time (s), 10 requested memory, 11 status,
 *   12 user, 13 group, 14 application, 15 queue, 16 partition, 17 preceding job, 18 think time.
 * A replay takes the submit time, the run time as the real duration, the requested time as the
 * time limit (a job runs at most that long, as SLURM would kill it), and the requested
 * processors (the allocated ones when unknown). What it cannot run is counted with a reason.
 */

export interface SwfJob {
  id: number;
  /** seconds from the trace's start */
  submit: number;
  /** seconds it really runs (at most its limit) */
  runtime: number;
  /** seconds; null = none given (the job can then never backfill) */
  limit: number | null;
  procs: number;
  user: number;
}

export interface SwfTrace {
  /** `; Key: value` header lines, by key. */
  header: Record<string, string>;
  maxNodes: number | null;
  maxProcs: number | null;
  jobs: SwfJob[];
  /** Lines that are not jobs it can replay, counted by reason. */
  skipped: Record<string, number>;
}

export interface SwfOptions {
  /** Processors of the cluster replayed on: a job asking for more is skipped. */
  clusterProcs?: number;
}

const num = (text: string | undefined): number => (text === undefined ? Number.NaN : Number(text));

function headerNumber(header: Record<string, string>, key: string): number | null {
  const v = Number.parseInt(header[key] ?? '', 10);
  return Number.isFinite(v) && v > 0 ? v : null;
}

/** Why a job line cannot be replayed, or the job. */
export function parseSwfLine(line: string, options: SwfOptions = {}): SwfJob | string {
  const f = line.trim().split(/\s+/).map(num);
  if (f.length < 18 || f.slice(0, 18).some((v) => !Number.isFinite(v))) return 'not 18 numeric fields';
  const [id, submit, , runtime, allocated, , , requested, requestedTime, , , user] = f as number[];
  const procs = requested! > 0 ? requested! : allocated!;
  if (submit! < 0) return 'submit time unknown';
  if (runtime! < 0) return 'run time unknown';
  if (procs <= 0) return 'processor count unknown';
  if (options.clusterProcs !== undefined && procs > options.clusterProcs) return 'more processors than the cluster has';
  const limit = requestedTime! > 0 ? requestedTime! : null;
  return { id: id!, submit: submit!, runtime: limit === null ? runtime! : Math.min(runtime!, limit), limit, procs, user: user! };
}

/** A whole trace's text. Jobs come in the file's order (the archive's is by submit time). */
export function parseSwf(text: string, options: SwfOptions = {}): SwfTrace {
  const header: Record<string, string> = {};
  const jobs: SwfJob[] = [];
  const skipped: Record<string, number> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith(';')) {
      const m = /^;\s*([A-Za-z][\w ]*?):\s*(.*)$/.exec(line);
      if (m && header[m[1]!] === undefined) header[m[1]!] = m[2]!.trim();
      continue;
    }
    const job = parseSwfLine(line, options);
    if (typeof job === 'string') skipped[job] = (skipped[job] ?? 0) + 1;
    else jobs.push(job);
  }
  return { header, maxNodes: headerNumber(header, 'MaxNodes'), maxProcs: headerNumber(header, 'MaxProcs'), jobs, skipped };
}

/** One job as an SWF line (what a test or the generator writes). */
export function swfLine(j: { id: number; submit: number; runtime: number; procs: number; limit: number | null; user?: number }): string {
  const fields = [j.id, j.submit, -1, j.runtime, j.procs, -1, -1, j.procs, j.limit ?? -1, -1, 1, j.user ?? 1, -1, -1, -1, -1, -1, -1];
  return fields.join(' ');
}
