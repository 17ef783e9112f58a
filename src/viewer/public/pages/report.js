// The usage report of a period (last 24 h / 7 d / 30 d / custom): jobs by final state,
// node-hours by user and by partition, the most common failure reasons, utilisation over time.
// From GET /api/v1/report; on a daemon without it (404), computed here from the job list.
import { getJSON, query, ApiError } from '../api.js';
import { parseHash, replaceQuery } from '../router.js';
import { el, setText, statusLine, formatNumber, formatTime, JOB_STATES } from '../util.js';
import { barChart, areaChart } from '../charts.js';
import { localReport } from './report-local.js';

const RANGES = [['24h', 'Last 24 hours', 24], ['7d', 'Last 7 days', 24 * 7], ['30d', 'Last 30 days', 24 * 30], ['custom', 'Custom', 0]];
const toLocalInput = (ms) => {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
};

export async function mountReport(root) {
  const q = parseHash().query;
  let range = RANGES.some(([k]) => k === q.get('range')) ? q.get('range') : '24h';
  let loadId = 0;
  const sinceInput = el('input', { type: 'datetime-local', id: 'r-since', value: q.get('since') ?? toLocalInput(Date.now() - 7 * 86400_000) });
  const untilInput = el('input', { type: 'datetime-local', id: 'r-until', value: q.get('until') ?? toLocalInput(Date.now()) });
  const custom = el('div', { class: 'custom-range', hidden: range !== 'custom' },
    el('label', { for: 'r-since' }, 'From'), sinceInput, el('label', { for: 'r-until' }, 'To'), untilInput,
    el('button', { type: 'submit' }, 'Show'));
  const radios = RANGES.map(([key, label]) => {
    const input = el('input', { type: 'radio', name: 'range', id: `r-${key}`, value: key, checked: key === range });
    input.addEventListener('change', () => {
      range = key;
      custom.hidden = key !== 'custom';
      if (key !== 'custom') load();
    });
    return el('span', { class: 'radio' }, input, el('label', { for: `r-${key}` }, label));
  });
  const form = el('form', { class: 'period', onsubmit: (e) => { e.preventDefault(); load(); } },
    el('fieldset', {}, el('legend', {}, 'Period'), radios, custom));
  const status = statusLine('Loading…');
  const body = el('div', { class: 'report-body' });
  root.append(el('h2', {}, 'Report'), form, status, body);

  function period() {
    if (range === 'custom') {
      const s = Date.parse(sinceInput.value);
      const u = Date.parse(untilInput.value);
      if (!Number.isFinite(s) || !Number.isFinite(u) || s >= u) return null;
      return { since: new Date(s).toISOString(), until: new Date(u).toISOString() };
    }
    const hours = RANGES.find(([k]) => k === range)[2];
    const until = Date.now();
    return { since: new Date(until - hours * 3600_000).toISOString(), until: new Date(until).toISOString() };
  }

  async function load() {
    const p = period();
    replaceQuery(range === 'custom' ? { range, since: sinceInput.value, until: untilInput.value } : { range });
    if (!p) { status.classList.add('error'); setText(status, 'Choose a start before the end.'); return; }
    const id = ++loadId;
    status.classList.remove('error');
    setText(status, 'Loading…');
    let report;
    let source = 'GET /api/v1/report';
    try {
      report = await getJSON(`/report${query(p)}`);
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 404) {
        if (id === loadId) { status.classList.add('error'); setText(status, `Could not load the report: ${e.message}`); }
        return;
      }
      source = 'the job list (this daemon has no /api/v1/report: computed in the browser, approximate)';
      report = await localReport(p.since, p.until);
    }
    if (id !== loadId) return;
    body.dataset.source = source.startsWith('GET') ? 'api' : 'local';
    render(report);
    setText(status, `${formatTime(report.since ?? p.since)} to ${formatTime(report.until ?? p.until)}, from ${source}.`);
  }

  function render(r) {
    const states = Object.entries(r.jobs_by_state ?? {}).filter(([, n]) => n > 0)
      .sort(([a], [b]) => JOB_STATES.indexOf(a) - JOB_STATES.indexOf(b));
    const total = states.reduce((s, [, n]) => s + n, 0);
    const hoursEntries = (obj) => Object.entries(obj ?? {}).sort(([, a], [, b]) => b - a).map(([label, value]) => ({ label, value }));
    const users = hoursEntries(r.node_hours_by_user);
    const parts = hoursEntries(r.node_hours_by_partition);
    const nodeHours = users.reduce((s, d) => s + d.value, 0);
    const failed = states.filter(([s]) => s !== 'COMPLETED').reduce((s, [, n]) => s + n, 0);
    const util = r.utilisation ?? [];
    const meanUtil = util.length ? util.reduce((s, p) => s + (p.nodes_total ? p.nodes_busy / p.nodes_total : 0), 0) / util.length : 0;
    const hours = (v) => `${formatNumber(v, v < 10 ? 2 : 1)} h`;
    body.replaceChildren(
      el('ul', { class: 'kpis', 'aria-label': 'In short' },
        kpi('Jobs ended', formatNumber(total)),
        kpi('Not completed', `${formatNumber(failed)}${total ? ` (${formatNumber((100 * failed) / total)}%)` : ''}`),
        kpi('Node-hours', hours(nodeHours)),
        kpi('Mean utilisation', `${formatNumber(meanUtil * 100)}%`)),
      el('section', { class: 'wide', 'aria-label': 'Utilisation' },
        areaChart({ title: 'Nodes busy over time', valueLabel: 'Nodes busy', totalLabel: 'Nodes in total',
          points: util.map((p) => ({ time: p.time, value: p.nodes_busy, total: p.nodes_total })) })),
      el('div', { class: 'chart-grid' },
        barChart({ title: 'Jobs by final state', valueLabel: 'Jobs', format: (v) => formatNumber(v),
          data: states.map(([label, value]) => ({ label, value, className: `state-${label}` })) }),
        barChart({ title: 'Node-hours by user', valueLabel: 'Node-hours', format: hours, data: users }),
        barChart({ title: 'Node-hours by partition', valueLabel: 'Node-hours', format: hours, data: parts }),
        failures(r.failure_reasons ?? [])));
  }

  load();
  return () => { loadId++; };
}

const kpi = (label, value) => el('li', {}, el('span', { class: 'kpi-value' }, value), el('span', { class: 'kpi-label' }, label));

function failures(list) {
  const top = [...list].sort((a, b) => b.count - a.count).slice(0, 10);
  const max = Math.max(1, ...top.map((f) => f.count));
  return el('section', { class: 'chart failures', 'aria-labelledby': 'fail-h' },
    el('h3', { id: 'fail-h', class: 'figcaption' }, 'Most common failure reasons'),
    top.length
      ? el('table', { class: 'data compact' },
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Reason'), el('th', { scope: 'col' }, 'Jobs'))),
        el('tbody', {}, top.map((f) => el('tr', {},
          el('td', {}, f.reason),
          el('td', { class: 'num bar-cell' }, el('span', { class: 'inline-bar', style: `width:${(100 * f.count) / max}%`, 'aria-hidden': 'true' }), formatNumber(f.count))))))
      : el('p', { class: 'muted' }, 'No failure in this period.'));
}
