/**
 * The parts of /metrics without a daemon: the cluster counts, the dispatch timer, the store's
 * counts, the scrape token, the registry's exposition and the SLURM commands' events.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { NodeInfo } from '../../src/backends/resource-backend.js';
import { SlurmCommands } from '../../src/backends/slurm/slurm-commands.js';
import { clusterUsage } from '../../src/metrics/cluster-usage.js';
import { GrmMetrics, type ScrapeSources } from '../../src/metrics/grm-metrics.js';
import { DispatchTimer, followMetricEvents } from '../../src/metrics/metric-events.js';
import { ScrapeToken } from '../../src/metrics/scrape-token.js';
import { openDatabase } from '../../src/store/database.js';
import { JobStore } from '../../src/store/job-store.js';
import { LogStore } from '../../src/store/log-store.js';
import { StatsStore } from '../../src/store/stats-store.js';

interface Family {
  name: string;
  metrics: { labels?: Record<string, string>; value?: string; count?: string }[];
}
// a CommonJS module without types; prom2json's shape
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[];

const node = (name: string, state: NodeInfo['state'], cpus: number, cpusAllocated: number, gpus = 0, gpusAllocated = 0): NodeInfo => ({
  name,
  state,
  partitions: ['batch'],
  cpus,
  cpusAllocated,
  memoryMiB: 1024,
  memoryAllocatedMiB: 0,
  gpus,
  gpusAllocated,
  allocations: [],
});

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-prom-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('CPUs and GPUs are counted as sinfo counts them: allocated, idle, other (drained or down), total', async (t) => {
  const usage = clusterUsage([
    node('n1', 'idle', 4, 0, 2, 0),
    node('n2', 'mixed', 4, 3, 2, 1),
    node('n3', 'allocated', 4, 4),
    node('n4', 'drained', 4, 1, 2, 2),
    node('n5', 'down', 8, 0, 4, 0),
  ]);
  t.same(usage.nodesByState, { idle: 1, mixed: 1, allocated: 1, drained: 1, down: 1 });
  t.same(usage.cpus, { total: 24, allocated: 8, idle: 5, other: 11 });
  t.same(usage.gpus, { total: 10, allocated: 3, idle: 3, other: 4 });
  t.same(clusterUsage([]).cpus, { total: 0, allocated: 0, idle: 0, other: 0 }, 'no nodes, no CPUs');
});

t.test('dispatch is timed from ALLOCATING to RUNNING, and only for jobs seen sent', async (t) => {
  const seen: number[] = [];
  const timer = new DispatchTimer((s) => seen.push(s));
  timer.onJobEvent({ jobId: 1, time: 1000, toState: 'ALLOCATING' });
  timer.onJobEvent({ jobId: 1, time: 1200, toState: null });
  timer.onJobEvent({ jobId: 1, time: 3500, toState: 'RUNNING' });
  t.same(seen, [2.5], '2.5 s from sent to running; a reason change between does not count');
  timer.onJobEvent({ jobId: 2, time: 1000, toState: 'ALLOCATING' });
  timer.onJobEvent({ jobId: 2, time: 2000, toState: 'PENDING' });
  timer.onJobEvent({ jobId: 2, time: 3000, toState: 'RUNNING' });
  timer.onJobEvent({ jobId: 3, time: 3000, toState: 'RUNNING' });
  t.same(seen, [2.5], 'a job sent back to the queue, or running since before a restart, is not timed');
  t.equal(timer.size, 0, 'nothing is kept for jobs that left ALLOCATING');
});

t.test("the store's counts: jobs by state and partition, waiting by reason, queue, running per user, log lines", async (t) => {
  const dir = tempDir(t);
  const db = openDatabase(path.join(dir, 'grm.sqlite'));
  t.teardown(() => db.close());
  const jobs = new JobStore(db);
  const stats = new StatsStore(db);
  const job = (user: string, partition: string) =>
    jobs.insert({ name: 'j', user, partition, description: {}, script: '#!/bin/sh\n', argv: [], runtime: 'command', environment: {}, timeLimitMinutes: null, nice: 0, submitTime: 1 }, 'test');
  const a = job('alice', 'batch');
  const b = job('alice', 'batch');
  job('bob', 'gpu');
  const held = job('bob', 'gpu');
  jobs.setBlocked(held.id, 'JobHeldUser', 'test');
  jobs.transition(a.id, 'PENDING', 'ALLOCATING', 'sent', 'test');
  jobs.transition(a.id, 'ALLOCATING', 'RUNNING', 'started', 'test', { nodeList: 'n1' });
  jobs.transition(b.id, 'PENDING', 'ALLOCATING', 'sent', 'test');
  jobs.setReason(b.id, 'Resources', 'backend');
  const byKey = Object.fromEntries(stats.jobCounts().map((r) => [`${r.partition}/${r.state}`, r.count]));
  t.same(byKey, { 'batch/RUNNING': 1, 'batch/ALLOCATING': 1, 'gpu/PENDING': 2 });
  const reasons = Object.fromEntries(stats.pendingByReason().map((r) => [r.reason, r.count]));
  t.same(reasons, { Resources: 1, None: 1, JobHeldUser: 1 }, 'a job the backend holds without nodes waits too');
  t.equal(stats.queueLength(), 1, 'the held job is not in the queue a pass reads');
  t.same(stats.runningByUser(), [{ user: 'alice', count: 1 }]);

  const logs = new LogStore(db);
  t.same(stats.logLines(0), { ingested: 0, unindexed: 0, oldestUnindexedTime: null });
  logs.append([1, 2, 3].map((seq) => ({ jobId: a.id, seq, ts: 5000 + seq, source: 'stdout', line: `l${seq}` })));
  t.same(stats.logLines(0), { ingested: 3, unindexed: 3, oldestUnindexedTime: 5001 });
  t.same(stats.logLines(2), { ingested: 3, unindexed: 1, oldestUnindexedTime: 5003 }, 'lines above the index mark are not searchable yet');
  t.same(stats.logLines(3), { ingested: 3, unindexed: 0, oldestUnindexedTime: null });
  const sizes = stats.fileSizes([path.join(dir, 'grm.sqlite'), path.join(dir, 'absent.sqlite')]);
  t.same(sizes.map((s) => path.basename(s.file)), ['grm.sqlite', 'grm.sqlite-wal', 'absent.sqlite', 'absent.sqlite-wal']);
  t.ok(sizes[0]!.bytes > 0);
  t.equal(sizes[2]!.bytes, 0, 'an absent file is 0 bytes');
});

t.test('the scrape token accepts itself as a bearer token and nothing else', async (t) => {
  const secret = 'a'.repeat(31) + 'Z';
  const token = ScrapeToken.of(secret);
  t.ok(token.accepts(`Bearer ${secret}`));
  t.ok(token.accepts(`bearer  ${secret} `), 'the scheme in any case, as RFC 6750 allows');
  t.notOk(token.accepts(`Bearer ${secret}x`));
  t.notOk(token.accepts(secret), 'not without the scheme');
  t.notOk(token.accepts(`Basic ${secret}`));
  t.notOk(token.accepts(undefined));
  t.throws(() => ScrapeToken.of('short'), { code: 'E_CONFIG_INVALID', field: 'metrics.tokenFile' });
  t.throws(() => ScrapeToken.of(`${'a'.repeat(20)} ${'b'.repeat(20)}`), { code: 'E_CONFIG_INVALID' }, 'one token, no spaces');
  const file = path.join(tempDir(t), 'token');
  fs.writeFileSync(file, `  ${secret}\n`);
  t.ok(ScrapeToken.fromFile(file).accepts(`Bearer ${secret}`), 'the file as Prometheus reads it: whitespace around ignored');
});

function fakeSources(over: Partial<ScrapeSources> = {}): ScrapeSources {
  return {
    jobCounts: () => [],
    pendingByReason: () => [],
    queueLength: () => 0,
    runningByUser: () => [],
    nodes: async () => [],
    mastersRunning: () => 0,
    logLines: () => ({ ingested: 0, unindexed: 0, oldestUnindexedTime: null }),
    storeFiles: () => [],
    wallNow: () => 0,
    ...over,
  };
}

const sample = (fams: Family[], name: string, labels: Record<string, string> = {}) =>
  fams.find((f) => f.name === name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));

t.test('each scrape reads the sources afresh: label sets that went away go', async (t) => {
  let users = [{ user: 'alice', count: 2 }, { user: 'bob', count: 1 }];
  let lines: { ingested: number; unindexed: number; oldestUnindexedTime: number | null } = { ingested: 10, unindexed: 4, oldestUnindexedTime: 7000 };
  const m = new GrmMetrics({ version: '9', backend: 'simulator', processMetrics: false, sources: fakeSources({ runningByUser: () => users, logLines: () => lines, wallNow: () => 10_000 }) });
  let fams = parse(await m.render());
  t.equal(sample(fams, 'grm_user_jobs_running', { user: 'bob' })?.value, '1');
  t.equal(sample(fams, 'grm_log_lines_ingested_total')?.value, '10');
  t.equal(sample(fams, 'grm_log_search_lag_lines')?.value, '4');
  t.equal(sample(fams, 'grm_log_search_lag_seconds')?.value, '3', 'the oldest unsearchable line is 3 s old');
  users = [{ user: 'alice', count: 1 }];
  lines = { ingested: 25, unindexed: 0, oldestUnindexedTime: null };
  fams = parse(await m.render());
  t.equal(sample(fams, 'grm_user_jobs_running', { user: 'bob' }), undefined, "bob's series is gone");
  t.equal(sample(fams, 'grm_user_jobs_running', { user: 'alice' })?.value, '1');
  t.equal(sample(fams, 'grm_log_lines_ingested_total')?.value, '25', 'the counter is the store\'s count, not a sum of scrapes');
  t.equal(sample(fams, 'grm_log_search_lag_seconds')?.value, '0');
});

t.test('a backend that does not answer costs the scrape nothing but its own series', async (t) => {
  let down = false;
  const errors: string[] = [];
  const m = new GrmMetrics({
    version: '9',
    backend: 'slurm',
    processMetrics: false,
    onError: (_e, context) => errors.push(context),
    sources: fakeSources({
      nodes: async () => {
        if (down) throw new Error('Unable to contact slurm controller');
        return [node('n1', 'mixed', 8, 2)];
      },
      queueLength: () => 5,
    }),
  });
  let fams = parse(await m.render());
  t.equal(sample(fams, 'grm_backend_up')?.value, '1');
  t.equal(sample(fams, 'grm_cpus_allocated')?.value, '2');
  down = true;
  fams = parse(await m.render());
  t.equal(sample(fams, 'grm_backend_up')?.value, '0', 'the scrape says the backend did not answer');
  t.equal(sample(fams, 'grm_queue_length')?.value, '5', "GRM's own series are still there");
  t.equal(sample(fams, 'grm_cpus_total')?.value, '8', 'the node series keep their last values');
  t.same(errors, ["metrics: the backend's nodes"], 'and the failure is reported');
});

t.test('two daemons in one process keep their metrics apart (a registry each)', async (t) => {
  const one = new GrmMetrics({ version: '1', backend: 'slurm', commands: ['sbatch', 'squeue'], processMetrics: false, sources: fakeSources() });
  const two = new GrmMetrics({ version: '1', backend: 'slurm', commands: ['sbatch', 'squeue'], processMetrics: false, sources: fakeSources() });
  one.observeCommand('sbatch', 0.2, false);
  one.observeSchedulingPass(0.001);
  // read as prom-client holds them: the text parser loses the labels of labelled histograms
  const values = async (m: GrmMetrics, name: string) => (await m.registry.getSingleMetric(name)!.get()).values;
  const countOf = async (m: GrmMetrics, name: string, command?: string) =>
    (await values(m, name)).find((v) => (v as { metricName?: string }).metricName === `${name}_count` && (command === undefined || v.labels.command === command))?.value;
  t.equal(await countOf(one, 'grm_backend_command_duration_seconds', 'sbatch'), 1);
  t.equal((await values(one, 'grm_backend_command_errors_total')).find((v) => v.labels.command === 'sbatch')?.value, 1);
  t.equal(await countOf(two, 'grm_backend_command_duration_seconds', 'sbatch'), 0, 'known commands start at 0');
  t.equal((await values(two, 'grm_backend_command_errors_total')).find((v) => v.labels.command === 'squeue')?.value, 0);
  t.equal(await countOf(two, 'grm_scheduler_pass_duration_seconds'), 0, "the other daemon's pass is not this one's");
  t.equal(await countOf(one, 'grm_scheduler_pass_duration_seconds'), 1);
  t.match(await one.render(), /^grm_backend_command_duration_seconds_count\{command="squeue"\} 0$/m, 'a known command is exposed before its first call');
});

t.test('every SLURM command reports its duration and outcome as an event', async (t) => {
  const bin = tempDir(t);
  // stand-ins for SLURM's commands: node scripts, so no shell is involved here either
  const script = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!${process.execPath}\n${body}\n`, { mode: 0o755 });
  script('sinfo', "process.stdout.write('{}')");
  script('scontrol', "process.stderr.write('scontrol: error: Invalid job id specified\\n'); process.exit(1)");
  const commands = new SlurmCommands({ binDir: bin });
  const events: { command: string; durationMs: number; ok: boolean }[] = [];
  commands.onCommand((e) => events.push(e));
  await commands.sinfoJson();
  await t.rejects(commands.showJob('42'), { code: 'E_BACKEND' });
  await t.rejects(commands.run('squeue', []), { code: 'E_BACKEND_UNAVAILABLE' }, 'a missing binary');
  t.same(events.map((e) => [e.command, e.ok]), [['sinfo', true], ['scontrol', false], ['squeue', false]]);
  t.ok(events.every((e) => e.durationMs >= 0));
  t.same(commands.stats.get('scontrol'), { calls: 1, errors: 1, totalMs: events[1]!.durationMs }, 'the stats count the same calls');

  // wired as the daemon wires them: each command is a sample of its series, each failure an error
  const metrics = new GrmMetrics({ version: '9', backend: 'slurm', commands: ['sinfo', 'scontrol'], processMetrics: false, sources: fakeSources() });
  followMetricEvents(metrics, { jobEvents: () => undefined, passes: () => undefined, commands: (l) => commands.onCommand(l) });
  await commands.sinfoJson();
  await commands.sinfoJson();
  await t.rejects(commands.showJob('42'));
  const text = await metrics.render();
  // the text parser drops labelled histograms' counts (it flattens only unlabelled ones): their lines are read as written
  t.match(text, /^grm_backend_command_duration_seconds_count\{command="sinfo"\} 2$/m);
  t.match(text, /^grm_backend_command_duration_seconds_count\{command="scontrol"\} 1$/m);
  const errors = parse(text).find((f) => f.name === 'grm_backend_command_errors_total')!.metrics;
  t.same(Object.fromEntries(errors.map((e) => [e.labels!.command, e.value])), { sinfo: '0', scontrol: '1' });
});
