/** The metric line parser (logs/metric-line.ts): both forms, srun --label ranks, and everything that is not one. */
import t from 'tap';
import { MAX_METRIC_LINE, MAX_PER_LINE, mayHoldMetrics, parseMetricLine } from '../../src/logs/metric-line.js';

t.test('the text form: several names, step and rank', async (t) => {
  t.same(parseMetricLine('GRM_METRIC loss=0.42 accuracy=0.91 step=120 rank=2'), [
    { name: 'loss', step: 120, rank: 2, value: 0.42 },
    { name: 'accuracy', step: 120, rank: 2, value: 0.91 },
  ]);
  t.same(parseMetricLine('GRM_METRIC loss=1e-3'), [{ name: 'loss', step: 0, rank: 0, value: 0.001 }], 'step and rank default to 0');
  t.same(parseMetricLine('  GRM_METRIC   val/loss=-2.5   step=3  '), [{ name: 'val/loss', step: 3, rank: 0, value: -2.5 }], 'spaces around');
});

t.test('the JSON form: a name with value, or an object of names', async (t) => {
  t.same(parseMetricLine('{"grm_metric": "loss", "value": 0.5, "step": 7}'), [{ name: 'loss', step: 7, rank: 0, value: 0.5 }]);
  t.same(parseMetricLine('{"grm_metric": {"loss": 0.5, "acc": 0.8}, "step": 9, "rank": 1, "epoch": 2}'), [
    { name: 'loss', step: 9, rank: 1, value: 0.5 },
    { name: 'acc', step: 9, rank: 1, value: 0.8 },
  ], 'other keys are ignored');
});

t.test('an srun --label prefix gives the rank, unless the line names one', async (t) => {
  t.same(parseMetricLine('3: GRM_METRIC loss=0.1 step=4'), [{ name: 'loss', step: 4, rank: 3, value: 0.1 }]);
  t.same(parseMetricLine(' 12: {"grm_metric": "acc", "value": 1, "step": 1}'), [{ name: 'acc', step: 1, rank: 12, value: 1 }]);
  t.same(parseMetricLine('3: GRM_METRIC loss=0.1 rank=5'), [{ name: 'loss', step: 0, rank: 5, value: 0.1 }], 'rank= wins');
});

t.test('not metric lines: [] and never a throw', async (t) => {
  const notMetrics = [
    '',
    'epoch 1 loss=0.5',
    'GRM_METRICS loss=1',
    'GRM_METRIC_X loss=1',
    'GRM_METRIC',
    'GRM_METRIC loss',
    'GRM_METRIC loss=',
    'GRM_METRIC loss=abc',
    'GRM_METRIC loss=0x10',
    'GRM_METRIC loss=Infinity',
    'GRM_METRIC loss=NaN',
    'GRM_METRIC loss=1 step=1.5',
    'GRM_METRIC loss=1 step=-1',
    'GRM_METRIC loss=1 rank=1e30',
    'GRM_METRIC =1',
    'GRM_METRIC bad name=1',
    'GRM_METRIC na\u00efve=1',
    `GRM_METRIC ${'x'.repeat(65)}=1`,
    'echo GRM_METRIC loss=1',
    '{"grm_metric": "loss"}',
    '{"grm_metric": "loss", "value": "0.5"}',
    '{"grm_metric": "loss", "value": null}',
    '{"grm_metric": "loss", "value": 1, "step": -1}',
    '{"grm_metric": "loss", "value": 1, "step": "3"}',
    '{"grm_metric": "loss", "value": 1, "rank": 0.5}',
    '{"grm_metric": ["loss"], "value": 1}',
    '{"grm_metric": null}',
    '{"grm_metric": {}}',
    '{"grm_metric": {"loss": "1"}}',
    '{"grm_metric": {"bad name": 1}}',
    '{"grm_metric": "loss", "value": 1',
    '[{"grm_metric": "loss", "value": 1}]',
    '"grm_metric"',
    '{"grm_metric": "loss", "value": 1e400}',
    `{"grm_metric": {${Array.from({ length: MAX_PER_LINE + 1 }, (_, i) => `"m${i}": ${i}`).join(', ')}}}`,
    `{"grm_metric": "loss", "value": 1, "pad": "${'x'.repeat(MAX_METRIC_LINE)}"}`,
    '{"grm_metric": "loss", "value": 1, "x": ' + '['.repeat(5000) + ']'.repeat(5000) + '}',
    'GRM_METRIC loss=1 \u0000',
  ];
  for (const line of notMetrics) t.same(parseMetricLine(line), [], JSON.stringify(line.slice(0, 80)));
  t.equal(parseMetricLine(`{"grm_metric": {${Array.from({ length: MAX_PER_LINE }, (_, i) => `"m${i}": ${i}`).join(', ')}}}`).length, MAX_PER_LINE, 'the most one line may carry');
});

t.test('mayHoldMetrics: the cheap test on every line', async (t) => {
  t.equal(mayHoldMetrics('plain output'), false);
  t.equal(mayHoldMetrics('GRM_METRIC loss=1'), true);
  t.equal(mayHoldMetrics('{"grm_metric": 1}'), true);
  t.equal(mayHoldMetrics(`GRM_METRIC ${'x'.repeat(MAX_METRIC_LINE)}`), false, 'too long to be read');
});

t.test('random lines never throw', async (t) => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const parts = ['GRM_METRIC ', '{', '}', '"grm_metric"', ':', '"loss"', ',', '"value"', '1', '=', ' ', 'step', 'rank', '-', '.', 'e', '3: ', '\u0000', '\u202e', '[', ']'];
  for (let i = 0; i < 5000; i++) {
    const line = Array.from({ length: Math.floor(rnd() * 20) }, () => parts[Math.floor(rnd() * parts.length)]).join('');
    const points = parseMetricLine(line);
    if (!points.every((p) => Number.isFinite(p.value) && Number.isSafeInteger(p.step) && Number.isSafeInteger(p.rank))) t.fail(line);
  }
  t.pass('5000 random lines');
});
