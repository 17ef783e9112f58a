// The report viewer (first cut): jobs, one job with its events and live log, the cluster.
// Plain modules, no build step, no request to any host but the daemon.
const view = document.getElementById('view');
let timer;

const api = async (path) => {
  const r = await fetch(`/api/v1${path}`);
  if (!r.ok) throw new Error((await r.json()).error?.message ?? r.statusText);
  return r.json();
};
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) k === 'class' ? (e.className = v) : e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c ?? '')));
  return e;
};
const table = (headers, rows) =>
  el('table', {}, el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { scope: 'col' }, h)))), el('tbody', {}, ...rows));

async function jobsPage() {
  const { jobs } = await api('/jobs?limit=500');
  const rows = jobs.reverse().map((j) =>
    el('tr', {},
      el('td', {}, el('a', { href: `#/jobs/${j.job_id}` }, j.job_id)),
      el('td', {}, j.name), el('td', {}, j.user_name), el('td', {}, j.partition),
      el('td', { class: `state-${j.job_state}` }, j.job_state),
      el('td', {}, j.job_state === 'PENDING' ? `(${j.state_reason})` : j.nodes ?? ''),
      el('td', {}, j.exit_code ?? '')));
  view.replaceChildren(el('h2', {}, 'Jobs'), table(['Job', 'Name', 'User', 'Partition', 'State', 'Nodes (reason)', 'Exit'], rows));
}

async function jobPage(id) {
  const job = await api(`/jobs/${id}`);
  const logs = await api(`/jobs/${id}/logs?limit=5000`);
  const summary = el('dl', {},
    ...[['State', job.job_state], ['Reason', job.state_reason], ['User', job.user_name], ['Nodes', job.nodes ?? '-'],
      ['Submitted', job.submit_time], ['Started', job.start_time ?? '-'], ['Ended', job.end_time ?? '-'], ['Exit code', job.exit_code ?? '-']]
      .flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  const events = table(['Time', 'Actor', 'Change', 'Reason'], job.events.map((e) =>
    el('tr', {}, el('td', {}, e.time), el('td', {}, e.actor), el('td', {}, e.to_state ? `${e.from_state ?? ''} → ${e.to_state}` : ''), el('td', {}, e.reason))));
  const log = el('pre', { class: 'log', tabindex: '0', 'aria-label': 'job log' },
    ...logs.lines.map((l) => el('span', { class: `src-${l.source}` }, `${l.line}\n`)));
  view.replaceChildren(el('h2', {}, `Job ${job.job_id}: ${job.name}`), summary, el('h3', {}, 'Events'), events, el('h3', {}, 'Log'), log);
  log.scrollTop = log.scrollHeight;
}

async function clusterPage() {
  const { nodes } = await api('/nodes');
  const rows = nodes.map((n) => el('tr', {}, el('td', {}, n.name), el('td', {}, n.state), el('td', {}, `${n.cpus_allocated}/${n.cpus}`),
    el('td', {}, `${n.memory_allocated_mib}/${n.memory_mib}`), el('td', {}, n.jobs.join(', '))));
  view.replaceChildren(el('h2', {}, 'Cluster'), table(['Node', 'State', 'CPUs (alloc/total)', 'Memory MiB', 'Jobs'], rows));
}

async function route() {
  clearTimeout(timer);
  const hash = location.hash.replace(/^#/, '') || '/';
  const job = hash.match(/^\/jobs\/(\d+)$/);
  try {
    if (job) await jobPage(job[1]);
    else if (hash === '/cluster') await clusterPage();
    else await jobsPage();
  } catch (e) {
    view.replaceChildren(el('p', { role: 'alert' }, `Error: ${e.message}`));
  }
  timer = setTimeout(route, 2000);
}
window.addEventListener('hashchange', route);
route();
