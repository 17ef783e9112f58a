// SLURM backend figures (run by bench/run.mjs when SLURM_CONF names a cluster, e.g. one from
// `eval "$(scripts/slurm-cluster.sh start)"`):
//   - GRM submissions per second vs a plain `sbatch --parsable --hold` loop, as a ratio
//   - median time from the poll that sees a holder RUNNING to the master started
//   - 100 trivial one-node jobs submitted and run to the end: plain sbatch vs GRM (jobs/s)
//   - the DDP example (examples/ddp-digits) submit to end: plain sbatch vs GRM
// Both sides of each comparison are timed the same way: from the first submission to the moment
// a 100 ms poll (squeue for plain SLURM, the REST API for GRM) sees the last job gone.
// Alone: SLURM_CONF=... node bench/slurm.mjs [submit,start,trivial,ddp] (default: all).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { api } from './api.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TRIVIAL = Number(process.env.BENCH_SLURM_TRIVIAL ?? 100);

const N = Number(process.env.BENCH_SLURM_SUBMISSIONS ?? 50);
const STARTS = Number(process.env.BENCH_SLURM_STARTS ?? 10);
const DDP_RUNS = Number(process.env.BENCH_SLURM_DDP_RUNS ?? 3);

export async function slurmBench({ withDaemon, post, median }, parts = ['submit', 'start', 'trivial', 'ddp']) {
  if (parts.includes('submit')) await submissions({ withDaemon, post });
  if (parts.includes('start')) await starts({ withDaemon, post, median });
  if (parts.includes('trivial')) await trivialJobs({ withDaemon, post, median });
  if (parts.includes('ddp')) await ddp({ withDaemon, post, median });
}

async function submissions({ withDaemon, post }) {
  const env = process.env;
  const holdScript = '#!/bin/sh\ntrue\n';
  // 1. Plain sbatch, held so nothing runs: the cost of the submission itself.
  let started = performance.now();
  const ids = [];
  for (let i = 0; i < N; i++) {
    const out = execFileSync('sbatch', ['--parsable', '--hold', '-N1', '--time=1', '--output=/dev/null', '--job-name=bench-plain'], {
      input: holdScript,
      env,
      encoding: 'utf8',
    });
    ids.push(out.trim().split(';')[0]);
  }
  const plainSeconds = (performance.now() - started) / 1000;
  execFileSync('scancel', ids, { env });
  const plainRate = N / plainSeconds;

  // 2. GRM: REST submissions on the SLURM backend (each is checked with sinfo/scontrol, cached,
  //    and `sbatch --test-only`); held by a begin time so the dispatcher sends none yet.
  const begin = new Date(Date.now() + 3_600_000).toISOString();
  const grmSeconds = await withDaemon({ backend: 'slurm', slurm: { pollIntervalMs: 500 } }, async (url) => {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await post(url, { name: 'bench', begin_time: begin, minimum_nodes: 1, time_limit: 1, script: holdScript });
    return (performance.now() - t0) / 1000;
  });
  const grmRate = N / grmSeconds;
  console.log(
    `slurm submissions: GRM ${grmRate.toFixed(1)} jobs/s vs plain sbatch --hold ${plainRate.toFixed(1)} jobs/s: ratio ${(grmRate / plainRate).toFixed(2)} (${N} each)`,
  );

}

async function starts({ withDaemon, post, median }) {
  const holdScript = '#!/bin/sh\ntrue\n';
  // RUNNING seen by the poll ("allocated" event) -> master started, from the jobs' events.
  const latencies = await withDaemon({ backend: 'slurm', slurm: { pollIntervalMs: 500 }, maxConcurrentMasters: 2 }, async (url, daemon) => {
    const jobIds = [];
    for (let i = 0; i < STARTS; i++) jobIds.push((await post(url, { name: 'start', time_limit: 5, script: holdScript })).job_id);
    const deadline = Date.now() + 300_000;
    while (daemon.store.countInStates(['PENDING', 'ALLOCATING', 'RUNNING', 'COMPLETING']) > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    return jobIds.flatMap((id) => {
      const events = daemon.store.events(id);
      const seen = events.find((e) => e.reason.startsWith('allocated '));
      const master = events.find((e) => e.reason.startsWith('master started'));
      return seen && master ? [master.time - seen.time] : [];
    });
  });
  console.log(`slurm: holder seen RUNNING -> master started: median ${median(latencies).toFixed(0)} ms (${latencies.length} jobs)`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Seconds until every GRM job has ended (polling the API). */
async function grmRunAll(url, post, bodies) {
  const t0 = performance.now();
  const ids = [];
  for (const body of bodies) ids.push((await post(url, body)).job_id);
  for (;;) {
    const r = await api(url, `/api/v1/jobs?state=all&limit=1000`).then((r) => r.json());
    const ended = r.jobs.filter((j) => ids.includes(j.job_id) && ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL'].includes(j.job_state));
    if (ended.length === ids.length) return { seconds: (performance.now() - t0) / 1000, states: ended.map((j) => j.job_state), ids };
    await sleep(100);
  }
}
/** Seconds from now until `squeue` shows none of the jobs named `name` (polled every 100 ms). */
async function plainUntilGone(name) {
  const env = process.env;
  while (execFileSync('squeue', ['-h', '-n', name, '-o', '%i'], { env, encoding: 'utf8' }).trim() !== '') await sleep(100);
}

async function trivialJobs({ withDaemon, post, median }) {
  const env = process.env;
  const trivial = '#!/bin/sh\ntrue\n';
  const t0 = performance.now();
  for (let i = 0; i < TRIVIAL; i++) {
    execFileSync('sbatch', ['--parsable', '-N1', '--time=1', '--output=/dev/null', '--job-name=bench-trivial'], { input: trivial, env, encoding: 'utf8' });
  }
  await plainUntilGone('bench-trivial');
  const plain = (performance.now() - t0) / 1000;
  const grm = await withDaemon({ backend: 'slurm', maxConcurrentMasters: 16 }, async (url, daemon) => {
    const r = await grmRunAll(url, post, Array.from({ length: TRIVIAL }, () => ({ name: 'trivial', minimum_nodes: 1, time_limit: 1, script: trivial })));
    const commands = [...daemon.backend.commands.stats].map(([name, c]) => `${name} ${c.calls}x ${(c.totalMs / Math.max(1, c.calls)).toFixed(0)} ms`).join(', ');
    return { ...r, phases: phases(daemon, r.ids, median), commands };
  });
  const rate = (s) => (TRIVIAL / s).toFixed(2);
  console.log(`slurm, ${TRIVIAL} trivial one-node jobs to the end: plain sbatch ${rate(plain)} jobs/s, GRM ${rate(grm.seconds)} jobs/s: ratio ${(plain / grm.seconds).toFixed(2)} (goal >= 0.9)`);
  console.log(`slurm, trivial jobs through GRM, median per job: ${grm.phases}; SLURM commands: ${grm.commands}`);
}

/** The median time of each step of a GRM job on SLURM, from its events. */
function phases(daemon, ids, median) {
  const steps = [
    ['submit', (e) => e.toState === 'PENDING'],
    ['holder submitted', (e) => e.toState === 'ALLOCATING'],
    ['holder seen running', (e) => e.reason.startsWith('allocated ')],
    ['master started', (e) => e.reason.startsWith('master started')],
    ['ended', (e) => ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT'].includes(e.toState)],
  ];
  const gaps = steps.slice(1).map(() => []);
  for (const id of ids) {
    const events = daemon.store.events(id);
    const times = steps.map(([, match]) => events.find(match)?.time);
    for (let i = 1; i < steps.length; i++) if (times[i] !== undefined && times[i - 1] !== undefined) gaps[i - 1].push(times[i] - times[i - 1]);
  }
  return steps
    .slice(1)
    .map(([name], i) => `-> ${name} ${gaps[i].length ? median(gaps[i]).toFixed(0) : '?'} ms`)
    .join(' ');
}

async function ddp({ withDaemon, post, median }) {
  const env = process.env;
  // the DDP example, when Debian's python3-torch is there (scripts/system-deps.sh training)
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch, sklearn'], { stdio: 'ignore' });
  } catch {
    console.log('slurm, DDP example: skipped (no python3-torch/python3-sklearn: scripts/system-deps.sh training)');
    return;
  }
  const dir = path.join(ROOT, 'examples/ddp-digits');
  const script = fs.readFileSync(path.join(dir, 'ddp.sh'), 'utf8');
  // one run each is noise (0.86x to 1.17x seen): runs alternate plain / GRM, medians compared
  const plain = [];
  const grm = [];
  for (let i = 0; i < DDP_RUNS; i++) {
    const t0 = performance.now();
    execFileSync('sbatch', ['--parsable', '--output=/dev/null', '--job-name=bench-ddp', `--chdir=${dir}`], { input: script, env, encoding: 'utf8' });
    await plainUntilGone('bench-ddp');
    plain.push((performance.now() - t0) / 1000);
    const run = await withDaemon({ backend: 'slurm' }, (url) => grmRunAll(url, post, [{ name: 'ddp', current_working_directory: dir, script }]));
    if (run.states[0] !== 'COMPLETED') throw new Error(`the DDP job through GRM ended ${run.states[0]}`);
    grm.push(run.seconds);
  }
  const list = (xs) => xs.map((x) => x.toFixed(1)).join(', ');
  console.log(
    `slurm, DDP example (4 ranks) submit to end, median of ${DDP_RUNS}: plain sbatch ${median(plain).toFixed(1)} s (${list(plain)}), GRM ${median(grm).toFixed(1)} s (${list(grm)}): ${(median(grm) / median(plain)).toFixed(2)}x (goal <= 1.1x)`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (!process.env.SLURM_CONF) throw new Error('set SLURM_CONF to a cluster, e.g. eval "$(scripts/slurm-cluster.sh start)"');
  const { median, post, withDaemon } = await import('./daemon.mjs');
  await slurmBench({ withDaemon, post, median }, process.argv[2] ? process.argv[2].split(',') : undefined);
}
