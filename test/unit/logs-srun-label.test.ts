/** srun --label prefixes (logs/srun-label.ts) and the rank stored with each line (store/log-store.ts). */
import t from 'tap';
import { lineRank, srunLabel, taskFileRank } from '../../src/logs/srun-label.js';
import { parseMetricLine } from '../../src/logs/metric-line.js';
import { openDatabase } from '../../src/store/database.js';
import { LogStore } from '../../src/store/log-store.js';

t.test('srunLabel: the rank and the rest; padded ranks; not a label otherwise', async (t) => {
  t.same(srunLabel('0: hello'), { rank: 0, rest: 'hello' });
  t.same(srunLabel(' 3: padded as srun pads'), { rank: 3, rest: 'padded as srun pads' });
  t.same(srunLabel('12: a: b'), { rank: 12, rest: 'a: b' });
  t.same(srunLabel('999999: x'), { rank: 999999, rest: 'x' });
  for (const line of ['', 'hello', '3:no space', 'x3: y', '-1: y', '1234567: too wide', 'epoch 3: loss 1', '\t3: tab', ': empty', '3 : spaced']) {
    t.equal(srunLabel(line), null, JSON.stringify(line));
  }
});

t.test('lines are stored with their rank, read by rank (and source); GRM lines never have one', async (t) => {
  const db = openDatabase(':memory:');
  const logs = new LogStore(db);
  // more than one multi-row statement (128 lines) and single-row inserts after it
  const lines = Array.from({ length: 300 }, (_, i) => ({ jobId: 1, seq: i + 1, ts: i, source: i % 2 ? 'stderr' : 'stdout', line: `${i % 3}: line ${i}` }));
  logs.append([...lines, { jobId: 1, seq: 301, ts: 301, source: 'grm', line: '1: a job named like a label' }, { jobId: 1, seq: 302, ts: 302, source: 'stdout', line: 'no label' }]);
  const rank1 = logs.read(1, { rank: 1, limit: 1000 });
  t.equal(rank1.length, 100);
  t.ok(rank1.every((l) => l.rank === 1 && l.line.startsWith('1: ') && l.source !== 'grm'));
  t.same(rank1.slice(0, 2).map((l) => l.seq), [2, 5], 'in seq order');
  t.equal(logs.read(1, { rank: 1, source: 'stderr', limit: 1000 }).length, 50, 'rank and source together');
  t.same(logs.read(1, { rank: 1, after: 290, limit: 1000 }).map((l) => l.seq), [293, 296, 299], 'after');
  const tail = logs.read(1, { after: 300, limit: 10 });
  t.same(tail.map((l) => l.rank), [null, null], 'a GRM line and an unlabelled one: no rank');
});

t.test('per-task files: the rank is the last number of the file name; it wins over a label', async (t) => {
  t.equal(taskFileRank('task:3.out'), 3);
  t.equal(taskFileRank('task:rank-07.log'), 7);
  t.equal(taskFileRank('task:run2/12.err'), 12, 'the base name counts, not the folder');
  t.equal(taskFileRank('task:job1_5.out'), 5, 'the last number: %j_%t');
  t.equal(taskFileRank('task:out.txt'), null, 'no number, no rank');
  t.equal(taskFileRank('stdout'), null);
  t.equal(taskFileRank('compss:jobs/job3_NEW.out'), null, 'only the task folder names ranks');
  t.equal(lineRank('task:2.out', '5: labelled too'), 2, 'the file says which task wrote it');
  t.equal(lineRank('stdout', '5: labelled'), 5);
  t.equal(lineRank('grm', '5: a job name'), null);
  t.equal(lineRank('task:x.out', '1: label'), 1, 'a file without a number: the label, if any');
  t.same(parseMetricLine('GRM_METRIC loss=0.5 step=2', 3), [{ name: 'loss', step: 2, rank: 3, value: 0.5 }], 'a metric line takes its file rank');
  t.same(parseMetricLine('GRM_METRIC loss=0.5 step=2 rank=1', 3), [{ name: 'loss', step: 2, rank: 1, value: 0.5 }], 'an explicit rank= still wins');
});
