/**
 * The DDP example (examples/ddp-digits) as a user submits it, through GRM on the real 4-node
 * SLURM test cluster, with Debian's python3-torch and python3-sklearn (scripts/system-deps.sh
 * training): one rank per node, trained to ≥ 90% test accuracy; each rank's lines selectable
 * by rank; its metrics stored per rank. Under CI=true a missing package fails, not skips.
 */
import path from 'node:path';
import t from 'tap';
import { startDaemon } from '../helpers/daemon.js';
import { startTestCluster } from '../helpers/slurm-cluster.js';
import { PROJECT_ROOT, requireSystem } from '../helpers/system.js';

const EXAMPLE = path.join(PROJECT_ROOT, 'examples/ddp-digits');
const RANKS = [0, 1, 2, 3];

const cluster = await startTestCluster(t, { nodes: 4 });
if (cluster && requireSystem(t, 'training')) {
  t.test('the DDP example trains on 4 nodes through GRM to >= 90%, 4 ranks in its log and its metrics', async (t) => {
    const d = await startDaemon(t, { backend: 'slurm', slurm: { slurmConf: cluster.slurmConf, pollIntervalMs: 300 } });
    const submitted = await d.cli('sbatch', '--parsable', '-D', EXAMPLE, path.join(EXAMPLE, 'ddp.sh'));
    t.equal(submitted.code, 0, submitted.stderr);
    const id = Number(submitted.stdout.trim());
    const job = await d.waitForState(id, ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL'], 300_000);
    if (job.job_state !== 'COMPLETED') t.comment((await d.cli('logs', '--all', String(id))).stdout);
    t.equal(job.job_state, 'COMPLETED');
    t.equal(job.node_count, 4, 'four nodes');

    const accuracies: number[] = [];
    for (const rank of RANKS) {
      const lines = (await d.cli('logs', '--rank', String(rank), String(id))).stdout.trim().split('\n');
      t.ok(lines.length > 1 && lines.every((l) => l.startsWith(`${rank}: `)), `rank ${rank}: its own lines (${lines.length})`);
      const last = new RegExp(`^${rank}: rank ${rank} of 4: test accuracy (\\d\\.\\d+)$`).exec(lines.at(-1) ?? '');
      t.ok(last, `rank ${rank} reports its test accuracy: ${lines.at(-1)}`);
      accuracies.push(Number(last?.[1]));
    }
    t.comment(`test accuracy per rank: ${accuracies.join(', ')}`);
    t.ok(accuracies.every((a) => a >= 0.9), 'every rank at 90% or more');
    t.equal(new Set(accuracies).size, 1, 'DDP: the same model, so the same accuracy, on every rank');

    const { metrics, more } = (await d.api('GET', `/api/v1/jobs/${id}/metrics?name=accuracy`)).body;
    t.equal(more, false);
    for (const rank of RANKS) {
      const points = metrics.filter((m: { rank: number }) => m.rank === rank);
      t.same(points.map((m: { step: number }) => m.step), Array.from({ length: 30 }, (_, i) => i + 1), `rank ${rank}: an accuracy point per epoch`);
      t.ok(points.at(-1).value >= 0.9, `rank ${rank}: last accuracy point ${points.at(-1).value}`);
    }
  });
}
