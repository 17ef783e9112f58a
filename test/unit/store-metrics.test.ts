/** Metric points stored with their log lines (store/log-store.ts + store/metric-store.ts). */
import t from 'tap';
import { openDatabase } from '../../src/store/database.js';
import { LogStore, type LogLineRow } from '../../src/store/log-store.js';
import { MetricStore } from '../../src/store/metric-store.js';

function stores(maxPerJob = 100) {
  const db = openDatabase(':memory:');
  const metrics = new MetricStore(db, maxPerJob);
  return { db, metrics, logs: new LogStore(db, metrics) };
}

let seq = 0;
const line = (jobId: number, text: string, source = 'stdout'): LogLineRow => ({ jobId, seq: ++seq, ts: 1_000 + seq, source, line: text });

t.test('points of output lines are stored with them, in print order; other lines and GRM lines are not points', async (t) => {
  const { logs, metrics } = stores();
  logs.append([
    line(1, 'epoch 1'),
    line(1, 'GRM_METRIC loss=0.9 accuracy=0.5 step=1'),
    line(2, '0: {"grm_metric": "loss", "value": 2, "step": 1}'),
    line(1, '1: GRM_METRIC loss=0.8 step=1', 'stderr'),
    line(1, 'job "GRM_METRIC loss=1" submitted', 'grm'),
  ]);
  const page = metrics.read(1, { limit: 10 });
  t.same(page.points.map((p) => [p.name, p.step, p.rank, p.value]), [['loss', 1, 0, 0.9], ['accuracy', 1, 0, 0.5], ['loss', 1, 1, 0.8]]);
  t.equal(page.more, false);
  t.equal(page.capped, false);
  t.same(metrics.read(2, { limit: 10 }).points.map((p) => [p.name, p.rank, p.value]), [['loss', 0, 2]]);
  t.equal(logs.read(1).length, 4, 'every line is still a log line');
  t.same(metrics.read(1, { limit: 10, name: 'accuracy' }).points.map((p) => p.value), [0.5], 'by name');
});

t.test('paged by id: more, then the rest after the last id', async (t) => {
  const { logs, metrics } = stores();
  logs.append(Array.from({ length: 5 }, (_, i) => line(1, `GRM_METRIC loss=${i} step=${i}`)));
  const first = metrics.read(1, { limit: 3 });
  t.same(first.points.map((p) => p.step), [0, 1, 2]);
  t.equal(first.more, true);
  const rest = metrics.read(1, { limit: 3, after: first.points.at(-1)!.id });
  t.same(rest.points.map((p) => p.step), [3, 4]);
  t.equal(rest.more, false);
});

t.test('a job is bounded to maxPerJob points, and says so; other jobs are not affected', async (t) => {
  const { logs, metrics, db } = stores(4);
  logs.append([line(1, 'GRM_METRIC a=1 b=2 c=3'), line(1, 'GRM_METRIC a=4 b=5 c=6'), line(2, 'GRM_METRIC a=1')]);
  logs.append([line(1, 'GRM_METRIC a=7')]);
  const page = metrics.read(1, { limit: 100 });
  t.same(page.points.map((p) => p.value), [1, 2, 3, 4]);
  t.equal(page.capped, true);
  t.equal(metrics.read(2, { limit: 100 }).capped, false);
  t.equal(logs.read(1).length, 3, 'the lines themselves are all kept');
  const again = new MetricStore(db, 4);
  t.equal(again.read(1, { limit: 100 }).capped, true, 'a restarted daemon still knows');
});

t.test('a batch that fails is rolled back with its points: nothing half-stored, counts read again', async (t) => {
  const { logs, metrics } = stores(3);
  const bad = line(1, 'GRM_METRIC a=1 b=2');
  logs.append([bad]);
  // the same seq again violates (job_id, seq): the whole transaction fails
  t.throws(() => logs.append([line(1, 'GRM_METRIC c=3'), { ...bad, line: 'dup' }]));
  t.same(metrics.read(1, { limit: 10 }).points.map((p) => p.name), ['a', 'b'], "the failed batch's point is not there");
  logs.append([line(1, 'GRM_METRIC c=3 d=4')]);
  t.same(metrics.read(1, { limit: 10 }).points.map((p) => p.name), ['a', 'b', 'c'], 'the bound counts what is stored');
});
