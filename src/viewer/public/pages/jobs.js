// Jobs: squeue's table with filters, refreshed every 2 s in place (rows are updated, not
// rebuilt, so focus, scroll and the filters survive each refresh). Rows are one tab stop:
// Tab enters the table, arrow keys move between rows, Enter opens the job.
import { getJSON, query } from '../api.js';
import { parseHash, replaceQuery } from '../router.js';
import { el, setText, debounce, statusLine, STATE_CODES, JOB_STATES, ACTIVE_STATES, elapsedSeconds, formatDuration, formatTime } from '../util.js';

const POLL_MS = 2000;
const COLUMNS = [
  ['JOBID', 'Job id'], ['PARTITION', 'Partition'], ['NAME', 'Name'], ['USER', 'User'], ['ST', 'State'],
  ['TIME', 'Elapsed time'], ['NODES', 'Node count'], ['NODELIST(REASON)', 'Nodes, or the reason it waits'], ['EXIT', 'Exit code'],
];

export async function mountJobs(root) {
  const q = parseHash().query;
  const filters = { state: q.get('state') ?? '', user: q.get('user') ?? '', partition: q.get('partition') ?? '', text: q.get('q') ?? '' };
  let timer = null;
  let stopped = false;
  let lastJobs = [];
  let lastTotal = 0;

  const stateSelect = el('select', { id: 'f-state', name: 'state' },
    el('option', { value: '' }, 'All states'),
    el('option', { value: ACTIVE_STATES.join(',') }, 'Active (PD, CF, R, CG)'),
    JOB_STATES.map((s) => el('option', { value: s }, `${s} (${STATE_CODES[s]})`)));
  stateSelect.value = filters.state;
  const userInput = el('input', { id: 'f-user', name: 'user', type: 'text', autocomplete: 'off', spellcheck: 'false', value: filters.user });
  const partitionSelect = el('select', { id: 'f-partition', name: 'partition' }, el('option', { value: '' }, 'All partitions'),
    filters.partition ? el('option', { value: filters.partition }, filters.partition) : null);
  partitionSelect.value = filters.partition;
  const textInput = el('input', { id: 'f-text', name: 'q', type: 'search', autocomplete: 'off', placeholder: 'name or id', value: filters.text });
  const form = el('form', { class: 'filters', role: 'search', 'aria-label': 'Filter jobs', onsubmit: (e) => e.preventDefault() },
    el('div', {}, el('label', { for: 'f-state' }, 'State'), stateSelect),
    el('div', {}, el('label', { for: 'f-user' }, 'User'), userInput),
    el('div', {}, el('label', { for: 'f-partition' }, 'Partition'), partitionSelect),
    el('div', {}, el('label', { for: 'f-text' }, 'Search'), textInput),
    el('button', { type: 'button', class: 'secondary', onclick: () => {
      stateSelect.value = ''; userInput.value = ''; partitionSelect.value = ''; textInput.value = ''; onFilter();
    } }, 'Clear filters'));

  const tbody = el('tbody');
  const caption = el('caption', { class: 'visually-hidden' }, 'Jobs, newest first. Use the arrow keys to move between rows and Enter to open a job.');
  const table = el('table', { class: 'jobs data', 'aria-describedby': 'jobs-status' },
    caption,
    el('thead', {}, el('tr', {}, COLUMNS.map(([h, title]) => el('th', { scope: 'col', title }, h)))),
    tbody);
  const status = statusLine('Loading…');
  status.id = 'jobs-status';
  const empty = el('p', { class: 'empty', hidden: true }, 'No job matches these filters.');
  // The newest jobs first, a page at a time: the status says how many of how many are loaded,
  // and "Show more" loads the next page (nothing is left out without saying so).
  const PAGE = 1000;
  let wanted = PAGE;
  const moreButton = el('button', { type: 'button', class: 'more', hidden: true }, `Show ${PAGE} more`);
  moreButton.addEventListener('click', () => { wanted += PAGE; refresh(); });
  root.append(el('h2', {}, 'Jobs'), form, status, el('div', { class: 'table-wrap' }, table), empty, moreButton);

  const rows = new Map(); // job id -> { tr, cells[] }
  let focusId = null; // the row that holds the table's single tab stop

  function rowFor(job) {
    let r = rows.get(job.job_id);
    if (r) return r;
    const link = el('a', { href: `#/jobs/${job.job_id}`, tabindex: '-1' }, String(job.job_id));
    const cells = COLUMNS.map((_, i) => el('td', i === 0 ? {} : {}, i === 0 ? link : ''));
    const tr = el('tr', { tabindex: '-1', 'data-job-id': job.job_id }, cells);
    tr.addEventListener('click', (e) => { if (!e.target.closest('a')) location.hash = `#/jobs/${job.job_id}`; });
    tr.addEventListener('focus', () => { focusId = job.job_id; syncTabStop(); });
    r = { tr, cells, link };
    rows.set(job.job_id, r);
    return r;
  }

  function fill(r, j, now) {
    const waiting = j.job_state === 'PENDING' || (j.job_state === 'ALLOCATING' && !j.nodes);
    const nodes = j.node_count || j.request?.minimum_nodes || 1;
    const exit = j.exit_code === null || j.exit_code === undefined ? '' : `${j.exit_code}${j.exit_signal ? ` (${j.exit_signal})` : ''}`;
    const values = [null, j.partition, j.name, j.user_name, STATE_CODES[j.job_state] ?? j.job_state,
      formatDuration(elapsedSeconds(j, now)), nodes, waiting ? `(${j.state_reason})` : (j.nodes ?? ''), exit];
    values.forEach((v, i) => { if (v !== null) setText(r.cells[i], v); });
    // an array's record shows its tasks not started yet, 12_[3-9%2], and changes as they start
    setText(r.link, j.display_id ?? String(j.job_id));
    const st = r.cells[4];
    st.className = `state state-${j.job_state}`;
    st.title = j.job_state;
    r.cells[2].title = j.name;
  }

  function syncTabStop() {
    const trs = [...tbody.rows];
    if (!trs.length) return;
    if (focusId === null || !rows.has(focusId) || !tbody.contains(rows.get(focusId).tr)) focusId = Number(trs[0].dataset.jobId);
    for (const tr of trs) tr.tabIndex = Number(tr.dataset.jobId) === focusId ? 0 : -1;
  }

  tbody.addEventListener('keydown', (e) => {
    const tr = e.target.closest('tr');
    if (!tr || e.target !== tr) return;
    const trs = [...tbody.rows];
    const i = trs.indexOf(tr);
    let next = null;
    if (e.key === 'ArrowDown') next = trs[i + 1];
    else if (e.key === 'ArrowUp') next = trs[i - 1];
    else if (e.key === 'Home') next = trs[0];
    else if (e.key === 'End') next = trs[trs.length - 1];
    else if (e.key === 'PageDown') next = trs[Math.min(trs.length - 1, i + 10)];
    else if (e.key === 'PageUp') next = trs[Math.max(0, i - 10)];
    else if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); location.hash = `#/jobs/${tr.dataset.jobId}`; return; }
    else return;
    e.preventDefault();
    if (next) next.focus();
  });

  function matchesText(j) {
    const t = textInput.value.trim().toLowerCase();
    if (!t) return true;
    return String(j.job_id) === t || String(j.job_id).startsWith(t) || String(j.display_id ?? '').startsWith(t) || j.name.toLowerCase().includes(t);
  }

  function render(total) {
    const now = Date.now();
    const shown = lastJobs.filter(matchesText).sort((a, b) => b.job_id - a.job_id);
    const keep = new Set(shown.map((j) => j.job_id));
    for (const [id, r] of rows) if (!keep.has(id)) { r.tr.remove(); rows.delete(id); }
    shown.forEach((j, i) => {
      const r = rowFor(j);
      fill(r, j, now);
      // Move a row only when it is out of place: moving a focused row would drop the focus.
      if (tbody.rows[i] !== r.tr) tbody.insertBefore(r.tr, tbody.rows[i] ?? null);
    });
    syncTabStop();
    empty.hidden = shown.length > 0;
    const more = total > lastJobs.length ? ` (the newest ${lastJobs.length} of ${total} loaded)` : '';
    moreButton.hidden = total <= lastJobs.length;
    setText(status, `${shown.length} job${shown.length === 1 ? '' : 's'} shown${more}. Updated ${formatTime(new Date().toISOString()).slice(11)}.`);
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      const filter = { state: stateSelect.value, user: userInput.value.trim(), partition: partitionSelect.value, order: 'newest' };
      let { jobs, total, next_cursor: cursor } = await getJSON(`/jobs${query({ ...filter, limit: PAGE })}`);
      while (cursor && jobs.length < wanted) {
        const page = await getJSON(`/jobs${query({ ...filter, limit: PAGE, cursor })}`);
        jobs = jobs.concat(page.jobs);
        cursor = page.next_cursor;
      }
      if (stopped) return;
      lastJobs = jobs;
      lastTotal = total;
      render(total);
      status.classList.remove('error');
    } catch (e) {
      if (stopped) return;
      status.classList.add('error');
      setText(status, `Could not load the jobs: ${e.message}. Retrying…`);
    }
    if (!stopped) timer = setTimeout(refresh, POLL_MS);
  }

  function onFilter() {
    wanted = PAGE;
    replaceQuery({ state: stateSelect.value, user: userInput.value.trim(), partition: partitionSelect.value, q: textInput.value.trim() });
    refresh();
  }
  stateSelect.addEventListener('change', onFilter);
  partitionSelect.addEventListener('change', onFilter);
  userInput.addEventListener('input', debounce(onFilter, 300));
  textInput.addEventListener('input', () => { replaceQuery({ state: stateSelect.value, user: userInput.value.trim(), partition: partitionSelect.value, q: textInput.value.trim() }); render(lastTotal); });

  getJSON('/partitions').then(({ partitions }) => {
    for (const p of partitions) if (p.name !== filters.partition) partitionSelect.append(el('option', { value: p.name }, `${p.name}${p.default ? ' (default)' : ''}`));
  }).catch(() => { /* the filter stays usable with "All partitions" */ });

  await refresh();
  return () => { stopped = true; clearTimeout(timer); };
}
