// SLURM backend figures (run by bench/run.mjs when SLURM_CONF names a cluster, e.g. one from
// `eval "$(scripts/slurm-cluster.sh start)"`):
//   - GRM submissions per second vs a plain `sbatch --parsable --hold` loop, as a ratio
//   - median time from the poll that sees a holder RUNNING to the master started
import { execFileSync } from 'node:child_process';

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
}
