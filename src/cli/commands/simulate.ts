/**
 * grm simulate: a workload replayed on a virtual clock by the simulator's own scheduler, with
 * the figures the scheduling literature reports. Runs in the CLI's process: no daemon needed.
 *   grm simulate --trace FILE.swf[.gz] [--nodes N] [--procs-per-node P] [--policy fcfs|easy|slurm]
 *                [--json] [--out FILE.csv]
 *   grm simulate --generate JOBS [--seed S] --nodes N [--procs-per-node P] ...
 */
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Command, InvalidArgumentError, Option } from 'commander';
import { GrmError } from '../../errors.js';
import { replayMetrics, type ReplayMetrics } from '../../simulate/metrics.js';
import { replay, type JobOutcome, type ReplayPolicy } from '../../simulate/replay.js';
import { parseSwf, type SwfJob } from '../../simulate/swf.js';
import { generateWorkload } from '../../simulate/workload.js';
import { htmlReport } from '../../simulate/html-report.js';
import { parseSchedulerParameters } from '../../simulate/scheduler-parameters.js';
import type { CliIo } from '../io.js';

interface SimulateOptions {
  trace?: string;
  generate?: number;
  seed: number;
  nodes?: number;
  procsPerNode?: number;
  policy: ReplayPolicy;
  bfInterval?: number;
  defaultQueueDepth?: number;
  bfMaxJobTest?: number;
  bfResolution?: number;
  completingSeconds?: number;
  schedulerParameters?: string;
  json?: boolean;
  out?: string;
  html?: string;
  compare?: ReplayPolicy;
}

const positive = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a positive whole number, not "${v}"`);
  return n;
};

function readTrace(io: CliIo, file: string): string {
  const where = path.resolve(io.cwd, file);
  let raw: Buffer;
  try {
    raw = fs.readFileSync(where);
  } catch (e) {
    throw new GrmError('E_REQUEST_INVALID', `cannot read trace ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  } catch (e) {
    throw new GrmError('E_REQUEST_INVALID', `trace ${file} is not gzip data: ${(e as Error).message}`);
  }
}

/** The jobs, the cluster and what was skipped, from a trace or the generator. */
interface Workload {
  jobs: SwfJob[];
  nodes: number;
  ppn: number;
  skipped: Record<string, number>;
  source: string;
  /** Unix time of the trace's time 0 (SWF's UnixStartTime), for the slurm policy's rounding */
  epoch?: number;
}

function workload(io: CliIo, o: SimulateOptions): Workload {
  if (o.trace === undefined) {
    if (o.generate === undefined || o.nodes === undefined) throw new GrmError('E_REQUEST_INVALID', 'give --trace FILE, or --generate JOBS with --nodes N');
    const ppn = o.procsPerNode ?? 1;
    return { jobs: generateWorkload({ jobs: o.generate, procs: o.nodes * ppn, seed: o.seed }), nodes: o.nodes, ppn, skipped: {}, source: `${o.generate} generated jobs (seed ${o.seed})` };
  }
  const text = readTrace(io, o.trace);
  const head = parseSwf(text.slice(0, 65_536).split('\n').filter((l) => l.startsWith(';')).join('\n'));
  const nodes = o.nodes ?? head.maxNodes ?? head.maxProcs;
  if (nodes === null) throw new GrmError('E_REQUEST_INVALID', `trace ${o.trace} has no "; MaxNodes:" or "; MaxProcs:" header: give --nodes N`);
  const ppn = o.procsPerNode ?? (head.maxProcs !== null && o.nodes === undefined ? Math.max(1, Math.round(head.maxProcs / nodes)) : 1);
  const trace = parseSwf(text, { clusterProcs: nodes * ppn });
  const epoch = Number(head.header.UnixStartTime);
  return { jobs: trace.jobs, nodes, ppn, skipped: trace.skipped, source: path.basename(o.trace), ...(Number.isSafeInteger(epoch) && epoch >= 0 ? { epoch } : {}) };
}

function progressBar(io: CliIo): ((done: number, total: number) => void) | undefined {
  if (!io.stderrIsTTY) return undefined;
  return (done, total) => {
    const width = 30;
    const filled = Math.round((done / Math.max(1, total)) * width);
    io.stderr(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} jobs${done >= total ? '\n' : ''}`);
  };
}

function writeCsv(io: CliIo, file: string, outcomes: readonly JobOutcome[]): void {
  const rows = [...outcomes].sort((a, b) => a.id - b.id).map((j) => `${j.id},${j.submit},${j.start},${j.end},${j.procs},${j.start - j.submit}`);
  fs.writeFileSync(path.resolve(io.cwd, file), `job_id,submit_s,start_s,end_s,procs,wait_s\n${rows.join('\n')}\n`);
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function report(m: ReplayMetrics, skipped: Record<string, number>, header: string): string {
  const why = Object.entries(skipped).map(([reason, count]) => `${count} ${reason}`).join(', ');
  return [
    header,
    `jobs ${fmt(m.jobs)}, skipped ${fmt(m.skipped)}${why ? ` (${why})` : ''}`,
    `makespan ${fmt(m.makespan_s)} s (${fmt(m.makespan_s / 86_400, 1)} days), utilisation ${fmt(m.utilization, 3)}`,
    `wait: mean ${fmt(m.mean_wait_s)} s, p50 ${fmt(m.p50_wait_s)} s, p95 ${fmt(m.p95_wait_s)} s; mean bounded slowdown ${fmt(m.mean_bounded_slowdown, 2)} (tau 10 s)`,
    `simulated ${fmt(m.jobs_per_second)} jobs/s`,
  ].join('\n');
}

export function simulateCommand(io: CliIo): Command {
  return new Command('simulate')
    .description('replay a workload (SWF trace, or generated) on a virtual clock with the simulator\'s scheduler, and report its figures')
    .option('--trace <file>', 'a Standard Workload Format trace (.swf or .swf.gz)')
    .option('--generate <jobs>', 'a synthetic workload of this many jobs instead (Lublin-Feitelson-like)', positive('--generate'))
    .option('--seed <n>', 'seed of the generated workload', positive('--seed'), 1)
    .option('--nodes <n>', "nodes of the cluster (default: the trace's MaxNodes)", positive('--nodes'))
    .option('--procs-per-node <n>', "processors per node (default: the trace's MaxProcs / MaxNodes)", positive('--procs-per-node'))
    .addOption(
      new Option('--policy <policy>', "fcfs: strict order; easy: EASY backfill; slurm: slurmctld's main scheduler at each submit and end, backfill every bf_interval")
        .choices(['fcfs', 'easy', 'slurm'])
        .default('easy'),
    )
    .option('--bf-interval <seconds>', 'slurm policy: seconds between backfill passes (slurm.conf bf_interval, default 30)', positive('--bf-interval'))
    .option('--default-queue-depth <jobs>', "slurm policy: jobs the main scheduler looks at (default_queue_depth, default 100)", positive('--default-queue-depth'))
    .option('--bf-max-job-test <jobs>', 'slurm policy: jobs backfill looks at (bf_max_job_test, default 500)', positive('--bf-max-job-test'))
    .option('--bf-resolution <seconds>', "slurm policy: backfill's time slot: a blocked job's expected start is rounded down to it (bf_resolution, default 60)", positive('--bf-resolution'))
    .option('--scheduler-parameters <list>', "slurm policy: slurm.conf's SchedulerParameters line, e.g. bf_interval=30,bf_resolution=60,bf_job_part_count_reserve=1 (the options above win)")
    .option('--completing-seconds <s>', "slurm policy: seconds a job's CPUs stay taken after its end (default 0)", positive('--completing-seconds'))
    .option('--json', 'print one JSON object')
    .option('--out <file>', 'write one CSV row per job (times in seconds from the trace\'s start)')
    .option('--html <file>', 'write a page with pictures: utilisation over time, waits, allocations per node, beside --compare')
    .addOption(new Option('--compare <policy>', 'the policy shown beside --policy in --html (default: easy, or fcfs when --policy is easy)').choices(['fcfs', 'easy', 'slurm']))
    .action((o: SimulateOptions) => {
      const w = workload(io, o);
      const started = performance.now();
      const params = o.schedulerParameters === undefined ? undefined : parseSchedulerParameters(o.schedulerParameters);
      const notes = params?.notes ?? [];
      if (params && o.policy !== 'slurm' && o.compare !== 'slurm') notes.unshift('--scheduler-parameters applies to --policy slurm only: this replay does not use it');
      for (const note of notes) io.stderr(`grm simulate: ${note}\n`);
      const slurm = {
        ...params?.options,
        ...(o.bfInterval !== undefined ? { bfInterval: o.bfInterval } : {}),
        ...(o.defaultQueueDepth !== undefined ? { defaultQueueDepth: o.defaultQueueDepth } : {}),
        ...(o.bfMaxJobTest !== undefined ? { bfMaxJobTest: o.bfMaxJobTest } : {}),
        ...(o.bfResolution !== undefined ? { bfResolution: o.bfResolution } : {}),
        ...(o.completingSeconds !== undefined ? { completingSeconds: o.completingSeconds } : {}),
      };
      const progress = progressBar(io);
      const keepNodes = o.html !== undefined;
      const r = replay(w.jobs, { nodes: w.nodes, procsPerNode: w.ppn, policy: o.policy, slurm, keepNodes, epoch: w.epoch ?? 0, ...(progress ? { onProgress: progress } : {}) });
      const wallSeconds = (performance.now() - started) / 1000;
      const skipped = { ...w.skipped, ...(r.neverStarted > 0 ? { 'never started': r.neverStarted } : {}) };
      const skippedCount = Object.values(skipped).reduce((s, n) => s + n, 0);
      const m = replayMetrics(r.outcomes, { totalProcs: w.nodes * w.ppn, skipped: skippedCount, wallSeconds });
      if (o.out) writeCsv(io, o.out, r.outcomes);
      if (o.html) {
        const other = o.compare ?? (o.policy === 'easy' ? 'fcfs' : 'easy');
        const t1 = performance.now();
        const r2 = replay(w.jobs, { nodes: w.nodes, procsPerNode: w.ppn, policy: other, slurm, keepNodes, epoch: w.epoch ?? 0 });
        const m2 = replayMetrics(r2.outcomes, { totalProcs: w.nodes * w.ppn, skipped: skippedCount, wallSeconds: (performance.now() - t1) / 1000 });
        const runs = [{ policy: o.policy, metrics: m, outcomes: r.outcomes }, { policy: other, metrics: m2, outcomes: r2.outcomes }];
        fs.writeFileSync(path.resolve(io.cwd, o.html), htmlReport(runs, { source: w.source, nodes: w.nodes, procsPerNode: w.ppn }));
      }
      if (o.json) io.stdout(`${JSON.stringify(m)}\n`);
      else io.stdout(`${report(m, skipped, `${w.source}: ${o.policy} on ${w.nodes} nodes x ${w.ppn} processors`)}\n`);
    });
}
