// One job: its summary (scontrol show job), cancel, the timeline of its events, its nodes,
// its generated COMPSs files (collapsible, as text) and its log (components/log-view.js).
import { API, getBlob, getJSON, getText, del } from '../api.js';
import { el, setText, statusLine, STATE_CODES, isFinal, isCancellable, elapsedSeconds, formatDuration, formatTimeLimit, formatTime, formatMiB } from '../util.js';
import { LogPanel } from '../components/log-view.js';
import { startLogFeed } from '../components/log-feed.js';
import { MetricCharts } from '../components/metric-charts.js';

const POLL_MS = 2000;

export async function mountJob(root, { params }) {
  const id = Number(params.id);
  let job = await getJSON(`/jobs/${id}`);
  let stopped = false;
  let timer = null;
  let lastJson = '';

  const heading = el('h2', {}, '');
  const summary = el('dl', { class: 'summary' });
  const cancelButton = el('button', { type: 'button', class: 'danger' }, 'Cancel job…');
  const status = statusLine('');
  const events = el('div', { class: 'table-wrap' });
  const nodes = el('div', { class: 'table-wrap' });
  const files = el('div', { class: 'files' }, ['project.xml', 'resources.xml'].map((f) => xmlFile(id, f)));

  const dialog = confirmDialog(id, async () => {
    cancelButton.disabled = true;
    try {
      await del(`/jobs/${id}`);
      setText(status, `Job ${id} cancelled.`);
      await refresh();
    } catch (e) {
      setText(status, `Could not cancel job ${id}: ${e.message}`);
      cancelButton.disabled = false;
    }
  });
  cancelButton.addEventListener('click', () => dialog.showModal());

  const metrics = new MetricCharts(id);
  const log = new LogPanel({ jobId: id, downloadHref: `${API}/jobs/${id}/logs.txt` });
  const stopFeed = startLogFeed(id, {
    onLines: (lines) => log.append(lines),
    onState: (state, mode) => log.setState(state, mode),
    onError: (message) => setText(log.info, `Could not load the log: ${message}. Retrying…`),
  });

  root.append(
    el('div', { class: 'page-head' }, heading, cancelButton),
    status,
    el('section', { 'aria-labelledby': 'summary-h' }, el('h3', { id: 'summary-h', class: 'visually-hidden' }, 'Summary'), summary),
    el('div', { class: 'columns' },
      el('section', { 'aria-labelledby': 'events-h' }, el('h3', { id: 'events-h' }, 'Timeline'), events),
      el('section', { 'aria-labelledby': 'nodes-h' }, el('h3', { id: 'nodes-h' }, 'Allocated nodes'), nodes)),
    metrics.element,
    el('section', { 'aria-labelledby': 'files-h' }, el('h3', { id: 'files-h' }, 'Generated files'), files),
    log.element,
    dialog);

  function render() {
    const json = JSON.stringify(job);
    if (json === lastJson) { updateElapsed(); return; }
    lastJson = json;
    setText(heading, `Job ${job.display_id ?? job.job_id}: ${job.name}`);
    cancelButton.hidden = !isCancellable(job.job_state);
    const exit = job.exit_code === null ? '—' : `${job.exit_code}${job.exit_signal ? ` (signal ${job.exit_signal})` : ''}`;
    const stateBadge = el('span', { class: `badge state-${job.job_state}` }, `${job.job_state} (${STATE_CODES[job.job_state] ?? '?'})`);
    const fields = [
      ['State', stateBadge], ['Reason', job.state_reason || 'None'], ['User', job.user_name], ['Partition', job.partition],
      ['Nodes', `${job.node_count || job.request?.minimum_nodes || 1}${job.nodes ? ` — ${job.nodes}` : ''}`],
      ['Submitted', formatTime(job.submit_time)], ['Started', job.start_time || !job.expected_start ? formatTime(job.start_time) : `expected ${formatTime(job.expected_start)} (squeue --start)`], ['Ended', formatTime(job.end_time)],
      ['Elapsed', el('span', { 'data-elapsed': '' }, formatDuration(elapsedSeconds(job)))], ['Time limit', formatTimeLimit(job.time_limit)],
      ['Exit code', exit], ['Runtime', job.runtime], ['Backend id', job.backend_id ?? '—'],
      ['Command', job.command_line ? job.command_line.join(' ') : '—'],
    ];
    summary.replaceChildren(...fields.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
    events.replaceChildren(timeline(job));
    nodes.replaceChildren(nodeTable(job.allocation));
    for (const d of files.querySelectorAll('details')) if (d.open && !d.dataset.loaded) d.dispatchEvent(new Event('toggle'));
  }

  function updateElapsed() {
    const e = summary.querySelector('[data-elapsed]');
    if (e) setText(e, formatDuration(elapsedSeconds(job)));
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      job = await getJSON(`/jobs/${id}`);
      if (stopped) return;
      render();
      // after the job: its state read first, so a job seen ended has all its points stored
      await metrics.update();
    } catch (e) {
      if (!stopped) setText(status, `Could not refresh the job: ${e.message}`);
    }
    if (!stopped && !isFinal(job.job_state)) timer = setTimeout(refresh, POLL_MS);
  }

  render();
  metrics.update().catch((e) => setText(status, `Could not load the training metrics: ${e.message}`));
  if (!isFinal(job.job_state)) timer = setTimeout(refresh, POLL_MS);
  return () => { stopped = true; clearTimeout(timer); stopFeed(); log.destroy(); };
}

function timeline(job) {
  if (!job.events.length) return el('p', {}, 'No event yet.');
  const t0 = Date.parse(job.events[0].time);
  return el('table', { class: 'data timeline' },
    el('caption', { class: 'visually-hidden' }, `State changes of job ${job.job_id}`),
    el('thead', {}, el('tr', {}, ['Time', '+', 'Change', 'Reason', 'By'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, job.events.map((e) => el('tr', {},
      el('td', {}, formatTime(e.time)),
      el('td', { class: 'num' }, `+${formatDuration((Date.parse(e.time) - t0) / 1000)}`),
      el('td', {}, e.to_state
        ? [e.from_state ? el('span', { class: `state-${e.from_state}` }, e.from_state) : '', e.from_state ? ' → ' : '', el('span', { class: `state-${e.to_state}` }, e.to_state)]
        : '—'),
      el('td', {}, e.reason),
      el('td', {}, e.actor)))));
}

function nodeTable(allocation) {
  if (!allocation) return el('p', {}, 'No nodes allocated (yet).');
  return el('div', {},
    el('p', { class: 'muted' }, `${allocation.backend} allocation ${allocation.backend_id} on ${allocation.partition}: ${allocation.nodes}; granted ${formatTime(allocation.granted_time)}${allocation.released_time ? `, released ${formatTime(allocation.released_time)}` : ''}.`),
    el('table', { class: 'data' },
      el('thead', {}, el('tr', {}, ['Node', 'CPUs', 'Memory', 'GPUs'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, allocation.node_list.map((n) => el('tr', {},
        el('th', { scope: 'row' }, n.name), el('td', { class: 'num' }, n.cpus), el('td', { class: 'num' }, formatMiB(n.memory_mib)), el('td', { class: 'num' }, n.gpus))))));
}

/** A collapsible file, fetched when first opened and shown as escaped text. */
function xmlFile(id, name) {
  const pre = el('pre', { class: 'xml', tabindex: '0', 'aria-label': name }, 'Loading…');
  // a plain link would go without the token: the file is fetched, then opened as a blob
  const raw = el('a', { href: `${API}/jobs/${id}/files/${name}`, target: '_blank', rel: 'noopener', onclick: (e) => { e.preventDefault(); openRaw(id, name); } }, 'raw');
  const details = el('details', {}, el('summary', {}, name, ' ', raw), pre);
  details.addEventListener('toggle', async () => {
    if (!details.open || details.dataset.loaded) return;
    try {
      pre.textContent = await getText(`/jobs/${id}/files/${name}`);
      details.dataset.loaded = '1';
    } catch (e) {
      pre.textContent = e.status === 404 || e.status === 400 ? `Not written yet: ${e.message}` : `Could not load ${name}: ${e.message}`;
    }
  });
  return details;
}

async function openRaw(id, name) {
  const blob = await getBlob(`/jobs/${id}/files/${name}`).catch(() => null);
  if (!blob) return;
  const url = URL.createObjectURL(new Blob([blob], { type: 'text/plain; charset=utf-8' }));
  window.open(url, '_blank', 'noopener');
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function confirmDialog(id, onConfirm) {
  const dialog = el('dialog', { 'aria-labelledby': 'cancel-h', 'aria-describedby': 'cancel-d' },
    el('h3', { id: 'cancel-h' }, `Cancel job ${id}?`),
    el('p', { id: 'cancel-d' }, 'Its master gets SIGTERM, then SIGKILL; its nodes are released. This cannot be undone.'),
    el('form', { method: 'dialog', class: 'dialog-actions' },
      el('button', { value: 'keep', class: 'secondary', autofocus: true }, 'Keep it running'),
      el('button', { value: 'cancel', class: 'danger' }, 'Cancel the job')));
  dialog.addEventListener('close', () => { if (dialog.returnValue === 'cancel') onConfirm(); dialog.returnValue = ''; });
  return dialog;
}
