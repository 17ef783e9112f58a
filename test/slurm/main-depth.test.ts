/**
 * How many jobs one pass of the real slurmctld's main scheduler tests: default_queue_depth + 1
 * (job_scheduler.c _schedule() breaks out on `job_depth++ > def_job_limit`, after the job that
 * makes the count equal the depth). grm simulate --policy slurm models it so
 * (src/simulate/replay.ts); this is its check.
 *
 * 2 nodes x 3 CPUs, default_queue_depth=2, backfill off (bf_interval=-1) and the periodic
 * full-queue pass an hour apart (sched_interval=3600), so that only events start jobs. One
 * `sbatch --array=1-5` of 1-CPU tasks is one submit, hence one main pass: it starts three tasks
 * (depth 2 + 1), and the other two wait for the next event (none comes while they are
 * watched), though all five fit.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { replay } from '../../src/simulate/replay.js';
import type { SwfJob } from '../../src/simulate/swf.js';
import { startTestCluster } from '../helpers/slurm-cluster.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PARAMS = 'default_queue_depth=2,bf_interval=-1,sched_interval=3600';

const cluster = await startTestCluster(t, { nodes: 2, cpus: 3, schedulerParameters: PARAMS });
if (cluster) {
  t.test('one main pass tests default_queue_depth + 1 jobs: a depth of 2 starts three of five', async (t) => {
    const env = cluster.env;
    const id = (await run('sbatch', ['--parsable', '--array=1-5', '-n', '1', '--time=1', '-o', '/dev/null', '-J', 'depth', '--wrap=sleep 300'], { env })).stdout.trim();
    t.teardown(() => run('scancel', [id], { env }).catch(() => undefined));
    const tasks = async () =>
      (await run('squeue', ['-h', '-r', '-j', id, '-o', '%K|%T|%V|%S'], { env })).stdout.trim().split('\n').filter(Boolean).map((r) => r.split('|'));
    let rows = await tasks();
    for (let i = 0; rows.filter((r) => r[1] === 'RUNNING').length < 3; i++) {
      if (i > 60) throw new Error(`three tasks did not start: ${rows.map((r) => r.join('|')).join(' ')}`);
      await sleep(500);
      rows = await tasks();
    }
    // the background loop asks for a pass about every second when one is due: several seconds
    // without any would have started the others, had anything asked for one
    await sleep(4000);
    rows = await tasks();
    t.comment(`squeue -r -o '%K|%T|%V|%S':\n${rows.map((r) => r.join('|')).join('\n')}`);
    t.same(rows.map((r) => r[1]).sort(), ['PENDING', 'PENDING', 'RUNNING', 'RUNNING', 'RUNNING'], 'three tasks run, two wait for the next event');
    t.same(rows.filter((r) => r[1] === 'PENDING').map((r) => r[0]).sort(), ['4', '5'], 'the last tasks in queue order wait');

    // the replay of what was submitted (SLURM ends the tasks at their 1-minute limit): two at the
    // submit, the others only at the first end
    // (backfill's ticks put an hour apart, at the trace's own wall clock)
    const submit = Math.round(new Date(rows[0]![2]!).getTime() / 1000);
    const jobs: SwfJob[] = [1, 2, 3, 4, 5].map((k) => ({ id: k, submit: 0, procs: 1, runtime: 60, limit: 60, user: 1 }));
    const slurm = { defaultQueueDepth: 2, bfInterval: 3600 };
    const sim = replay(jobs, { nodes: 2, procsPerNode: 3, policy: 'slurm', epoch: submit, slurm });
    const starts = Object.fromEntries(sim.outcomes.map((o) => [o.id, o.start]));
    const later = Math.min(60, Math.ceil(submit / 3600) * 3600 - submit);
    t.same(starts, { 1: 0, 2: 0, 3: 0, 4: later, 5: later }, `the replay: three at 0 s, the others at ${later} s`);
  });
}
