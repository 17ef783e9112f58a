// The cluster: partitions (sinfo), a grid of node tiles coloured by state (with the state in
// words too, and a legend), and the node table (sinfo -N -l) with the jobs on each node.
import { getJSON } from '../api.js';
import { el, setText, statusLine, compressHostlist, formatMiB, formatTime, formatTimeLimit } from '../util.js';

const POLL_MS = 2000;
export const NODE_STATES = [
  ['idle', 'idle', 'free: no job'],
  ['mixed', 'mix', 'partly allocated'],
  ['allocated', 'alloc', 'fully allocated'],
  ['drained', 'drain', 'taken out of service'],
  ['down', 'down', 'not responding'],
];
const SHORT = Object.fromEntries(NODE_STATES.map(([s, short]) => [s, short]));

export async function mountCluster(root) {
  let stopped = false;
  let timer = null;
  let lastJson = '';
  const status = statusLine('Loading…');
  const partitions = el('div', { class: 'table-wrap' });
  const legend = el('ul', { class: 'legend', 'aria-label': 'Node states' });
  const grid = el('ul', { class: 'node-grid', 'aria-label': 'Nodes' });
  const nodes = el('div', { class: 'table-wrap' });
  root.append(
    el('h2', {}, 'Cluster'), status,
    el('section', { 'aria-labelledby': 'parts-h' }, el('h3', { id: 'parts-h' }, 'Partitions'), partitions),
    el('section', { 'aria-labelledby': 'grid-h' }, el('h3', { id: 'grid-h' }, 'Nodes at a glance'), legend, grid),
    el('section', { 'aria-labelledby': 'nodes-h' }, el('h3', { id: 'nodes-h' }, 'Nodes (sinfo -N)'), nodes));

  function render(data) {
    const json = JSON.stringify(data);
    if (json === lastJson) return; // unchanged: keep the DOM (and the focus) as it is
    lastJson = json;
    const { nodes: ns, partitions: ps } = data;
    partitions.replaceChildren(partitionTable(ps, ns));
    const counts = new Map();
    for (const n of ns) counts.set(n.state, (counts.get(n.state) ?? 0) + 1);
    const known = NODE_STATES.map(([s]) => s);
    const states = [...known, ...[...counts.keys()].filter((s) => !known.includes(s))];
    legend.replaceChildren(...states.map((s) => {
      const info = NODE_STATES.find(([x]) => x === s);
      return el('li', {}, el('span', { class: `swatch node-${s}`, 'aria-hidden': 'true' }),
        `${s} `, el('span', { class: 'muted' }, `(${info ? info[2] : s}): ${counts.get(s) ?? 0}`));
    }));
    grid.replaceChildren(...ns.map(tile));
    nodes.replaceChildren(nodeTable(ns));
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      const [n, p] = await Promise.all([getJSON('/nodes'), getJSON('/partitions')]);
      if (stopped) return;
      render({ nodes: n.nodes, partitions: p.partitions });
      status.classList.remove('error');
      const busy = n.nodes.filter((x) => x.allocations.length).length;
      const jobs = new Set(n.nodes.flatMap((x) => x.jobs)).size;
      setText(status, `${n.nodes.length} nodes, ${busy} in use by ${jobs} job${jobs === 1 ? '' : 's'}. Updated ${formatTime(new Date().toISOString()).slice(11)}.`);
    } catch (e) {
      if (stopped) return;
      status.classList.add('error');
      setText(status, `Could not load the cluster: ${e.message}. Retrying…`);
    }
    if (!stopped) timer = setTimeout(refresh, POLL_MS);
  }
  await refresh();
  return () => { stopped = true; clearTimeout(timer); };
}

const jobLinks = (ids) => (ids.length ? ids.flatMap((id, i) => [i ? ', ' : '', el('a', { href: `#/jobs/${id}` }, `job ${id}`)]) : '—');

function tile(n) {
  const pct = n.cpus ? Math.round((100 * n.cpus_allocated) / n.cpus) : 0;
  return el('li', { class: `node-tile node-${n.state}`, 'data-node': n.name },
    el('span', { class: 'name' }, n.name),
    el('span', { class: 'state' }, SHORT[n.state] ?? n.state),
    el('span', { class: 'meter', role: 'img', 'aria-label': `${n.cpus_allocated} of ${n.cpus} CPUs allocated` },
      el('span', { class: 'fill', style: `width:${pct}%` })),
    el('span', { class: 'cpus' }, `${n.cpus_allocated}/${n.cpus} CPU`),
    el('span', { class: 'jobs' }, jobLinks(n.jobs)));
}

function nodeTable(ns) {
  return el('table', { class: 'data' },
    el('thead', {}, el('tr', {}, ['NODELIST', 'PARTITION', 'STATE', 'CPUS (A/T)', 'MEMORY (A/T)', 'GPUS (A/T)', 'JOBS', 'REASON'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ns.map((n) => el('tr', { 'data-node': n.name },
      el('th', { scope: 'row' }, n.name),
      el('td', {}, n.partitions.join(',')),
      el('td', {}, el('span', { class: `dot node-${n.state}`, 'aria-hidden': 'true' }), SHORT[n.state] ?? n.state),
      el('td', { class: 'num' }, `${n.cpus_allocated}/${n.cpus}`),
      el('td', { class: 'num' }, `${formatMiB(n.memory_allocated_mib)} / ${formatMiB(n.memory_mib)}`),
      el('td', { class: 'num' }, n.gpus ? `${n.gpus_allocated}/${n.gpus}${n.gpu_type ? ` ${n.gpu_type}` : ''}` : '—'),
      el('td', {}, jobLinks(n.jobs)),
      el('td', {}, n.reason ?? '')))));
}

function partitionTable(ps, ns) {
  const rows = [];
  for (const p of ps) {
    const byState = new Map();
    for (const n of ns.filter((x) => x.partitions.includes(p.name))) byState.set(n.state, [...(byState.get(n.state) ?? []), n.name]);
    if (!byState.size) byState.set('—', []);
    for (const [state, names] of byState) {
      rows.push(el('tr', {},
        el('th', { scope: 'row' }, `${p.name}${p.default ? '*' : ''}`),
        el('td', {}, p.state.toLowerCase()),
        el('td', {}, formatTimeLimit(p.max_time)),
        el('td', { class: 'num' }, names.length),
        el('td', {}, el('span', { class: `dot node-${state}`, 'aria-hidden': 'true' }), SHORT[state] ?? state),
        el('td', {}, compressHostlist(names))));
    }
  }
  return el('table', { class: 'data' },
    el('caption', { class: 'visually-hidden' }, 'Partitions by node state; * marks the default partition'),
    el('thead', {}, el('tr', {}, ['PARTITION', 'AVAIL', 'TIMELIMIT', 'NODES', 'STATE', 'NODELIST'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, rows));
}
