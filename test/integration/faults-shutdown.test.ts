/**
 * Issue 18, item 5: graceful shutdown. SIGTERM (systemd's stop, `docker stop`) and SIGINT
 * (ctrl-c) stop the daemon the same way: changes are refused with 503 and Retry-After while
 * it drains (reads still answered), buffered lines are stored, masters keep running under
 * their supervisors, and the process exits 0. The next start reattaches the masters; every
 * line is stored exactly once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { readMasterRecord, type MasterRecord } from '../../src/runtime/master-files.js';
import { isProcessAlive, signalGroup } from '../../src/runtime/proc.js';
import { SMALL_CLUSTER, startDaemon } from '../helpers/daemon.js';
import { startDaemonProcess, type DaemonProcess } from '../helpers/daemon-process.js';
import { waitForLogLine, waitUntil } from '../helpers/wait.js';
import type { TestApi } from '../helpers/daemon.js';

const masterOf = (dataDir: string, id: number): Promise<MasterRecord> =>
  waitUntil(`master.json of job ${id}`, () => {
    const rec = readMasterRecord(path.join(dataDir, 'jobs', String(id)), id);
    return rec?.pid ? rec : null;
  });

t.test('while the daemon drains: changes get 503 with Retry-After in words, reads still answer, masters stay', async (t) => {
  let entered!: () => void;
  const draining = new Promise<void>((resolve) => (entered = resolve));
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  // the drain is held open by the test: what it sees cannot race the server closing
  const d = await startDaemon(t, { ...SMALL_CLUSTER, shutdownTimeoutMs: 7000 }, { onDraining: () => (entered(), held) });
  const id = (await d.api('POST', '/api/v1/jobs', { script: '#!/bin/bash\necho up\nsleep 600\n' })).body.job_id as number;
  await waitForLogLine(d, id, 'up');
  const rec = await masterOf(d.dataDir, id);
  t.teardown(() => void signalGroup(rec.pgid, 'SIGKILL'));

  const stopping = d.daemon.stop();
  await draining;
  const raw = (method: string, route: string, body?: unknown) =>
    fetch(`${d.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${d.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const submit = await raw('POST', '/api/v1/jobs', { script: '#!/bin/bash\necho late\n' });
  t.equal(submit.status, 503);
  t.equal(submit.headers.get('retry-after'), '7', 'Retry-After: the shutdown bound, in seconds');
  t.same(await submit.json(), { error: { code: 'E_SHUTTING_DOWN', message: 'Batch job submission failed: the GRM daemon is shutting down; retry in 7 s' } });
  const cancel = await raw('DELETE', `/api/v1/jobs/${id}`);
  t.equal(cancel.status, 503, 'a cancel is refused too');
  t.equal(cancel.headers.get('retry-after'), '7');
  t.match(((await cancel.json()) as { error: { message: string } }).error.message, /^DELETE \/api\/v1\/jobs\/\d+ refused: the GRM daemon is shutting down; retry in 7 s$/);
  const sbatch = await d.cli('sbatch', '--wrap', 'echo late');
  t.equal(sbatch.code, 1, 'grm sbatch fails');
  t.match(sbatch.stderr, /Batch job submission failed: the GRM daemon is shutting down; retry in 7 s/, 'and says why, in sbatch\'s words');
  const read = await raw('GET', `/api/v1/jobs/${id}`);
  t.equal(read.status, 200, 'reads are answered until the server closes');
  t.equal(((await read.json()) as { job_state: string }).job_state, 'RUNNING');
  t.equal((await raw('GET', `/api/v1/jobs/${id}/logs`)).status, 200);
  t.same((await d.api('GET', '/api/v1/jobs')).body.jobs.map((j: { job_id: number }) => j.job_id), [id], 'nothing refused was stored');

  release();
  const report = await stopping;
  t.same(report.mastersLeftRunning, [id], 'the report names the master left running');
  t.ok(report.steps.some((s) => s.name === 'drain hook'), 'and what was waited for');
  t.ok(isProcessAlive(rec.pid!), 'the master runs on');
  t.ok(isProcessAlive(rec.supervisorPid), 'under its supervisor');
});

/** A job printing numbered lines until `go` exists, then 100 more, then exiting 0. */
const printer = (go: string) => `#!/bin/bash
i=0
until [ -e '${go}' ]; do i=$((i+1)); echo "a $i"; sleep 0.01; done
for j in $(seq 1 100); do echo "b $j"; done
`;

async function stdoutLines(api: TestApi, id: number): Promise<string[]> {
  const { body } = await api('GET', `/api/v1/jobs/${id}/logs?source=stdout&limit=100000`);
  return (body.lines as { line: string }[]).map((l) => l.line);
}

async function stopWith(t: Test, d: DaemonProcess, signal: NodeJS.Signals): Promise<void> {
  d.child.kill(signal);
  const end = await d.exited;
  t.same(end, { code: 0, signal: null }, `${signal}: exit code 0 (stderr: ${d.stderr()})`);
}

t.test('SIGTERM to a real daemon with jobs printing: exit 0, masters run on, the next start finishes them with every line once', async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-shutdown-'));
  const records: MasterRecord[] = [];
  t.teardown(() => {
    for (const rec of records) signalGroup(rec.pgid, 'SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const go = path.join(dataDir, 'go');
  const first = await startDaemonProcess(t, dataDir);
  const ids: number[] = [];
  for (let n = 0; n < 3; n++) {
    const res = await first.api('POST', '/api/v1/jobs', { script: printer(go) });
    t.equal(res.status, 201, 'submitted');
    ids.push(res.body.job_id);
  }
  for (const id of ids) {
    // stored lines before the signal: the tails are live, with a batch on its way
    await waitUntil(`job ${id} to have stored lines`, async () => (await stdoutLines(first.api, id)).length >= 5);
    records.push(await masterOf(dataDir, id));
  }
  await stopWith(t, first, 'SIGTERM');
  t.ok(first.messages.some((m) => /^SIGTERM: stopping; changes are refused \(503, retry in 8 s\)/.test(m)), 'it says it is stopping');
  t.ok(first.messages.some((m) => /^stopped in \d+ ms \(.*log batches \d+ ms.*\); 3 master\(s\) left running under their supervisors/.test(m)), `it says what it waited for: ${first.messages.slice(-3).join(' | ')}`);
  for (const rec of records) t.ok(isProcessAlive(rec.pid!) && isProcessAlive(rec.supervisorPid), `job ${rec.jobId}: master and supervisor run on without a daemon`);

  const second = await startDaemonProcess(t, dataDir);
  for (const id of ids) {
    await waitUntil(`job ${id} reattached`, async () => (await second.api('GET', `/api/v1/jobs/${id}`)).body.events.some((e: { reason: string }) => /reattached/.test(e.reason)));
  }
  fs.writeFileSync(go, '');
  for (const id of ids) {
    const job = await waitUntil(`job ${id} to end`, async () => {
      const { body } = await second.api('GET', `/api/v1/jobs/${id}`);
      return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(body.job_state) ? body : null;
    });
    t.equal(job.job_state, 'COMPLETED', `job ${id} completed`);
    const written = fs.readFileSync(path.join(dataDir, 'jobs', String(id), 'stdout.log'), 'utf8').split('\n').slice(0, -1);
    t.ok(written.includes('b 100') && written.filter((l) => l.startsWith('a ')).length >= 5, `job ${id} printed before and after the restart`);
    t.same(await stdoutLines(second.api, id), written, `job ${id}: every line it printed is stored, once, in order`);
  }
  await stopWith(t, second, 'SIGINT');
  t.ok(second.messages.some((m) => /^SIGINT: stopping/.test(m)), 'SIGINT (ctrl-c) stops it the same way');
  t.ok(second.messages.some((m) => /; no master was running$/.test(m)));
});
