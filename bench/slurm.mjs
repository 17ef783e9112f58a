// SLURM backend figures (run by bench/run.mjs when SLURM_CONF names a cluster, e.g. one from
// `eval "$(scripts/slurm-cluster.sh start)"`):
//   - GRM submissions per second vs a plain `sbatch --parsable --hold` loop, as a ratio
//   - median time from the poll that sees a holder RUNNING to the master started
//   - 100 trivial one-node jobs submitted and run to the end: plain sbatch vs GRM (jobs/s)
//   - the DDP example (examples/ddp-digits) submit to end: plain sbatch --wait vs GRM
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { api } from './api.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TRIVIAL = Number(process.env.BENCH_SLURM_TRIVIAL ?? 100);

const N = Number(process.env.BENCH_SLURM_SUBMISSIONS ?? 50);
const STARTS = Number(process.env.BENCH_SLURM_STARTS ?? 10);

export async function slurmBench({ withDaemon, post, median }) {
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

  // 3. RUNNING seen by the poll ("allocated" event) -> master started, from the jobs' events.
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

  await endToEnd({ withDaemon, post });
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
    if (ended.length === ids.length) return { seconds: (performance.now() - t0) / 1000, states: ended.map((j) => j.job_state) };
    await sleep(100);
  }
}
async function endToEnd({ withDaemon, post }) {
  const env = process.env;
  const trivial = '#!/bin/sh\ntrue\n';
  // plain sbatch: submit them all, then wait until squeue shows none of them
  let t0 = performance.now();
  for (let i = 0; i < TRIVIAL; i++) {
    execFileSync('sbatch', ['--parsable', '-N1', '--time=1', '--output=/dev/null', '--job-name=bench-trivial'], { input: trivial, env, encoding: 'utf8' });
  }
  while (execFileSync('squeue', ['-h', '-n', 'bench-trivial', '-o', '%i'], { env, encoding: 'utf8' }).trim() !== '') await sleep(100);
  const plain = (performance.now() - t0) / 1000;
  const grm = await withDaemon({ backend: 'slurm', maxConcurrentMasters: 16 }, (url) =>
    grmRunAll(url, post, Array.from({ length: TRIVIAL }, () => ({ name: 'trivial', minimum_nodes: 1, time_limit: 1, script: trivial }))),
  );
  const rate = (s) => (TRIVIAL / s).toFixed(2);
  console.log(`slurm, ${TRIVIAL} trivial one-node jobs to the end: plain sbatch ${rate(plain)} jobs/s, GRM ${rate(grm.seconds)} jobs/s: ratio ${(plain / grm.seconds).toFixed(2)} (goal >= 0.9)`);

  // the DDP example, when Debian's python3-torch is there (scripts/system-deps.sh training)
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch, sklearn'], { stdio: 'ignore' });
  } catch {
    console.log('slurm, DDP example: skipped (no python3-torch/python3-sklearn: scripts/system-deps.sh training)');
    return;
  }
  const dir = path.join(ROOT, 'examples/ddp-digits');
  const script = (await import('node:fs')).readFileSync(path.join(dir, 'ddp.sh'), 'utf8');
  t0 = performance.now();
  execFileSync('sbatch', ['--wait', '--output=/dev/null', `--chdir=${dir}`], { input: script, env, encoding: 'utf8' });
  const plainDdp = (performance.now() - t0) / 1000;
  const grmDdp = await withDaemon({ backend: 'slurm' }, (url) => grmRunAll(url, post, [{ name: 'ddp', current_working_directory: dir, script }]));
  console.log(
    `slurm, DDP example (4 ranks) submit to end: plain sbatch ${plainDdp.toFixed(1)} s, GRM ${grmDdp.seconds.toFixed(1)} s (${grmDdp.states[0]}): ${(grmDdp.seconds / plainDdp).toFixed(2)}x (goal <= 1.1x)`,
  );
}
