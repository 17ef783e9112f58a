/**
 * Checks the single-host SLURM cluster of scripts/slurm-cluster.sh with the real commands the
 * SLURM backend uses: sinfo, sbatch, squeue --json, srun, scontrol, scancel, and a controller
 * restart. Needs slurm-wlm and munge (installed by requireSystem when root).
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { startSlurmctld, startTestCluster, stopSlurmctld, type TestCluster } from '../helpers/slurm-cluster.js';

const execFileP = promisify(execFile);

interface SqueueJob {
  job_id: number;
  job_state: string;
  nodes: string;
  exit_code: number;
  tres_per_node: string;
  gres_detail: string[];
  state_reason: string;
}

async function run(cluster: TestCluster, cmd: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const { stdout } = await execFileP(cmd, args, { env: cluster.env, timeout: timeoutMs });
  return stdout;
}

/** squeue --json. NB: Slurm 22.05 ignores -j/-t with --json, so filter here. */
async function squeueJob(cluster: TestCluster, id: number): Promise<SqueueJob | undefined> {
  const out = JSON.parse(await run(cluster, 'squeue', ['--json'])) as { jobs: SqueueJob[] };
  return out.jobs.find((j) => j.job_id === id);
}

async function waitForJob(
  cluster: TestCluster,
  id: number,
  ok: (j: SqueueJob) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<SqueueJob> {
  const deadline = Date.now() + timeoutMs;
  let last: SqueueJob | undefined;
  while (Date.now() < deadline) {
    last = await squeueJob(cluster, id);
    if (last && ok(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`job ${id} not ${what} after ${timeoutMs} ms; last seen: ${JSON.stringify(last?.job_state ?? 'absent')}`);
}

async function sbatch(cluster: TestCluster, args: string[]): Promise<number> {
  const out = await run(cluster, 'sbatch', ['--parsable', ...args]);
  const id = Number.parseInt(out.trim().split(';')[0]!, 10);
  if (!Number.isInteger(id)) throw new Error(`sbatch printed ${JSON.stringify(out)}`);
  return id;
}

/** Job scripts and outputs live here (never passed through a shell by the test). */
const work = mkdtempSync('/tmp/grm-slurm-jobs.');
t.teardown(() => rmSync(work, { recursive: true, force: true }));
function jobScript(name: string, body: string): string {
  const file = path.join(work, name);
  writeFileSync(file, `#!/bin/bash\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

const cluster = await startTestCluster(t, { nodes: 4 });

if (cluster) {
  if (cluster.reused) t.comment(`reusing the cluster of SLURM_CONF=${cluster.slurmConf}`);
  else {
    t.comment(`cluster of 4 nodes started in ${cluster.startSeconds.toFixed(1)} s (${cluster.dir})`);
    t.ok(cluster.startSeconds < 20, `start took ${cluster.startSeconds.toFixed(1)} s, under 20 s`);
  }

  t.test('sinfo shows the 4 nodes idle', async (t) => {
    const out = await run(cluster, 'sinfo', ['-h', '-N', '-o', '%N %T']);
    const states = Object.fromEntries(out.trim().split('\n').map((l) => l.trim().split(/\s+/) as [string, string]));
    t.same(states, { node1: 'idle', node2: 'idle', node3: 'idle', node4: 'idle' });
  });

  t.test('scontrol show hostnames expands a hostlist', async (t) => {
    const out = await run(cluster, 'scontrol', ['show', 'hostnames', 'node[1-3]']);
    t.same(out.trim().split('\n'), ['node1', 'node2', 'node3']);
  });

  t.test('a 3-node batch job runs srun steps on three nodes and completes', async (t) => {
    const output = path.join(work, 'three-%j.out');
    const script = jobScript(
      'three.sh',
      [
        '#SBATCH -N3',
        `#SBATCH -o ${output}`,
        'srun bash -c \'echo "step on $SLURMD_NODENAME"\'',
        'srun hostname >/dev/null',
        'echo "batch on $SLURMD_NODENAME nodes=$SLURM_JOB_NODELIST"',
      ].join('\n'),
    );
    const submitted = performance.now();
    const id = await sbatch(cluster, [script]);
    const started = await waitForJob(cluster, id, (j) => j.job_state !== 'PENDING', 'started');
    t.comment(`job ${id} left PENDING ${((performance.now() - submitted) / 1000).toFixed(2)} s after sbatch`);
    t.equal(started.nodes, 'node[1-3]', 'squeue --json lists its three nodes');
    const done = await waitForJob(cluster, id, (j) => j.job_state === 'COMPLETED', 'COMPLETED');
    t.equal(done.exit_code, 0);
    const text = readFileSync(output.replace('%j', String(id)), 'utf8');
    const steps = text
      .split('\n')
      .filter((l) => l.startsWith('step on '))
      .map((l) => l.slice('step on '.length))
      .sort();
    t.same(steps, ['node1', 'node2', 'node3'], 'one task per node');
    t.match(text, /batch on node1 nodes=node\[1-3\]/);
  });

  t.test('a failing job: FAILED, exit_code is the raw wait status', async (t) => {
    const id = await sbatch(cluster, ['-o', '/dev/null', jobScript('fail.sh', 'exit 3')]);
    const done = await waitForJob(cluster, id, (j) => !['PENDING', 'RUNNING', 'COMPLETING'].includes(j.job_state), 'ended');
    t.equal(done.job_state, 'FAILED');
    t.equal(done.exit_code, 3 << 8, 'squeue --json (v0.0.38) gives 768 for exit 3');
  });

  t.test('running job: squeue --json, srun --overlap into it, scancel', async (t) => {
    const id = await sbatch(cluster, ['-N3', '-o', '/dev/null', jobScript('long.sh', 'sleep 600')]);
    const running = await waitForJob(cluster, id, (j) => j.job_state === 'RUNNING', 'RUNNING');
    t.equal(running.nodes, 'node[1-3]');

    const out = await run(cluster, 'srun', [`--jobid=${id}`, '--overlap', '-N3', 'bash', '-c', 'echo $SLURMD_NODENAME']);
    t.same(out.trim().split('\n').sort(), ['node1', 'node2', 'node3']);

    await run(cluster, 'scancel', [String(id)]);
    const cancelled = await waitForJob(cluster, id, (j) => j.job_state === 'CANCELLED', 'CANCELLED', 20_000);
    t.equal(cancelled.job_state, 'CANCELLED');
    // Its nodes come back (KillWait=2).
    const deadline = Date.now() + 20_000;
    let states = '';
    while (Date.now() < deadline) {
      states = (await run(cluster, 'sinfo', ['-h', '-N', '-o', '%T'])).trim().split('\n').join(',');
      if (states === 'idle,idle,idle,idle') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    t.equal(states, 'idle,idle,idle,idle', 'all nodes idle again');
  });

  t.test('fake GPUs: --gpus 2 cluster, sbatch --gres=gpu:tesla:2', async (t) => {
    const gpuCluster = await startTestCluster(t, { nodes: 2, gpus: 2 });
    if (!gpuCluster) return;
    if (!gpuCluster.reused) t.comment(`2-node GPU cluster started in ${gpuCluster.startSeconds.toFixed(1)} s`);
    const gres = await run(gpuCluster, 'sinfo', ['-h', '-N', '-o', '%N %G']);
    t.match(gres, /node1\s+gpu:tesla:2/);

    const go = path.join(work, 'gpu.go');
    const output = path.join(work, 'gpu-%j.out');
    const script = jobScript(
      'gpu.sh',
      [
        `#SBATCH -o ${output}`,
        'echo "CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES"',
        `for i in $(seq 300); do [ -e ${go} ] && break; sleep 0.1; done`,
      ].join('\n'),
    );
    const id = await sbatch(gpuCluster, ['--gres=gpu:tesla:2', script]);
    const running = await waitForJob(gpuCluster, id, (j) => j.job_state === 'RUNNING', 'RUNNING');
    t.match(running.tres_per_node, /gpu:tesla:2/, 'squeue --json shows the requested gres');
    t.match(running.gres_detail.join(','), /gpu:tesla:2\(IDX:0-1\)/, 'and the allocated device indexes');
    writeFileSync(go, '');
    await waitForJob(gpuCluster, id, (j) => j.job_state === 'COMPLETED', 'COMPLETED');
    t.match(readFileSync(output.replace('%j', String(id)), 'utf8'), /CUDA_VISIBLE_DEVICES=0,1/);
  });

  const managed = cluster.managed && existsSync(path.join(cluster.dir, 'run/slurmctld.pid'));
  t.test(
    'controller restart: sbatch fails while slurmctld is down, works after',
    { skip: managed ? false : 'the reused cluster was not started by scripts/slurm-cluster.sh' },
    async (t) => {
      await stopSlurmctld(cluster.dir);
      const before = performance.now();
      const err = await run(cluster, 'sbatch', ['-o', '/dev/null', jobScript('quick.sh', 'true')]).then(
        () => null,
        (e: { stderr?: string }) => e,
      );
      t.comment(`sbatch failed after ${((performance.now() - before) / 1000).toFixed(1)} s`);
      t.ok(err, 'sbatch fails');
      t.match(err?.stderr ?? '', /Unable to contact slurm controller/);

      const t0 = performance.now();
      await startSlurmctld(cluster.dir);
      t.comment(`slurmctld back with nodes ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const out = await run(cluster, 'sinfo', ['-h', '-N', '-o', '%N %T']);
      t.same(
        out.trim().split('\n').map((l) => l.trim().split(/\s+/)[1]),
        ['idle', 'idle', 'idle', 'idle'],
        'every node idle again',
      );
      const id = await sbatch(cluster, ['-o', '/dev/null', jobScript('quick.sh', 'true')]);
      const done = await waitForJob(cluster, id, (j) => j.job_state === 'COMPLETED', 'COMPLETED');
      t.equal(done.exit_code, 0, 'a job runs after the restart');
    },
  );
}
