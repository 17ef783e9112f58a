// Small inline-SVG charts, no library: horizontal bar charts and a time-series area chart.
// Every chart is a <figure> with a caption, an SVG with <title> and <desc> (role="img"), and a
// button that shows the same numbers as a table.
import { el, svg, formatNumber, formatTime } from './util.js';

let uid = 0;

function figure({ title, description, graphic, table }) {
  const tableId = `chart-table-${++uid}`;
  const wrap = el('div', { class: 'chart-table', id: tableId, hidden: true }, table);
  const toggle = el('button', { type: 'button', class: 'secondary small', 'aria-expanded': 'false', 'aria-controls': tableId }, 'Show as table');
  toggle.addEventListener('click', () => {
    const open = wrap.hidden;
    wrap.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
    toggle.textContent = open ? 'Hide table' : 'Show as table';
  });
  return el('figure', { class: 'chart' },
    el('figcaption', {}, el('span', {}, title), toggle),
    graphic, wrap,
    el('p', { class: 'visually-hidden' }, description));
}

function svgRoot(width, height, title, description) {
  const n = ++uid;
  return svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': `svg-t-${n} svg-d-${n}`, preserveAspectRatio: 'xMinYMin meet', class: 'chart-svg' },
    svg('title', { id: `svg-t-${n}` }, title),
    svg('desc', { id: `svg-d-${n}` }, description));
}

function dataTable(headers, rows) {
  return el('table', { class: 'data compact' },
    el('thead', {}, el('tr', {}, headers.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, rows.map((r) => el('tr', {}, el('th', { scope: 'row' }, r[0]), r.slice(1).map((c) => el('td', { class: 'num' }, c))))));
}

/**
 * barChart({ title, data: [{ label, value, className? }], format?, valueLabel? }) — one bar per
 * item, largest scale = the largest value; an empty data set says so.
 */
export function barChart({ title, data, format = (v) => formatNumber(v, 1), valueLabel = 'Value' }) {
  const description = data.length ? data.map((d) => `${d.label}: ${format(d.value)}`).join('; ') : 'No data in this period.';
  if (!data.length) return figure({ title, description, graphic: el('p', { class: 'muted' }, 'No data in this period.'), table: el('p', {}, 'No data.') });
  const rowH = 26;
  const labelW = 150;
  const width = 560;
  const valueW = 70;
  const height = data.length * rowH + 8;
  const max = Math.max(...data.map((d) => d.value), 0) || 1;
  const root = svgRoot(width, height, title, description);
  data.forEach((d, i) => {
    const y = 4 + i * rowH;
    const w = Math.max(d.value > 0 ? 2 : 0, ((width - labelW - valueW) * d.value) / max);
    root.append(svg('g', { class: `bar ${d.className ?? ''}` },
      svg('text', { x: labelW - 8, y: y + rowH / 2, 'text-anchor': 'end', 'dominant-baseline': 'middle', class: 'label' }, truncate(d.label, 22)),
      svg('rect', { x: labelW, y: y + 3, width: w, height: rowH - 6, rx: 2 }, svg('title', {}, `${d.label}: ${format(d.value)}`)),
      svg('text', { x: labelW + w + 6, y: y + rowH / 2, 'dominant-baseline': 'middle', class: 'value' }, format(d.value))));
  });
  return figure({ title, description, graphic: root, table: dataTable(['Item', valueLabel], data.map((d) => [d.label, format(d.value)])) });
}

const truncate = (s, n) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * areaChart({ title, points: [{ time, value, total }], valueLabel, totalLabel }) — `value` as a
 * filled area, `total` as a dashed line, time on x.
 */
export function areaChart({ title, points, valueLabel = 'Busy', totalLabel = 'Total' }) {
  const pts = points.map((p) => ({ t: Date.parse(p.time), v: p.value, total: p.total })).filter((p) => Number.isFinite(p.t)).sort((a, b) => a.t - b.t);
  const mean = pts.length ? pts.reduce((s, p) => s + (p.total ? p.v / p.total : 0), 0) / pts.length : 0;
  const peak = pts.reduce((m, p) => Math.max(m, p.v), 0);
  const description = pts.length
    ? `${pts.length} samples from ${formatTime(new Date(pts[0].t).toISOString())} to ${formatTime(new Date(pts[pts.length - 1].t).toISOString())}; ` +
      `peak ${formatNumber(peak)} ${valueLabel.toLowerCase()}, mean utilisation ${formatNumber(mean * 100)}%.`
    : 'No data in this period.';
  if (pts.length < 1) return figure({ title, description, graphic: el('p', { class: 'muted' }, 'No data in this period.'), table: el('p', {}, 'No data.') });
  const W = 1000;
  const H = 260;
  const m = { l: 44, r: 12, t: 30, b: 30 };
  const t0 = pts[0].t;
  const t1 = pts.length > 1 ? pts[pts.length - 1].t : t0 + 1;
  const yMax = Math.max(1, ...pts.map((p) => Math.max(p.v, p.total ?? 0)));
  const x = (t) => m.l + ((t - t0) / (t1 - t0)) * (W - m.l - m.r);
  const y = (v) => H - m.b - (v / yMax) * (H - m.t - m.b);
  const root = svgRoot(W, H, title, description);
  const axis = svg('g', { class: 'axis' });
  for (const v of ticks(yMax)) {
    axis.append(svg('line', { x1: m.l, x2: W - m.r, y1: y(v), y2: y(v), class: 'grid' }),
      svg('text', { x: m.l - 6, y: y(v), 'text-anchor': 'end', 'dominant-baseline': 'middle' }, formatNumber(v)));
  }
  const span = t1 - t0;
  for (let i = 0; i <= 4; i++) {
    const t = t0 + (span * i) / 4;
    const d = new Date(t);
    const label = span > 2 * 86400_000 ? `${d.getMonth() + 1}/${d.getDate()}` : `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
    axis.append(svg('text', { x: x(t), y: H - m.b + 16, 'text-anchor': i === 0 ? 'start' : i === 4 ? 'end' : 'middle' }, label));
  }
  axis.append(svg('line', { x1: m.l, x2: W - m.r, y1: y(0), y2: y(0), class: 'baseline' }));
  // Step series: a sample holds until the next one.
  const rest = (get) => pts.slice(1).map((p) => `H${x(p.t).toFixed(1)}V${y(get(p)).toFixed(1)}`).join('') + `H${x(t1).toFixed(1)}`;
  const line = (get) => `M${x(t0).toFixed(1)},${y(get(pts[0])).toFixed(1)}${rest(get)}`;
  const area = `M${x(t0).toFixed(1)},${y(0)}V${y(pts[0].v).toFixed(1)}${rest((p) => p.v)}V${y(0)}Z`;
  root.append(axis,
    svg('path', { d: area, class: 'area' }),
    svg('path', { d: line((p) => p.v), class: 'line' }),
    pts.some((p) => p.total !== undefined) ? svg('path', { d: line((p) => p.total ?? 0), class: 'total' }) : '',
    svg('g', { class: 'chart-legend', transform: `translate(${m.l},4)` },
      svg('rect', { width: 12, height: 12, class: 'area' }), svg('text', { x: 18, y: 10 }, valueLabel),
      svg('line', { x1: 110, x2: 130, y1: 6, y2: 6, class: 'total' }), svg('text', { x: 136, y: 10 }, totalLabel)));
  const rows = pts.map((p) => [formatTime(new Date(p.t).toISOString()), formatNumber(p.v), p.total === undefined ? '' : formatNumber(p.total)]);
  return figure({ title, description, graphic: root, table: dataTable(['Time', valueLabel, totalLabel], rows) });
}

function ticks(max) {
  const raw = max / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const stepSize = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? raw;
  const out = [];
  for (let v = 0; v <= max + 1e-9; v += stepSize) out.push(Math.round(v * 100) / 100);
  return out;
}

const SERIES_COLOURS = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#bc4c00', '#1b7c83', '#bf3989', '#6e7781'];
/** The colour of series i (a rank keeps its colour on every chart of the page). */
export const seriesColour = (i) => SERIES_COLOURS[i % SERIES_COLOURS.length];
/** Points drawn per series: a longer series is thinned evenly for the line (its table has all). */
const MAX_DRAWN = 1000;
/** Rows of a chart's table: the last ones, and it says how many it leaves out. */
const MAX_ROWS = 500;

/**
 * lineChart({ title, series: [{ label, colour, points: [{ x, y }] }], xLabel, yLabel }) — one
 * line per series against a numeric x (a training step), a legend, and the numbers as a table.
 */
export function lineChart({ title, series, xLabel = 'x', yLabel = 'y' }) {
  const all = series.flatMap((s) => s.points);
  const description = all.length
    ? series.map((s) => `${s.label}: ${s.points.length} points, last ${formatNumber(s.points.at(-1)?.y ?? 0, 4)} at ${xLabel} ${s.points.at(-1)?.x ?? ''}`).join('; ')
    : 'No data yet.';
  if (!all.length) return figure({ title, description, graphic: el('p', { class: 'muted' }, 'No data yet.'), table: el('p', {}, 'No data.') });
  // drawn at about the size it is shown (two charts side by side): its text stays readable
  const W = 640;
  const H = 240;
  const m = { l: 52, r: 12, t: 30, b: 30 };
  const [x0, x1] = [Math.min(...all.map((p) => p.x)), Math.max(...all.map((p) => p.x))];
  const [y0, y1] = [Math.min(0, ...all.map((p) => p.y)), Math.max(...all.map((p) => p.y))];
  const x = (v) => m.l + ((v - x0) / (x1 - x0 || 1)) * (W - m.l - m.r);
  const y = (v) => H - m.b - ((v - y0) / (y1 - y0 || 1)) * (H - m.t - m.b);
  const root = svgRoot(W, H, title, description);
  const axis = svg('g', { class: 'axis' });
  for (const v of ticks(y1 - y0 || 1)) {
    axis.append(svg('line', { x1: m.l, x2: W - m.r, y1: y(y0 + v), y2: y(y0 + v), class: 'grid' }),
      svg('text', { x: m.l - 6, y: y(y0 + v), 'text-anchor': 'end', 'dominant-baseline': 'middle' }, formatNumber(y0 + v, 3)));
  }
  for (let i = 0; i <= 4; i++) {
    const v = x0 + ((x1 - x0) * i) / 4;
    axis.append(svg('text', { x: x(v), y: H - m.b + 16, 'text-anchor': i === 0 ? 'start' : i === 4 ? 'end' : 'middle' }, formatNumber(v, 0)));
  }
  root.append(axis);
  const legend = svg('g', { class: 'chart-legend', transform: `translate(${m.l},4)` });
  series.forEach((s, i) => {
    const drawn = thin(s.points);
    const d = drawn.map((p, j) => `${j ? 'L' : 'M'}${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join('');
    root.append(svg('path', { d: drawn.length > 1 ? d : `${d}h0.01`, class: 'series', stroke: s.colour, 'data-series': s.label }));
    legend.append(svg('line', { x1: i * 90, x2: i * 90 + 20, y1: 6, y2: 6, stroke: s.colour, class: 'series' }), svg('text', { x: i * 90 + 26, y: 10 }, truncate(s.label, 12)));
  });
  root.append(legend);
  const rows = series.flatMap((s) => s.points.map((p) => [s.label, String(p.x), formatNumber(p.y, 4)]));
  const shown = rows.slice(-MAX_ROWS);
  const table = el('div', {},
    rows.length > shown.length ? el('p', { class: 'muted' }, `The last ${shown.length} of ${rows.length} points.`) : '',
    dataTable(['Series', xLabel, yLabel], shown));
  return figure({ title, description, graphic: root, table });
}

function thin(points) {
  if (points.length <= MAX_DRAWN) return points;
  const every = points.length / MAX_DRAWN;
  const out = [];
  for (let i = 0; i < MAX_DRAWN; i++) out.push(points[Math.floor(i * every)]);
  out.push(points.at(-1));
  return out;
}
