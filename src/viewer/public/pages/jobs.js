// Jobs: squeue's table with filters, every job of the filter in one scrolling list, newest
// first. The list is virtualised (only the rows in view are in the DOM) and read from the API
// a page at a time as the user scrolls to it; placeholder rows stand for rows not read yet.
// Every 2 s the newest rows and the rows in view are read again in place (rows are updated,
// not rebuilt, so focus, scroll and the filters survive). Rows are one tab stop: Tab enters
// the table, the arrow keys, Page Up/Down, Home and End move between rows, Enter opens a job.
import { getJSON } from '../api.js';
import { parseHash, replaceQuery } from '../router.js';
import { el, setText, debounce, statusLine, formatNumber, STATE_CODES, JOB_STATES, ACTIVE_STATES, elapsedSeconds, formatDuration, formatTime } from '../util.js';
import { JobPages, indexOfId } from '../components/job-pages.js';
import { VirtualTable } from '../components/virtual-table.js';

const POLL_MS = 2000;
const ROW_HEIGHT = 28; // px; matches --job-row-h in viewer.css
const HEAD_ROWS = 50; // the newest rows read again at each poll: new jobs, and the count
const COLUMNS = [
  ['JOBID', 'Job id'], ['PARTITION', 'Partition'], ['NAME', 'Name'], ['USER', 'User'], ['ST', 'State'],
  ['TIME', 'Elapsed time'], ['NODES', 'Node count'], ['NODELIST(REASON)', 'Nodes, or the reason it waits'], ['EXIT', 'Exit code'],
];

export async function mountJobs(root) {
  const q = parseHash().query;
  const page = new JobsPage(root, { state: q.get('state') ?? '', user: q.get('user') ?? '', partition: q.get('partition') ?? '', text: q.get('q') ?? '' });
  await page.setFilter();
  return () => page.stop();
}

class JobsPage {
  constructor(root, initial) {
    this.ui = filterForm(initial);
    this.timer = null;
    this.stopped = false;
    this.loading = false; // a read for the rows in view is on its way
    this.updated = ''; // the time of the last poll answered
    this.failure = '';
    this.pages = null; // the JobPages of the current filter
    // Under the free text search the list is the matching rows among those read (every page
    // is read then, to count them); otherwise it is the rows read, then placeholders.
    this.matches = null;

    const table = el('table', { class: 'jobs data', 'aria-describedby': 'jobs-status' },
      el('caption', { class: 'visually-hidden' }, 'Jobs, newest first. Use the arrow keys to move between rows and Enter to open a job.'),
      el('colgroup', {}, COLUMNS.map(([h]) => el('col', { class: `col-${h.replace(/\W.*/, '').toLowerCase()}` }))),
      el('thead', {}, el('tr', { 'aria-rowindex': '1' }, COLUMNS.map(([h, title]) => el('th', { scope: 'col', title }, h)))),
      el('tbody'));
    this.status = statusLine('Loading…');
    this.status.id = 'jobs-status';
    this.empty = el('p', { class: 'empty', hidden: true }, 'No job matches these filters.');
    const viewport = el('div', { class: 'jobs-viewport' }, table);
    root.append(el('h2', {}, 'Jobs'), this.ui.form, this.status, viewport, this.empty);
    this.vt = new VirtualTable({ viewport, table, rowHeight: ROW_HEIGHT, overscan: 15, columns: COLUMNS.length, source: this.source() });
    table.tBodies[0].addEventListener('click', (e) => {
      const tr = e.target.closest('tr[data-job-id]');
      if (tr && !e.target.closest('a')) location.hash = `#/jobs/${tr.dataset.jobId}`;
    });
    this.ui.onChange(() => this.setFilter(), () => this.setSearch());
  }

  /** The rows as the virtual table sees them. */
  source() {
    const list = () => this.matches ?? this.pages.rows;
    const count = () => (this.matches ? this.matches.length : this.pages.count);
    return {
      count,
      keyOf: (i) => (i < list().length ? String(list()[i].job_id) : `p${i}`),
      indexOfKey: (key) => (key.startsWith('p') ? (Number(key.slice(1)) < count() ? Number(key.slice(1)) : -1) : indexOfId(list(), Number(key))),
      create: createRow,
      fill: (tr, i) => (i < list().length ? fillRow(tr, list()[i], Date.now()) : fillPlaceholder(tr)),
      open: (i) => { if (i < list().length) location.hash = `#/jobs/${list()[i].job_id}`; },
      onRange: () => this.loadMore(),
    };
  }

  get text() { return this.ui.text.value.trim().toLowerCase(); }

  /** A new filter is a new list: the old one is dropped, late answers and all. */
  setFilter() {
    this.pages?.close();
    const { state, user, partition } = this.ui.values();
    this.pages = new JobPages({ state, user, partition }, () => this.onData());
    this.matches = this.text ? [] : null;
    this.updated = '';
    this.failure = '';
    replaceQuery(this.ui.values());
    this.vt.reset();
    return this.poll();
  }

  setSearch() {
    replaceQuery(this.ui.values());
    this.onData();
    this.vt.reset();
    this.loadMore();
  }

  onData() {
    const t = this.text;
    this.matches = t ? this.pages.rows.filter((j) => matchesText(j, t)) : null;
    this.vt.schedule();
    this.showStatus();
  }

  /** Reads the next page while the rows in view (all of them, under a text search) are not read. */
  loadMore() {
    const p = this.pages;
    const need = this.matches ? Infinity : this.vt.visible()[1] + this.vt.overscan;
    if (this.loading || this.stopped || p.done || need < p.rows.length) return;
    this.loading = true;
    this.showStatus();
    let failed = false;
    p.loadTo(need)
      .then(() => { if (p === this.pages) this.failure = ''; }, (e) => { failed = true; if (p === this.pages) this.failure = e.message; })
      .finally(() => {
        this.loading = false;
        if (this.stopped) return;
        this.showStatus();
        if (!failed) this.loadMore(); // after a failure, the next poll tries again
      });
  }

  /** Reads the newest rows and the rows in view again, then waits and does it again. */
  async poll() {
    clearTimeout(this.timer);
    const p = this.pages;
    const [first, last] = this.vt.visible();
    const lo = Math.max(0, first - this.vt.overscan);
    const hi = last + this.vt.overscan;
    try {
      if (!p.rows.length) await p.loadTo(hi);
      else if (this.matches) {
        await p.refresh(0, HEAD_ROWS - 1);
        await p.refreshIds(this.matches.slice(lo, hi + 1).map((j) => j.job_id));
      } else if (lo <= HEAD_ROWS) await p.refresh(0, Math.max(hi, HEAD_ROWS - 1));
      else await Promise.all([p.refresh(0, HEAD_ROWS - 1), p.refresh(lo, hi)]);
      this.updated = formatTime(new Date().toISOString()).slice(11);
      this.failure = '';
    } catch (e) {
      this.failure = e.message;
    }
    if (this.stopped || p !== this.pages) return; // the new list polls on its own
    this.showStatus();
    this.loadMore();
    this.timer = setTimeout(() => this.poll(), POLL_MS);
  }

  showStatus() {
    const { pages, matches, status } = this;
    this.empty.hidden = pages.total === null || (matches ? matches.length > 0 || !pages.done : pages.count > 0);
    status.classList.toggle('error', this.failure !== '');
    if (this.failure) { setText(status, `Could not load the jobs: ${this.failure}. Retrying…`); return; }
    if (pages.total === null) return;
    const n = pages.count;
    const jobs = `${formatNumber(n)} job${n === 1 ? '' : 's'}`;
    const older = `older jobs (the newest ${formatNumber(pages.rows.length)} read)…`;
    const parts = matches
      ? [`${formatNumber(matches.length)} of ${jobs} match “${this.ui.text.value.trim()}”.`, pages.done ? '' : `Searching ${older}`]
      : [`${jobs}, newest first.`, this.loading && !pages.done ? `Reading ${older}` : ''];
    if (this.updated) parts.push(`Updated ${this.updated}.`);
    setText(status, parts.filter(Boolean).join(' '));
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.pages.close();
    this.vt.destroy();
  }
}

function matchesText(j, t) {
  const id = String(j.job_id);
  return id === t || id.startsWith(t) || String(j.display_id ?? '').startsWith(t) || j.name.toLowerCase().includes(t);
}

function createRow() {
  const link = el('a', { href: '#', tabindex: '-1' });
  return el('tr', { tabindex: '-1' }, COLUMNS.map((_, i) => el('td', {}, i === 0 ? link : '')));
}

function fillRow(tr, j, now) {
  const cells = tr.cells;
  const waiting = j.job_state === 'PENDING' || (j.job_state === 'ALLOCATING' && !j.nodes);
  const exit = j.exit_code === null || j.exit_code === undefined ? '' : `${j.exit_code}${j.exit_signal ? ` (${j.exit_signal})` : ''}`;
  const values = [null, j.partition, j.name, j.user_name, STATE_CODES[j.job_state] ?? j.job_state,
    formatDuration(elapsedSeconds(j, now)), j.node_count, waiting ? `(${j.state_reason})` : (j.nodes ?? ''), exit];
  values.forEach((v, i) => { if (v !== null) setText(cells[i], v); });
  tr.classList.remove('placeholder');
  tr.removeAttribute('aria-busy');
  tr.dataset.jobId = String(j.job_id);
  const link = cells[0].firstChild;
  link.href = `#/jobs/${j.job_id}`;
  // an array's record shows its tasks not started yet, 12_[3-9%2], and changes as they start
  setText(link, j.display_id ?? String(j.job_id));
  cells[4].className = `state state-${j.job_state}`;
  cells[4].title = j.job_state;
  cells[2].title = j.name;
}

/** A row not read yet: it is fetched (with the rows before it) and filled in place. */
function fillPlaceholder(tr) {
  const cells = tr.cells;
  for (let i = 1; i < cells.length; i++) setText(cells[i], i === 2 ? 'loading…' : '');
  tr.classList.add('placeholder');
  tr.setAttribute('aria-busy', 'true');
  delete tr.dataset.jobId;
  const link = cells[0].firstChild;
  link.removeAttribute('href');
  setText(link, '…');
  cells[4].className = '';
  cells[4].title = cells[2].title = '';
}

/** The filters: labelled controls whose values live in the address too. */
function filterForm(initial) {
  const state = el('select', { id: 'f-state', name: 'state' },
    el('option', { value: '' }, 'All states'),
    el('option', { value: ACTIVE_STATES.join(',') }, 'Active (PD, CF, R, CG)'),
    JOB_STATES.map((s) => el('option', { value: s }, `${s} (${STATE_CODES[s]})`)));
  state.value = initial.state;
  const user = el('input', { id: 'f-user', name: 'user', type: 'text', autocomplete: 'off', spellcheck: 'false', value: initial.user });
  const partition = el('select', { id: 'f-partition', name: 'partition' }, el('option', { value: '' }, 'All partitions'),
    initial.partition ? el('option', { value: initial.partition }, initial.partition) : null);
  partition.value = initial.partition;
  const text = el('input', { id: 'f-text', name: 'q', type: 'search', autocomplete: 'off', placeholder: 'name or id', value: initial.text });
  let onFilter = () => {};
  const form = el('form', { class: 'filters', role: 'search', 'aria-label': 'Filter jobs', onsubmit: (e) => e.preventDefault() },
    el('div', {}, el('label', { for: 'f-state' }, 'State'), state),
    el('div', {}, el('label', { for: 'f-user' }, 'User'), user),
    el('div', {}, el('label', { for: 'f-partition' }, 'Partition'), partition),
    el('div', {}, el('label', { for: 'f-text' }, 'Search'), text),
    el('button', { type: 'button', class: 'secondary', onclick: () => {
      state.value = ''; user.value = ''; partition.value = ''; text.value = ''; onFilter();
    } }, 'Clear filters'));
  getJSON('/partitions').then(({ partitions }) => {
    for (const p of partitions) if (p.name !== initial.partition) partition.append(el('option', { value: p.name }, `${p.name}${p.default ? ' (default)' : ''}`));
  }).catch(() => { /* the filter stays usable with "All partitions" */ });
  return {
    form, state, user, partition, text,
    values: () => ({ state: state.value, user: user.value.trim(), partition: partition.value, q: text.value.trim() }),
    /** filter: the daemon must list again; search: the free text, applied to the rows read. */
    onChange(filter, search) {
      onFilter = filter;
      state.addEventListener('change', filter);
      partition.addEventListener('change', filter);
      user.addEventListener('input', debounce(filter, 300));
      text.addEventListener('input', search);
    },
  };
}
