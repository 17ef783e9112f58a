/**
 * Training metrics printed by a job, read from its log lines at ingest (pure). Two forms, one
 * per line, anywhere in stdout or stderr:
 *
 *   {"grm_metric": {"loss": 0.42, "accuracy": 0.91}, "step": 120, "rank": 0}
 *   {"grm_metric": "loss", "value": 0.42, "step": 120}
 *   GRM_METRIC loss=0.42 accuracy=0.91 step=120 rank=0
 *
 * `step` is a whole number (default 0); `rank` too (default: the task rank of an `srun --label`
 * prefix such as "3: ", else 0). A line may also carry that prefix before either form. Names are
 * 1-64 characters of letters, digits and `_ . : / -`; values are finite numbers. A line that
 * does not parse is not a metric line (it stays a log line like any other): never an error,
 * whatever it holds; at most MAX_PER_LINE metrics are read from one line.
 */

import { srunLabel } from './srun-label.js';

export interface MetricPoint {
  name: string;
  step: number;
  rank: number;
  value: number;
}

export const MAX_PER_LINE = 32;
/** Longer lines are not read for metrics (a metric line is short; JSON.parse of megabytes is not). */
export const MAX_METRIC_LINE = 8192;
const NAME = /^[A-Za-z0-9_.:/-]{1,64}$/;
const TEXT_MARK = 'GRM_METRIC';
const JSON_MARK = '"grm_metric"';

/** Whether a line may hold metrics: a cheap test run on every stored line. */
export function mayHoldMetrics(line: string): boolean {
  return line.length <= MAX_METRIC_LINE && (line.includes(TEXT_MARK) || line.includes(JSON_MARK));
}

/**
 * The metrics a line carries; [] when it is not a (valid) metric line. `fileRank`: the rank
 * of the per-task file it came from, which wins over an srun --label prefix.
 */
export function parseMetricLine(line: string, fileRank: number | null = null): MetricPoint[] {
  if (!mayHoldMetrics(line)) return [];
  const label = srunLabel(line);
  const body = (label ? label.rest : line).trim();
  const labelRank = fileRank ?? (label ? label.rank : 0);
  if (body.startsWith(TEXT_MARK)) return textForm(body.slice(TEXT_MARK.length), labelRank);
  if (body.startsWith('{')) return jsonForm(body, labelRank);
  return [];
}

const isWhole = (n: number) => Number.isSafeInteger(n) && n >= 0;

/** `GRM_METRIC name=value ... [step=N] [rank=R]`: every pair must parse, or none is taken. */
function textForm(rest: string, labelRank: number): MetricPoint[] {
  if (rest !== '' && !/^\s/.test(rest)) return []; // GRM_METRICS, GRM_METRIC_X: not ours
  const values: [string, number][] = [];
  let step = 0;
  let rank = labelRank;
  for (const pair of rest.trim().split(/\s+/)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return [];
    const key = pair.slice(0, eq);
    const text = pair.slice(eq + 1);
    if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return [];
    const n = Number(text);
    if (key === 'step' || key === 'rank') {
      if (!isWhole(n)) return [];
      if (key === 'step') step = n;
      else rank = n;
    } else {
      if (!NAME.test(key) || !Number.isFinite(n)) return [];
      values.push([key, n]);
    }
  }
  return points(values, step, rank);
}

/** One JSON object with a grm_metric key: a name with `value`, or an object of name → number. */
function jsonForm(body: string, labelRank: number): MetricPoint[] {
  let o: unknown;
  try {
    o = JSON.parse(body);
  } catch {
    return [];
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return [];
  const { grm_metric: metric, value, step = 0, rank = labelRank } = o as Record<string, unknown>;
  if (typeof step !== 'number' || !isWhole(step) || typeof rank !== 'number' || !isWhole(rank)) return [];
  let values: [string, unknown][];
  if (typeof metric === 'string') values = [[metric, value]];
  else if (metric !== null && typeof metric === 'object' && !Array.isArray(metric)) values = Object.entries(metric);
  else return [];
  if (!values.every(([k, v]) => NAME.test(k) && typeof v === 'number' && Number.isFinite(v))) return [];
  return points(values as [string, number][], step, rank);
}

function points(values: [string, number][], step: number, rank: number): MetricPoint[] {
  if (values.length === 0 || values.length > MAX_PER_LINE) return [];
  return values.map(([name, value]) => ({ name, step, rank, value }));
}
