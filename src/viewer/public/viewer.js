// The GRM report viewer: plain ES modules served by the daemon, no build step, no request to
// any host but the daemon. Pages: jobs (squeue), one job (scontrol show job + its log),
// the cluster (sinfo -N) and a usage report.
import { startRouter } from './router.js';
import { el } from './util.js';
import { mountJobs } from './pages/jobs.js';
import { mountJob } from './pages/job.js';
import { mountCluster } from './pages/cluster.js';
import { mountReport } from './pages/report.js';
import { clearToken, getJSON } from './api.js';
import { currentUser, signIn } from './login.js';

// The skip link must not change the hash (the hash is the router's).
document.getElementById('skip-link').addEventListener('click', (e) => {
  e.preventDefault();
  document.getElementById('view').focus();
});

const root = document.getElementById('view');
const nav = document.getElementById('main-nav');
const identity = document.getElementById('identity');

// Nothing is read before sign-in: the pages start once a token is accepted.
nav.hidden = true;
let me = await currentUser().catch(() => null);
if (!me) me = await signIn(root);
nav.hidden = false;
// From now on, a token the daemon stops accepting (expired, revoked) brings the sign-in back:
// a fresh page, so no page of the previous user stays on screen.
window.addEventListener('grm:unauthorized', () => location.reload());
identity.replaceChildren(
  el('span', {}, `${me.user_name} (${me.role})`),
  el('button', { type: 'button', class: 'small secondary', onclick: () => { clearToken(); location.reload(); } }, 'Sign out'),
);
identity.hidden = false;

// What the daemon says is wrong (log storage paused on a full disk...), above every page.
const status = document.getElementById('daemon-status');
async function showDaemonStatus() {
  const health = await getJSON('/health').catch(() => null);
  const problems = health?.problems ?? [];
  status.textContent = problems.length ? `GRM is degraded: ${problems.join('; ')}` : '';
  status.hidden = problems.length === 0;
}
void showDaemonStatus();
setInterval(showDaemonStatus, 5000);

startRouter({
  root,
  nav,
  routes: [
    { name: 'jobs', pattern: /^\/(?:jobs)?$/, title: () => 'jobs', mount: mountJobs },
    { name: 'job', pattern: /^\/jobs\/(?<id>\d+)$/, title: (p) => `job ${p.id}`, mount: mountJob },
    { name: 'cluster', pattern: /^\/cluster$/, title: () => 'cluster', mount: mountCluster },
    { name: 'report', pattern: /^\/report$/, title: () => 'report', mount: mountReport },
  ],
  notFound(container, path) {
    container.append(el('h2', {}, 'Not found'), el('p', {}, `No page at ${path}. `, el('a', { href: '#/' }, 'Back to the jobs')));
  },
});
