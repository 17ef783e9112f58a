/**
 * The DDP example's PyCOMPSs twin (examples/compss-digits) submitted as written through
 * `grm sbatch --runtime=compss`, run by the runcompss TEST DOUBLE and its PyCOMPSs double (tasks
 * run inline, logged): one task per shard and epoch, weights merged, ≥ 90% test accuracy, its
 * metrics stored. Needs Debian's python3-sklearn (scripts/system-deps.sh training) and xmllint.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { SMALL_CLUSTER, startDaemon } from '../helpers/daemon.js';
import { PROJECT_ROOT, requireSystem } from '../helpers/system.js';
import { xmllintReady } from '../helpers/xmllint.js';

const RUNCOMPSS = path.join(PROJECT_ROOT, 'test/fixtures/runcompss-double/runcompss.mjs');
const APP = path.join(PROJECT_ROOT, 'examples/compss-digits/train_compss.py');

t.test('the PyCOMPSs twin trains to >= 90% as COMPSs tasks, its metrics stored', async (t) => {
  if (!requireSystem(t, 'training') || !xmllintReady(t)) return;
  const d = await startDaemon(t, { ...SMALL_CLUSTER, compss: { runcompss: RUNCOMPSS } });
  const submitted = await d.cli('sbatch', '--parsable', '--runtime=compss', '--python-interpreter=/usr/bin/python3', '-N', '2', APP);
  t.equal(submitted.code, 0, submitted.stderr);
  const id = Number(submitted.stdout.trim());
  const job = await d.waitForState(id, ['COMPLETED', 'FAILED'], 120_000);
  const out = (await d.cli('logs', String(id))).stdout;
  if (job.job_state !== 'COMPLETED') t.comment(out);
  t.equal(job.job_state, 'COMPLETED');
  const accuracy = Number(/^test accuracy (\d\.\d+)$/m.exec(out)?.[1]);
  t.comment(`test accuracy ${accuracy}`);
  t.ok(accuracy >= 0.9, `>= 90%: ${accuracy}`);

  const runtimeLog = fs.readFileSync(path.join(d.dataDir, 'jobs', String(id), 'compss', 'runtime.log'), 'utf8');
  const tasks = runtimeLog.match(/Task \d+ train_shard done/g) ?? [];
  t.equal(tasks.length, 4 * 30, 'one task per shard and epoch');
  const { metrics } = (await d.api('GET', `/api/v1/jobs/${id}/metrics?name=accuracy`)).body;
  t.same(metrics.map((m: { step: number }) => m.step), Array.from({ length: 30 }, (_, i) => i + 1), 'an accuracy point per epoch');
  t.equal(metrics.at(-1).value, accuracy, 'the last point is the reported accuracy');
});
