/**
 * GET /metrics on a real daemon (simulator): who may scrape it, that every named series is
 * exposed, and that the values follow the jobs as they run. The exposition is read with a
 * Prometheus text-format parser, not with patterns of our own.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import t from 'tap';
import { SMALL_CLUSTER, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { untilFileExists, waitUntil } from '../helpers/wait.js';

interface Sample {
  labels?: Record<string, string>;
  value?: string;
  count?: string;
  sum?: string;
  buckets?: Record<string, string>;
}
interface Family {
  name: string;
  type: string;
  metrics: Sample[];
}
// a CommonJS module without types: its shape is prom2json's, as above
const parsePrometheusTextFormat = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[];

/** Every series /metrics must expose, by the list. */
const SERIES = [
  'grm_info',
  'grm_partition_jobs',
  'grm_jobs_pending',
  'grm_jobs_running',
  'grm_jobs_pending_by_reason',
  'grm_queue_length',
  'grm_user_jobs_running',
  'grm_backend_up',
  'grm_node_count_per_state',
  'grm_cpus_total',
  'grm_cpus_allocated',
  'grm_cpus_idle',
  'grm_cpus_other',
  'grm_gpus_total',
  'grm_gpus_allocated',
  'grm_gpus_idle',
  'grm_gpus_other',
  'grm_scheduler_pass_duration_seconds',
  'grm_job_dispatch_duration_seconds',
  'grm_backend_command_duration_seconds',
  'grm_backend_command_errors_total',
  'grm_log_lines_ingested_total',
  'grm_log_search_lag_lines',
  'grm_log_search_lag_seconds',
  'grm_masters_running',
  'grm_store_size_bytes',
];

const sh = (body: string) => `#!/bin/bash\n${body}\n`;
const SCRAPE_TOKEN = 'scrape-0123456789abcdef0123456789abcdef';

async function scrape(d: TestDaemon, token = d.token): Promise<Map<string, Family>> {
  const res = await fetch(`${d.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status} ${await res.text()}`);
  const families = parsePrometheusTextFormat(await res.text());
  return new Map(families.map((f) => [f.name, f]));
}

/** The value of the sample of `name` whose labels include `labels` (undefined: no such sample). */
function value(m: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  const sample = m.get(name)?.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
  return sample?.value === undefined ? undefined : Number(sample.value);
}

const histogramCount = (m: Map<string, Family>, name: string) => m.get(name)!.metrics.reduce((n, s) => n + Number(s.count ?? 0), 0);

t.test('/metrics needs the scrape token or an admin token; health stays open', async (t) => {
  const tokenFile = path.join(fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'grm-scrape-')), 'token');
  fs.writeFileSync(tokenFile, `${SCRAPE_TOKEN}\n`, { mode: 0o600 });
  t.teardown(() => fs.rmSync(path.dirname(tokenFile), { recursive: true, force: true }));
  const d = await startDaemon(t, { ...SMALL_CLUSTER, metrics: { tokenFile } });
  const get = (route: string, authorization?: string) => fetch(`${d.url}${route}`, { headers: authorization ? { authorization } : {} });

  const none = await get('/metrics');
  t.equal(none.status, 401, 'no token: 401');
  t.equal(none.headers.get('www-authenticate'), 'Bearer realm="grm"');
  t.equal(((await none.json()) as { error: { code: string } }).error.code, 'E_AUTH_REQUIRED');
  const wrong = await get('/metrics', `Bearer ${SCRAPE_TOKEN}x`);
  t.equal(wrong.status, 401, 'a wrong token: 401');

  const alice = await d.asUser('alice');
  const user = await get('/metrics', `Bearer ${alice.token}`);
  t.equal(user.status, 403, "a user's token: 403 (the series name every user)");
  const refusal = (await user.json()) as { error: { code: string; message: string } };
  t.equal(refusal.error.code, 'E_PERMISSION_DENIED');
  t.match(refusal.error.message, /^Access\/permission denied: GET \/metrics is for administrators/);

  const byScrape = await get('/metrics', `Bearer ${SCRAPE_TOKEN}`);
  t.equal(byScrape.status, 200, 'the scrape token: 200');
  t.match(byScrape.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  t.ok(parsePrometheusTextFormat(await byScrape.text()).some((f) => f.name === 'grm_jobs_running'));
  t.equal((await get('/metrics', `Bearer ${d.token}`)).status, 200, 'an admin token: 200');
  const unknown = await get('/metrics?format=json', `Bearer ${SCRAPE_TOKEN}`);
  t.equal(unknown.status, 400, 'it takes no query parameter, as every route refuses those it does not declare');
  t.match(((await unknown.json()) as { error: { message: string } }).error.message, /format/);

  t.equal((await get('/api/v1/jobs', `Bearer ${SCRAPE_TOKEN}`)).status, 401, 'the scrape token opens /metrics only');
  t.equal((await get('/api/v1/health')).status, 200, 'health needs no token');
});

t.test('a daemon refuses a scrape token file that cannot be a token', async (t) => {
  const dir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'grm-scrape-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'short'), 'secret\n');
  await t.rejects(startDaemon(t, { metrics: { tokenFile: path.join(dir, 'short') } }), { code: 'E_CONFIG_INVALID', message: /at least 32 printable characters/ });
  await t.rejects(startDaemon(t, { metrics: { tokenFile: path.join(dir, 'absent') } }), { code: 'E_CONFIG_INVALID', message: /cannot read/ });
});

t.test('/metrics exposes every named series, typed', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const m = await scrape(d);
  for (const name of SERIES) t.ok(m.has(name), `${name} is exposed`);
  t.equal(m.get('grm_scheduler_pass_duration_seconds')?.type, 'HISTOGRAM');
  t.equal(m.get('grm_backend_command_duration_seconds')?.type, 'HISTOGRAM');
  t.same(m.get('grm_backend_command_duration_seconds')?.metrics, [], 'the simulator runs no commands: the series has no samples');
  t.equal(m.get('grm_log_lines_ingested_total')?.type, 'COUNTER');
  t.equal(value(m, 'grm_info', { backend: 'simulator' }), 1);
  t.equal(value(m, 'grm_backend_up'), 1);
  t.equal(value(m, 'grm_node_count_per_state', { state: 'idle' }), 8);
  t.equal(value(m, 'grm_cpus_total'), 32);
  t.equal(value(m, 'grm_cpus_idle'), 32);
  t.ok(value(m, 'grm_store_size_bytes', { file: 'grm.sqlite' })! > 0, 'the store file has a size');
  t.ok(m.get('grm_store_size_bytes')!.metrics.some((s) => s.labels?.file === 'grm.sqlite-wal'), 'its WAL is reported too');
  t.ok(m.has('process_resident_memory_bytes'), "the process's own metrics are there too");
});

t.test('the values follow jobs as they run', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const admin = (await d.api('GET', '/api/v1/whoami')).body.user_name as string;
  const go = path.join(d.dataDir, 'go');
  const before = await scrape(d);
  const linesBefore = value(before, 'grm_log_lines_ingested_total')!;
  t.equal(value(before, 'grm_jobs_running'), 0);
  t.equal(histogramCount(before, 'grm_job_dispatch_duration_seconds'), 0, 'no job dispatched yet');

  // one job holds every node until told to go; a second waits behind it for nodes
  const big = await d.api('POST', '/api/v1/jobs', { name: 'big', minimum_nodes: 8, exclusive: true, script: sh(`echo started\n${untilFileExists(go)}\necho done`) });
  t.equal(big.status, 201, JSON.stringify(big.body));
  await d.waitForState(big.body.job_id, ['RUNNING']);
  const small = await d.api('POST', '/api/v1/jobs', { name: 'small', minimum_nodes: 1, script: sh('echo small') });
  t.equal(small.status, 201, JSON.stringify(small.body));

  // the backend's answer (Resources) comes after the job was sent: waited for, not assumed
  const busy = await waitUntil('the second job to wait for nodes', async () => {
    const m = await scrape(d);
    return value(m, 'grm_jobs_pending_by_reason', { reason: 'Resources' }) === 1 ? m : undefined;
  });
  t.equal(value(busy, 'grm_jobs_pending'), 1, 'one job waits');
  t.equal(value(busy, 'grm_jobs_running'), 1);
  t.equal(value(busy, 'grm_partition_jobs', { partition: 'batch', state: 'RUNNING' }), 1);
  t.equal(value(busy, 'grm_user_jobs_running', { user: admin }), 1);
  t.equal(value(busy, 'grm_masters_running'), 1);
  t.equal(value(busy, 'grm_cpus_allocated'), 32, 'the exclusive job holds every CPU');
  t.equal(value(busy, 'grm_cpus_idle'), 0);
  t.equal(value(busy, 'grm_node_count_per_state', { state: 'allocated' }), 8);
  t.ok(histogramCount(busy, 'grm_job_dispatch_duration_seconds') >= 1, 'the first dispatch was timed');

  fs.writeFileSync(go, '');
  await d.waitForState(big.body.job_id, ['COMPLETED']);
  await d.waitForState(small.body.job_id, ['COMPLETED']);
  const after = await scrape(d);
  t.equal(value(after, 'grm_partition_jobs', { partition: 'batch', state: 'COMPLETED' }), 2);
  t.equal(value(after, 'grm_jobs_running'), 0);
  t.equal(value(after, 'grm_jobs_pending'), 0);
  t.equal(value(after, 'grm_user_jobs_running', { user: admin }), undefined, "a user's series goes with their last running job");
  t.equal(value(after, 'grm_cpus_allocated'), 0);
  t.equal(value(after, 'grm_cpus_idle'), 32);
  t.equal(value(after, 'grm_masters_running'), 0);
  t.equal(histogramCount(after, 'grm_job_dispatch_duration_seconds'), 2, 'both dispatches were timed');
  t.ok(histogramCount(after, 'grm_scheduler_pass_duration_seconds') > histogramCount(before, 'grm_scheduler_pass_duration_seconds'), 'scheduling passes were timed');
  t.ok(value(after, 'grm_log_lines_ingested_total')! > linesBefore, 'log lines ingested grew');
  await d.daemon.logSearch.catchUp();
  const indexed = await scrape(d);
  t.equal(value(indexed, 'grm_log_search_lag_lines'), 0, 'every line searchable: no lag');
  t.equal(value(indexed, 'grm_log_search_lag_seconds'), 0);
});
