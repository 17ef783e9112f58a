/**
 * How many jobs one backfill cycle of the real slurmctld starts when bf_max_job_test runs
 * out, and when the rest start: one cycle per bf_interval, no second pass at the same
 * instant (sched/backfill's backfill_agent sleeps bf_interval after each _attempt_backfill).
 * grm simulate --policy slurm models it so (src/simulate/replay.ts); this is its check.
 *
 * 4 nodes x 2 CPUs. A running 1-CPU job R (10 min limit) keeps an 8-CPU job W waiting, with
 * a backfill reservation at R's end; four 1-CPU jobs S1..S4 (1 min limits) fit in the 7 free
 * CPUs and end long before it, so backfill may start every one of them. The main scheduler
 * starts none (W, first in the queue, blocks its partition). With bf_max_job_test=2 a cycle
 * tests W, then S_k (started), and stops: one small job per cycle, bf_interval apart.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { replay } from '../../src/simulate/replay.js';
import type { SwfJob } from '../../src/simulate/swf.js';
import { startTestCluster } from '../helpers/slurm-cluster.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BF_INTERVAL = 5;
const PARAMS = `default_queue_depth=1,bf_interval=${BF_INTERVAL},bf_max_job_test=2,bf_job_part_count_reserve=1`;

const cluster = await startTestCluster(t, { nodes: 4, cpus: 2, schedulerParameters: PARAMS });
if (cluster) {
  t.test('one backfill cycle per bf_interval: bf_max_job_test=2 starts one small job per cycle', async (t) => {
    const env = cluster.env;
    const sbatch = async (name: string, tasks: number, minutes: number, secs: number) =>
      (await run('sbatch', ['--parsable', '-n', String(tasks), `--time=${minutes}`, '-o', '/dev/null', '-J', name, `--wrap=sleep ${secs}`], { env })).stdout.trim();
    const ids: string[] = [];
    t.teardown(() => run('scancel', ids, { env }).catch(() => undefined));
    const squeue = async () =>
      (await run('squeue', ['-h', '-t', 'all', '-o', '%i|%j|%T|%V|%S|%C'], { env })).stdout.trim().split('\n').filter(Boolean).map((r) => r.split('|'));
    ids.push(await sbatch('R', 1, 10, 600));
    // W comes after R is running, so that R, not W, holds the CPUs
    for (let i = 0; (await squeue()).find((r) => r[0] === ids[0])?.[2] !== 'RUNNING'; i++) {
      if (i > 60) throw new Error('R did not start');
      await sleep(500);
    }
    ids.push(await sbatch('W', 8, 1, 1));
    for (const k of [1, 2, 3, 4]) ids.push(await sbatch(`S${k}`, 1, 1, 300));
    const small = ids.slice(2);
    let rows = await squeue();
    for (let i = 0; !small.every((id) => rows.find((r) => r[0] === id)?.[2] === 'RUNNING'); i++) {
      if (i > 120) throw new Error(`the small jobs did not all start: ${rows.map((r) => r.join('|')).join(' ')}`);
      await sleep(500);
      rows = await squeue();
    }
    t.comment(`squeue -t all -o '%i|%j|%T|%V|%S|%C':\n${rows.map((r) => r.join('|')).join('\n')}`);
    const secs = (text: string) => Math.round(new Date(text).getTime() / 1000);
    const startOf = (id: string) => secs(rows.find((r) => r[0] === id)![4]!);
    const starts = small.map(startOf);
    t.equal(rows.find((r) => r[0] === ids[1])?.[2], 'PENDING', 'W still waits for R');
    // one per cycle, in queue order: each start at least a cycle after the one before (the
    // whole seconds of two cycles bf_interval apart differ by bf_interval - 1 at least)
    for (let k = 1; k < starts.length; k++) {
      t.ok(starts[k]! - starts[k - 1]! >= BF_INTERVAL - 1, `S${k + 1} starts ${starts[k]! - starts[k - 1]!} s after S${k} (>= ${BF_INTERVAL - 1})`);
    }
    // the replay of what was submitted (as sbatch asked: R 600 s, W 1 s, S 300 s): one S per backfill tick too
    const first = Math.min(...rows.map((r) => secs(r[3]!)));
    const runtimes: Record<string, number> = { R: 600, W: 1 };
    const jobs: SwfJob[] = rows.map((r) => {
      const name = r[1]!;
      return { id: Number(r[0]), submit: secs(r[3]!) - first, procs: Number(r[5]), runtime: runtimes[name] ?? 300, limit: name === 'R' ? 600 : 60, user: 1 };
    });
    const slurm = { defaultQueueDepth: 1, bfInterval: BF_INTERVAL, bfMaxJobTest: 2 };
    const sim = new Map(replay(jobs, { nodes: 4, procsPerNode: 2, policy: 'slurm', epoch: first, slurm }).outcomes.map((o) => [String(o.id), o.start]));
    const simStarts = small.map((id) => sim.get(id)!);
    t.same(simStarts.slice(1).map((at, k) => at - simStarts[k]!), [BF_INTERVAL, BF_INTERVAL, BF_INTERVAL], `the replay: S1..S4 at ${simStarts.join(' ')} s`);
  });
}
