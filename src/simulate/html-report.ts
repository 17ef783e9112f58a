/**
 * grm simulate --html: one self-contained page (inline SVG, no script, no network) with two
 * policies side by side: utilisation over time, the distribution of waits, and a Gantt chart
 * of the allocations per node. Pure: runs in, HTML out. Every chart says in words what it
 * shows, and the Gantt says how many jobs it leaves out (it draws the first GANTT_JOBS).
 */
import type { ReplayMetrics } from './metrics.js';
import type { JobOutcome } from './replay.js';

export interface ReportRun {
  policy: string;
  metrics: ReplayMetrics;
  outcomes: readonly JobOutcome[];
}

export const GANTT_JOBS = 3000;
const BINS = 200;
const W = 900;
const COLORS = ['#1f6feb', '#d1242f'];
const WAIT_BUCKETS: [string, number][] = [
  ['none', 0],
  ['< 1 min', 60],
  ['< 10 min', 600],
  ['< 1 h', 3600],
  ['< 6 h', 21_600],
  ['< 1 day', 86_400],
  ['< 1 week', 604_800],
  ['longer', Infinity],
];

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fix = (n: number) => Number(n.toFixed(1));

/** Busy share of the processors per time bin, from 0 to the latest end. */
export function utilisationSeries(outcomes: readonly JobOutcome[], totalProcs: number, span: number): number[] {
  const width = span / BINS || 1;
  const busy = new Array<number>(BINS).fill(0);
  for (const j of outcomes) {
    for (let b = Math.floor(j.start / width); b < BINS && b * width < j.end; b++) {
      const overlap = Math.min(j.end, (b + 1) * width) - Math.max(j.start, b * width);
      if (overlap > 0) busy[b]! += overlap * j.procs;
    }
  }
  return busy.map((v) => Math.min(1, v / (totalProcs * width)));
}

/** How many jobs waited within each bucket. */
export function waitHistogram(outcomes: readonly JobOutcome[]): number[] {
  const counts = WAIT_BUCKETS.map(() => 0);
  for (const j of outcomes) {
    const wait = j.start - j.submit;
    counts[WAIT_BUCKETS.findIndex(([, max], i) => (i === 0 ? wait === 0 : wait < max))]!++;
  }
  return counts;
}

function utilisationChart(runs: readonly ReportRun[], totalProcs: number, span: number): string {
  const h = 220;
  const lines = runs.map((r, i) => {
    const pts = utilisationSeries(r.outcomes, totalProcs, span).map((u, b) => `${fix(40 + ((b + 0.5) / BINS) * (W - 60))},${fix(h - 30 - u * (h - 50))}`);
    return `<polyline fill="none" stroke="${COLORS[i]}" stroke-width="1.5" points="${pts.join(' ')}"><title>${esc(r.policy)}</title></polyline>`;
  });
  const axis = `<line x1="40" y1="${h - 30}" x2="${W - 20}" y2="${h - 30}" stroke="#555"/><line x1="40" y1="20" x2="40" y2="${h - 30}" stroke="#555"/>
<text x="34" y="24" text-anchor="end">100%</text><text x="34" y="${h - 30}" text-anchor="end">0%</text>
<text x="${W - 20}" y="${h - 10}" text-anchor="end">${fix(span / 86_400)} days</text>`;
  return `<svg viewBox="0 0 ${W} ${h}" role="img" aria-label="Utilisation over time">${axis}${lines.join('')}</svg>`;
}

function waitChart(runs: readonly ReportRun[]): string {
  const h = 240;
  const hists = runs.map((r) => waitHistogram(r.outcomes));
  const max = Math.max(1, ...hists.flat());
  const group = (W - 60) / WAIT_BUCKETS.length;
  const bars = hists.flatMap((counts, i) =>
    counts.map((c, b) => {
      const bh = (c / max) * (h - 60);
      const x = 40 + b * group + 6 + i * ((group - 12) / runs.length);
      return `<rect x="${fix(x)}" y="${fix(h - 40 - bh)}" width="${fix((group - 12) / runs.length - 2)}" height="${fix(bh)}" fill="${COLORS[i]}"><title>${esc(runs[i]!.policy)}: ${c} jobs waited ${WAIT_BUCKETS[b]![0]}</title></rect>`;
    }),
  );
  const labels = WAIT_BUCKETS.map(([name], b) => `<text x="${fix(40 + (b + 0.5) * group)}" y="${h - 22}" text-anchor="middle">${esc(name)}</text>`);
  const scale = `<text x="34" y="24" text-anchor="end">${max}</text><text x="34" y="${h - 40}" text-anchor="end">0</text>`;
  return `<svg viewBox="0 0 ${W} ${h}" role="img" aria-label="Jobs by wait time">${scale}${bars.join('')}${labels.join('')}<line x1="40" y1="${h - 40}" x2="${W - 20}" y2="${h - 40}" stroke="#555"/></svg>`;
}

function gantt(run: ReportRun, nodes: number, color: string): string {
  const shown = [...run.outcomes].sort((a, b) => a.start - b.start || a.id - b.id).slice(0, GANTT_JOBS);
  const from = shown[0]?.start ?? 0;
  const to = Math.max(from + 1, ...shown.map((j) => j.end));
  const row = Math.max(1, Math.min(8, 400 / nodes));
  const h = nodes * row + 30;
  const x = (t: number) => fix(40 + ((t - from) / (to - from)) * (W - 60));
  const rects = shown.flatMap((j) =>
    (j.nodes ?? []).map((n) => {
      const y = (Number(n.replace(/^\D+/, '')) - 1) * row + 10;
      const light = 35 + ((j.id * 37) % 40);
      return `<rect x="${x(j.start)}" y="${fix(y)}" width="${fix(Math.max(0.5, x(j.end) - x(j.start)))}" height="${fix(Math.max(0.5, row - 0.5))}" fill="${color}" fill-opacity="${light / 100}"><title>job ${j.id} on ${esc(n)}: ${j.start}-${j.end} s</title></rect>`;
    }),
  );
  const note = run.outcomes.length > shown.length ? ` The first ${shown.length} of ${run.outcomes.length} jobs by start; the other ${run.outcomes.length - shown.length} are left out.` : '';
  return `<p>${esc(run.policy)}: nodes top to bottom, time left to right (${fix(from)} s to ${fix(to)} s).${note}</p>
<svg viewBox="0 0 ${W} ${h}" role="img" aria-label="Allocations per node, ${esc(run.policy)}">${rects.join('')}</svg>`;
}

function metricsTable(runs: readonly ReportRun[]): string {
  const keys = Object.keys(runs[0]!.metrics) as (keyof ReplayMetrics)[];
  const head = `<tr><th>figure</th>${runs.map((r, i) => `<th style="color:${COLORS[i]}">${esc(r.policy)}</th>`).join('')}</tr>`;
  const show = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: 3 });
  const rows = keys.map((k) => `<tr><td>${k}</td>${runs.map((r) => `<td>${show(r.metrics[k])}</td>`).join('')}</tr>`);
  return `<table>${head}${rows.join('')}</table>`;
}

export function htmlReport(runs: readonly ReportRun[], o: { source: string; nodes: number; procsPerNode: number }): string {
  const span = Math.max(1, ...runs.flatMap((r) => r.outcomes.map((j) => j.end)));
  const legend = runs.map((r, i) => `<span style="color:${COLORS[i]}">&#9632; ${esc(r.policy)}</span>`).join(' ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>grm simulate: ${esc(o.source)}</title>
<style>body{font:14px system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222}svg{width:100%;height:auto;font-size:11px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}h2{margin-top:1.6em}</style>
</head><body>
<h1>grm simulate: ${esc(o.source)}</h1>
<p>${o.nodes} nodes x ${o.procsPerNode} processors; ${legend}</p>
${metricsTable(runs)}
<h2>Utilisation over time</h2>
<p>Share of the processors busy, in ${BINS} slices from the start to the last end.</p>
${utilisationChart(runs, o.nodes * o.procsPerNode, span)}
<h2>Waits</h2>
<p>Jobs by how long they waited between submit and start.</p>
${waitChart(runs)}
<h2>Allocations per node</h2>
${runs.map((r, i) => gantt(r, o.nodes, COLORS[i]!)).join('\n')}
</body></html>
`;
}
