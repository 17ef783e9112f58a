// A hash router: #/ (jobs), #/jobs/:id, #/cluster, #/report, each with ?query state.
// A page is mount(root, { params, query }) -> cleanup(); the router calls the cleanup before
// mounting the next page, so timers and streams never outlive their page.
import { el } from './util.js';

export function parseHash(hash = location.hash) {
  const raw = hash.replace(/^#/, '') || '/';
  const [path, qs = ''] = raw.split('?');
  return { path: path || '/', query: new URLSearchParams(qs) };
}

/** Rewrites the current hash's query without a navigation (keeps filters across reloads). */
export function replaceQuery(params) {
  const { path } = parseHash();
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  history.replaceState(null, '', `#${path}${s ? `?${s}` : ''}`);
}

export function startRouter({ routes, root, nav, notFound }) {
  let cleanup = null;
  let current = null;
  async function route() {
    const { path, query } = parseHash();
    let match = null;
    for (const r of routes) {
      const m = r.pattern.exec(path);
      if (m) { match = { route: r, params: m.groups ?? {} }; break; }
    }
    const key = match ? `${match.route.name}:${JSON.stringify(match.params)}` : 'none';
    if (key === current) return; // same page, only the query changed (the page owns it)
    current = key;
    if (cleanup) { try { cleanup(); } catch { /* a page's cleanup never blocks navigation */ } }
    cleanup = null;
    for (const a of nav.querySelectorAll('a')) {
      if (match && a.dataset.route === match.route.name) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    const container = el('div', { class: 'page' });
    root.replaceChildren(container);
    if (!match) { notFound(container, path); return; }
    document.title = `GRM — ${match.route.title(match.params)}`;
    try {
      cleanup = (await match.route.mount(container, { params: match.params, query })) ?? null;
    } catch (e) {
      container.replaceChildren(el('p', { role: 'alert', class: 'error' }, `Error: ${e.message}`));
    }
    // Move focus to the new page's heading so keyboard and screen-reader users land on it.
    const h = container.querySelector('h2');
    if (h && document.activeElement && !container.contains(document.activeElement)) {
      h.setAttribute('tabindex', '-1');
      h.focus({ preventScroll: true });
    }
  }
  window.addEventListener('hashchange', route);
  route();
}
