// grm simulate's figures (issue 17): jobs simulated per second for FCFS, EASY and slurm on a generated
// 100,000-job workload on 1,024 nodes, and the KTH-SP2 replay beside the log's own figures.
// Alone: node bench/simulate.mjs (after npm run build).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { replayMetrics } from '../dist/simulate/metrics.js';
import { replay } from '../dist/simulate/replay.js';
import { parseSwf } from '../dist/simulate/swf.js';
import { generateWorkload } from '../dist/simulate/workload.js';

const JOBS = Number(process.env.BENCH_SIM_JOBS ?? 100_000);
// A machine shared with others swings by a third from run to run: each policy runs this many
// times, and the median is the figure, printed with the slowest and fastest run.
const RUNS = Number(process.env.BENCH_SIM_RUNS ?? 3);
const NODES = 1024;
const KTH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/traces/KTH-SP2-1996-2.1-cln.swf.gz');

function run(jobs, nodes, ppn, policy) {
  const t0 = performance.now();
  const r = replay(jobs, { nodes, procsPerNode: ppn, policy, slurm: { bfInterval: 30 } });
  const wallSeconds = (performance.now() - t0) / 1000;
  return replayMetrics(r.outcomes, { totalProcs: nodes * ppn, skipped: r.neverStarted, wallSeconds });
}

/** squeue --start's forecast at submit against the start the replay then gives (every 10th job). */
function forecastError(jobs) {
  const r = replay(jobs, { nodes: 100, procsPerNode: 1, policy: 'easy', forecastEvery: 10 });
  const start = new Map(r.outcomes.map((o) => [o.id, o.start]));
  const errors = [];
  let none = 0;
  for (const [id, at] of r.forecasts) {
    if (at === null) none++;
    else errors.push(at - start.get(id));
  }
  errors.sort((a, b) => a - b);
  const abs = errors.map(Math.abs).sort((a, b) => a - b);
  const q = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];
  const late = errors.filter((e) => e < 0).length;
  console.log(
    `simulate KTH-SP2, start forecast at submit vs the replay's start (${r.forecasts.size} jobs, EASY): exact for ${abs.filter((e) => e === 0).length}, |error| p50 ${q(abs, 0.5)} s, p90 ${q(abs, 0.9)} s; started later than forecast: ${late}; no forecast: ${none} (jobs end before their limits, so a forecast is a latest start)`,
  );
}

/** The policy's replay RUNS times: the metrics (the same each time: a replay is deterministic) and the speeds, sorted. */
function runs(jobs, policy) {
  const all = Array.from({ length: RUNS }, () => run(jobs, NODES, 1, policy));
  for (const m of all) {
    if (m.mean_wait_s !== all[0].mean_wait_s || m.makespan_s !== all[0].makespan_s) throw new Error(`simulate ${policy}: two runs of one replay differ`);
  }
  return { m: all[0], speeds: all.map((m) => m.jobs_per_second).sort((a, b) => a - b) };
}

export function simulateBench() {
  const jobs = generateWorkload({ jobs: JOBS, procs: NODES, seed: 1 });
  for (const policy of ['fcfs', 'easy', 'slurm']) {
    const { m, speeds } = runs(jobs, policy);
    const median = speeds[Math.floor(speeds.length / 2)];
    const spread = speeds.length > 1 ? `, median of ${speeds.length} runs (${speeds[0].toFixed(0)} to ${speeds.at(-1).toFixed(0)})` : '';
    console.log(
      `simulate ${policy}, ${JOBS} generated jobs on ${NODES} nodes: ${median.toFixed(0)} jobs/s${spread} (utilisation ${m.utilization.toFixed(3)}, mean wait ${m.mean_wait_s.toFixed(0)} s)${policy === 'easy' ? ' (goal >= 50,000 jobs/s)' : ''}`,
    );
  }
  if (!fs.existsSync(KTH)) return console.log(`simulate KTH-SP2: skipped (${KTH} not found)`);
  const trace = parseSwf(gunzipSync(fs.readFileSync(KTH)).toString('utf8'), { clusterProcs: 100 });
  const m = run(trace.jobs, 100, 1, 'easy');
  forecastError(trace.jobs);
  console.log(
    `simulate KTH-SP2 (${m.jobs} jobs, EASY on 100 nodes): mean wait ${m.mean_wait_s.toFixed(0)} s (the log: 15,296 s), utilisation ${m.utilization.toFixed(3)} (the log: 0.70), ${m.jobs_per_second.toFixed(0)} jobs/s`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) simulateBench();
