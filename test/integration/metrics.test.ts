/** Training metrics printed by a job, served by GET /api/v1/jobs/:id/metrics, live and after the end. */
import t from 'tap';
import { SMALL_CLUSTER, startDaemon } from '../helpers/daemon.js';
import { untilFileExists, waitUntil } from '../helpers/wait.js';

t.test('a job that prints metric lines: its points, per rank, in order, while it runs and after', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const go = `${d.dataDir}/go`;
  const script = [
    '#!/bin/bash',
    'for s in 1 2 3; do echo "GRM_METRIC loss=0.$((9 - s)) step=$s"; done',
    'echo \'{"grm_metric": {"loss": 0.7, "accuracy": 0.6}, "step": 3, "rank": 1}\'',
    'echo "1: GRM_METRIC accuracy=0.65 step=3" >&2',
    'echo "not a metric: GRM_METRIC loss=abc"',
    untilFileExists(go),
    'echo "GRM_METRIC loss=0.1 step=4"',
  ].join('\n');
  const id = (await d.api('POST', '/api/v1/jobs', { script })).body.job_id as number;
  const metrics = (after = 0, query = '') => d.api('GET', `/api/v1/jobs/${id}/metrics?after=${after}${query}`);
  const live = await waitUntil('the six points printed before go', async () => {
    const r = await metrics();
    return r.body.metrics.length === 6 ? r.body : undefined;
  });
  t.equal(live.job_state, 'RUNNING', 'served while the job runs');
  const points = (body: any) => body.metrics.map((m: any) => [m.name, m.step, m.rank, m.value]);
  // stdout and stderr are two files read apart: the stderr point's place among them is not fixed
  t.same(points(live).filter((p: any[]) => p[3] !== 0.65), [['loss', 1, 0, 0.8], ['loss', 2, 0, 0.7], ['loss', 3, 0, 0.6], ['loss', 3, 1, 0.7], ['accuracy', 3, 1, 0.6]], 'stdout points in print order');
  t.ok(points(live).some((p: any[]) => p[0] === 'accuracy' && p[2] === 1 && p[3] === 0.65), 'the srun --label rank of a stderr line');
  t.same(Object.keys(live.metrics[0]).sort(), ['id', 'name', 'rank', 'step', 'time', 'value']);
  const fs = await import('node:fs');
  fs.writeFileSync(go, '');
  await d.waitForState(id, ['COMPLETED']);
  const rest = (await metrics(live.last_id)).body;
  t.same(points(rest), [['loss', 4, 0, 0.1]], 'after last_id: only the new one');
  t.equal(rest.more, false);
  t.equal(rest.capped, false);
  t.same((await metrics(0, '&name=accuracy')).body.metrics.map((m: any) => m.value).sort(), [0.6, 0.65], 'by name');
  const page = (await metrics(0, '&limit=2')).body;
  t.equal(page.metrics.length, 2);
  t.equal(page.more, true, 'a page says more exist');
  t.equal((await metrics(0, '&limit=0')).status, 400);
});

t.test('srun --label lines are stored with their rank: the API and grm logs --rank select them', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const script = '#!/bin/bash\nfor i in 1 2 3; do for r in 0 1 2; do echo "$r: step $i of rank $r"; done; done\necho "1: to stderr" >&2\necho "no label"\n';
  const id = (await d.api('POST', '/api/v1/jobs', { script })).body.job_id as number;
  await d.waitForState(id, ['COMPLETED']);
  const rank1 = (await d.api('GET', `/api/v1/jobs/${id}/logs?rank=1`)).body.lines;
  t.same(rank1.map((l: any) => l.line).sort(), ['1: step 1 of rank 1', '1: step 2 of rank 1', '1: step 3 of rank 1', '1: to stderr']);
  t.ok(rank1.every((l: any) => l.rank === 1));
  const all = (await d.api('GET', `/api/v1/jobs/${id}/logs?source=stdout`)).body.lines;
  t.equal(all.find((l: any) => l.line === 'no label').rank, undefined, 'a line without a label has no rank');
  t.same((await d.api('GET', `/api/v1/jobs/${id}/logs?rank=1&source=stderr`)).body.lines.map((l: any) => l.line), ['1: to stderr']);
  const cli = await d.cli('logs', '--rank', '2', String(id));
  t.equal(cli.code, 0, cli.stderr);
  t.equal(cli.stdout, '2: step 1 of rank 2\n2: step 2 of rank 2\n2: step 3 of rank 2\n');
  const bad = await d.cli('logs', '--rank', 'x', String(id));
  t.equal(bad.code, 1);
  t.match(bad.stderr, /Invalid --rank "x": a task rank, a whole number such as 0 or 3/);
  t.equal((await d.api('GET', `/api/v1/jobs/${id}/logs?rank=-1`)).status, 400);
});

t.test('srun -o "$GRM_TASK_OUTPUT_DIR/%t.out": each per-task file is stored with its rank, its metrics too', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  // what srun -o "$GRM_TASK_OUTPUT_DIR/%t.out" -n 3 leaves: one file per task, named by its rank
  const script = [
    '#!/bin/bash',
    'test -d "$GRM_TASK_OUTPUT_DIR" || { echo "no GRM_TASK_OUTPUT_DIR: $GRM_TASK_OUTPUT_DIR" >&2; exit 3; }',
    'for r in 0 1 2; do for s in 1 2; do echo "step $s on task $r"; echo "GRM_METRIC loss=0.$((r + s)) step=$s"; done > "$GRM_TASK_OUTPUT_DIR/$r.out"; done',
    'echo "from the master"',
  ].join('\n');
  const id = (await d.api('POST', '/api/v1/jobs', { script })).body.job_id as number;
  await d.waitForState(id, ['COMPLETED']);
  const rank2 = (await d.api('GET', `/api/v1/jobs/${id}/logs?rank=2`)).body.lines;
  t.same(rank2.map((l: any) => [l.source, l.line]), [['task:2.out', 'step 1 on task 2'], ['task:2.out', 'GRM_METRIC loss=0.3 step=1'], ['task:2.out', 'step 2 on task 2'], ['task:2.out', 'GRM_METRIC loss=0.4 step=2']]);
  const master = (await d.api('GET', `/api/v1/jobs/${id}/logs?source=stdout`)).body.lines;
  t.same(master.map((l: any) => l.line), ['from the master'], 'the master output is its own source, without a rank');
  const points = (await d.api('GET', `/api/v1/jobs/${id}/metrics`)).body.metrics.map((m: any) => [m.rank, m.step, m.value]);
  t.same(points.sort(), [[0, 1, 0.1], [0, 2, 0.2], [1, 1, 0.2], [1, 2, 0.3], [2, 1, 0.3], [2, 2, 0.4]], 'one curve per task file');
  const cli = await d.cli('logs', '--rank', '1', String(id));
  t.equal(cli.stdout, 'step 1 on task 1\nGRM_METRIC loss=0.2 step=1\nstep 2 on task 1\nGRM_METRIC loss=0.3 step=2\n');
});
