/**
 * grm simulate (src/simulate/): SWF parsing, hand-computed FCFS and EASY schedules replayed by
 * the live simulator's scheduling pass on a virtual clock, determinism, and a trace written
 * here replayed through the CLI with every job accounted for.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import t from 'tap';
import { runCli } from '../../src/cli/main.js';
import { percentile, replayMetrics } from '../../src/simulate/metrics.js';
import { replay, type JobOutcome } from '../../src/simulate/replay.js';
import { parseSwf, swfLine, type SwfJob } from '../../src/simulate/swf.js';
import { generateWorkload } from '../../src/simulate/workload.js';

const job = (id: number, submit: number, procs: number, runtime: number, limit: number | null): SwfJob => ({ id, submit, procs, runtime, limit, user: 1 });
const schedule = (outcomes: JobOutcome[]) => Object.fromEntries([...outcomes].sort((a, b) => a.id - b.id).map((o) => [o.id, [o.start, o.end]]));

async function cli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env: {}, cwd });
  return { code, stdout, stderr };
}

t.test('SWF: header, fields, -1 unknown, what cannot be replayed counted by reason', async (t) => {
  const text = [
    '; MaxNodes: 4',
    '; MaxProcs: 8',
    '; Note: a test',
    '1 0 5 100 2 -1 -1 2 600 -1 1 3 -1 -1 -1 -1 -1 -1',
    '2 10 -1 700 4 -1 -1 -1 600 -1 1 3 -1 -1 -1 -1 -1 -1', // ran past its limit: SLURM kills it at 600
    '3 20 -1 50 1 -1 -1 1 -1 -1 1 3 -1 -1 -1 -1 -1 -1', // no requested time: no limit
    '4 30 -1 -1 1 -1 -1 1 60 -1 1 3 -1 -1 -1 -1 -1 -1',
    '5 40 -1 10 -1 -1 -1 -1 60 -1 1 3 -1 -1 -1 -1 -1 -1',
    '6 50 -1 10 16 -1 -1 16 60 -1 1 3 -1 -1 -1 -1 -1 -1',
    '7 60 1 2 3',
    '',
  ].join('\n');
  const trace = parseSwf(text, { clusterProcs: 8 });
  t.same([trace.maxNodes, trace.maxProcs, trace.header.Note], [4, 8, 'a test']);
  t.same(trace.jobs, [job(1, 0, 2, 100, 600), { ...job(2, 10, 4, 600, 600) }, job(3, 20, 1, 50, null)].map((j) => ({ ...j, user: 3 })));
  t.same(trace.skipped, { 'run time unknown': 1, 'processor count unknown': 1, 'more processors than the cluster has': 1, 'not 18 numeric fields': 1 });
  t.equal(parseSwf(swfLine(job(9, 5, 3, 40, 120))).jobs[0]?.procs, 3, 'swfLine writes what parseSwf reads');
});

// 4 nodes of 1 processor. J1 holds one until 600; J2 wants all four: it waits for J1, and EASY
// reserves 600 for it. J3 (1 proc, limit 9 min) ends by then: it backfills at once. J4 (2 procs,
// limit 11 min) fits now but would still run at 600, on nodes J2 needs: it must wait for J2.
const CASE = [job(1, 0, 1, 600, 600), job(2, 1, 4, 300, 300), job(3, 2, 1, 500, 540), job(4, 3, 2, 600, 660)];

t.test('FCFS by hand: the blocked wide job holds everything behind it', async (t) => {
  const r = replay(CASE, { nodes: 4, procsPerNode: 1, policy: 'fcfs' });
  t.same(schedule(r.outcomes), { 1: [0, 600], 2: [600, 900], 3: [900, 1400], 4: [900, 1500] });
});

t.test('EASY by hand: a short job backfills before the reservation; one that would delay it does not', async (t) => {
  const r = replay(CASE, { nodes: 4, procsPerNode: 1, policy: 'easy' });
  t.same(schedule(r.outcomes), { 1: [0, 600], 2: [600, 900], 3: [2, 502], 4: [900, 1500] });
  t.equal(r.neverStarted, 0);
  // a job without a time limit never backfills: it could run past any reservation
  const unbounded = replay([...CASE.slice(0, 2), job(3, 2, 1, 500, null)], { nodes: 4, procsPerNode: 1, policy: 'easy' });
  t.same(schedule(unbounded.outcomes)[3], [900, 1400]);
});

t.test('slurm policy by hand: backfill waits for its interval, the main scheduler stops at the blocked job', async (t) => {
  const every30 = replay(CASE, { nodes: 4, procsPerNode: 1, policy: 'slurm', slurm: { bfInterval: 30 } });
  t.same(schedule(every30.outcomes), { 1: [0, 600], 2: [600, 900], 3: [30, 530], 4: [900, 1500] }, 'J3 backfills at the next backfill pass (30 s), not at its submit');
  const everySecond = replay(CASE, { nodes: 4, procsPerNode: 1, policy: 'slurm', slurm: { bfInterval: 1 } });
  t.same(schedule(everySecond.outcomes), schedule(replay(CASE, { nodes: 4, procsPerNode: 1, policy: 'easy' }).outcomes), 'bf_interval=1 on whole seconds: EASY');
  // the main scheduler alone is FCFS: a job fitting behind the blocked one waits for backfill
  const depth1 = replay([job(1, 0, 2, 100, 120), job(2, 0, 1, 100, 120)], { nodes: 3, procsPerNode: 1, policy: 'slurm', slurm: { defaultQueueDepth: 1, bfInterval: 50 } });
  t.same(schedule(depth1.outcomes), { 1: [0, 100], 2: [0, 100] }, 'a depth of 1 tests two jobs (slurmctld: job_depth++ > def_job_limit)');
  // three jobs that fit at 1 s, the backfill tick at 100 s: the main pass starts depth + 1 of them
  const three = [job(1, 1, 1, 100, 120), job(2, 1, 1, 100, 120), job(3, 1, 1, 100, 120)];
  const at1 = replay(three, { nodes: 3, procsPerNode: 1, policy: 'slurm', slurm: { defaultQueueDepth: 1, bfInterval: 100 } });
  t.same(schedule(at1.outcomes), { 1: [1, 101], 2: [1, 101], 3: [100, 200] }, 'default_queue_depth=1: two at the submit, the third at the backfill tick');
});

t.test('slurm policy by hand: bf_resolution rounds the reserved start down; a job must end before it', async (t) => {
  // J1 holds a node 10..610 (limit 10 min); J2 wants all four: expected at 610, which SLURM's
  // backfill map holds as the slot starting at 600 with bf_resolution=60. J3 (limit 9 min from
  // 65, so 605) ends before 610 but not before 600.
  const jobs = [job(1, 10, 1, 600, 600), job(2, 11, 4, 300, 300), job(3, 65, 1, 100, 540)];
  const second = replay(jobs, { nodes: 4, procsPerNode: 1, policy: 'slurm', slurm: { bfInterval: 1, bfResolution: 1 } });
  t.same(schedule(second.outcomes), { 1: [10, 610], 2: [610, 910], 3: [65, 165] }, 'bf_resolution=1: J3 backfills');
  const minute = replay(jobs, { nodes: 4, procsPerNode: 1, policy: 'slurm', slurm: { bfInterval: 1, bfResolution: 60 } });
  t.same(schedule(minute.outcomes), { 1: [10, 610], 2: [610, 910], 3: [910, 1010] }, 'the default bf_resolution=60: J3 waits for J2');
  // a job ending exactly at the reserved start: textbook EASY lets it use the nodes, SLURM does not
  const atStart = [job(1, 10, 1, 600, 600), job(2, 11, 4, 300, 300), job(3, 70, 1, 100, 540)];
  t.same(schedule(replay(atStart, { nodes: 4, procsPerNode: 1, policy: 'easy' }).outcomes)[3], [70, 170], 'EASY: ends by 610, backfills');
  const slurmAtStart = replay(atStart, { nodes: 4, procsPerNode: 1, policy: 'slurm', slurm: { bfInterval: 1, bfResolution: 1 } });
  t.same(schedule(slurmAtStart.outcomes)[3], [910, 1010], 'SLURM: an end at the reserved start overlaps it');
  // SLURM rounds on the wall clock: with time 0 at 50 s past a minute, 610 is 660 on it, its own slot
  const shifted = replay(jobs, { nodes: 4, procsPerNode: 1, policy: 'slurm', epoch: 50, slurm: { bfInterval: 1, bfResolution: 60 } });
  t.same(schedule(shifted.outcomes)[3], [65, 165], 'epoch 50: J2 expected at 660 on the wall clock, slot 660; J3 ends at 655 before it');
});

t.test('metrics: makespan, utilisation, waits, bounded slowdown (tau 10 s)', async (t) => {
  const m = replayMetrics(replay(CASE, { nodes: 4, procsPerNode: 1, policy: 'easy' }).outcomes, { totalProcs: 4, skipped: 0, wallSeconds: 1 });
  t.equal(m.makespan_s, 1500);
  t.equal(m.utilization, (600 + 4 * 300 + 500 + 2 * 600) / (4 * 1500));
  t.equal(m.mean_wait_s, (0 + 599 + 0 + 897) / 4);
  t.equal(m.mean_bounded_slowdown, (1 + (599 + 300) / 300 + 1 + (897 + 600) / 600) / 4);
  t.equal(percentile([1, 2, 3, 4], 50), 2);
  t.equal(percentile([], 95), 0);
});

t.test('determinism: the same workload twice gives the same schedule; every job accounted for', async (t) => {
  const jobs = generateWorkload({ jobs: 2000, procs: 64, seed: 7 });
  t.same(generateWorkload({ jobs: 2000, procs: 64, seed: 7 }), jobs, 'the generator is seeded');
  t.not(JSON.stringify(generateWorkload({ jobs: 50, procs: 64, seed: 8 })), JSON.stringify(jobs.slice(0, 50)), 'another seed, another workload');
  for (const policy of ['fcfs', 'easy'] as const) {
    const a = replay(jobs, { nodes: 16, procsPerNode: 4, policy });
    const b = replay(jobs, { nodes: 16, procsPerNode: 4, policy });
    t.same(a, b, `${policy}: identical`);
    t.equal(a.outcomes.length, 2000);
    t.ok(a.outcomes.every((o) => o.start >= o.submit && o.end >= o.start), `${policy}: no job starts before its submit`);
  }
});

t.test('grm simulate: a trace written here (gzip) replayed through the CLI; JSON, CSV, errors', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-sim-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const jobs = generateWorkload({ jobs: 500, procs: 32, seed: 3 });
  const text = ['; MaxNodes: 8', '; MaxProcs: 32', ...jobs.map(swfLine), '1 2 3'].join('\n');
  fs.writeFileSync(path.join(dir, 't.swf.gz'), gzipSync(text));
  const r = await cli(['simulate', '--trace', 't.swf.gz', '--policy', 'easy', '--json', '--out', 'jobs.csv'], dir);
  t.equal(r.code, 0, r.stderr);
  const m = JSON.parse(r.stdout);
  t.same(Object.keys(m), ['jobs', 'skipped', 'makespan_s', 'utilization', 'mean_wait_s', 'p50_wait_s', 'p95_wait_s', 'mean_bounded_slowdown', 'jobs_per_second']);
  t.same([m.jobs, m.skipped], [500, 1], 'every job replayed, the bad line counted');
  t.ok(m.utilization > 0 && m.utilization <= 1, `utilisation ${m.utilization}`);
  t.ok(m.mean_wait_s >= 0 && m.p95_wait_s >= m.p50_wait_s);
  const csv = fs.readFileSync(path.join(dir, 'jobs.csv'), 'utf8').trim().split('\n');
  t.equal(csv[0], 'job_id,submit_s,start_s,end_s,procs,wait_s');
  t.equal(csv.length, 501);
  const again = await cli(['simulate', '--trace', 't.swf.gz', '--out', 'again.csv'], dir);
  t.equal(fs.readFileSync(path.join(dir, 'again.csv'), 'utf8'), fs.readFileSync(path.join(dir, 'jobs.csv'), 'utf8'), 'the same CSV twice');
  t.match(again.stdout, /^t\.swf\.gz: easy on 8 nodes x 4 processors\njobs 500, skipped 1 \(1 not 18 numeric fields\)\nmakespan /);

  const missing = await cli(['simulate', '--trace', 'nope.swf'], dir);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /cannot read trace nope\.swf: ENOENT/);
  fs.writeFileSync(path.join(dir, 'bare.swf'), swfLine(jobs[0]!));
  t.match((await cli(['simulate', '--trace', 'bare.swf'], dir)).stderr, /no "; MaxNodes:" or "; MaxProcs:" header: give --nodes N/);
  t.match((await cli(['simulate', '--trace', 'bare.swf', '--nodes', 'x'], dir)).stderr, /--nodes must be a positive whole number, not "x"/);
  t.match((await cli(['simulate', '--trace', 'bare.swf', '--policy', 'lifo'], dir)).stderr, /Allowed choices are fcfs, easy, slurm/);
  const viaSlurm = await cli(['simulate', '--trace', 't.swf.gz', '--policy', 'slurm', '--bf-interval', '10', '--json'], dir);
  t.equal(JSON.parse(viaSlurm.stdout).jobs, 500, 'the slurm policy through the CLI');
  const gen = await cli(['simulate', '--generate', '300', '--seed', '5', '--nodes', '16', '--json'], dir);
  t.equal(JSON.parse(gen.stdout).jobs, 300, 'a generated workload');
});

t.test('grm simulate --policy slurm rounds on the wall clock of the trace (UnixStartTime), --bf-resolution', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-sim-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  // the bf_resolution case above: J3 backfills only when J2's expected start is 660 on the wall clock
  const lines = [job(1, 10, 1, 600, 600), job(2, 11, 4, 300, 300), job(3, 65, 1, 100, 540)].map(swfLine);
  fs.writeFileSync(path.join(dir, 'at0.swf'), ['; MaxNodes: 4', '; MaxProcs: 4', '; UnixStartTime: 0', ...lines].join('\n'));
  fs.writeFileSync(path.join(dir, 'at50.swf'), ['; MaxNodes: 4', '; MaxProcs: 4', '; UnixStartTime: 50', ...lines].join('\n'));
  const j3start = async (args: string[]) => {
    const r = await cli(['simulate', '--policy', 'slurm', '--bf-interval', '1', '--out', 'o.csv', ...args], dir);
    t.equal(r.code, 0, r.stderr);
    return fs.readFileSync(path.join(dir, 'o.csv'), 'utf8').split('\n').find((l) => l.startsWith('3,'))!.split(',')[2];
  };
  t.equal(await j3start(['--trace', 'at0.swf']), '910', 'time 0 on a minute: J3 waits');
  t.equal(await j3start(['--trace', 'at50.swf']), '65', 'time 0 at 50 s past a minute: J3 backfills');
  t.equal(await j3start(['--trace', 'at0.swf', '--bf-resolution', '1']), '65', '--bf-resolution 1');
});

t.test('start forecast: the live queue replayed from the running jobs\' limits', async (t) => {
  const { forecastStarts } = await import('../../src/simulate/forecast.js');
  const names = ['n1', 'n2', 'n3', 'n4'];
  const spec = { nodes: names.map((name) => ({ name, cpus: 1, memoryMiB: 1024, gpus: 0 })), partitions: [{ name: 'p', nodes: names, default: true, maxTimeMinutes: null }] };
  const req = (jobId: number, procs: number, minutes: number | null) => ({
    id: `j${jobId}`,
    request: { jobId, name: 'x', user: 'u', partition: 'p', minNodes: 1, maxNodes: procs, tasks: procs, cpusPerTask: 1, memoryPerNodeMiB: 0, gpusPerNode: 0, timeLimitMinutes: minutes, exclusive: false, nice: 0, submitTime: jobId },
  });
  // J1 runs on n1 until 600 s; J2 wants all four nodes; J3 fits before J2's start; J4 must wait for J2
  const running = [{ id: 'j1', exclusive: false, nodes: [{ name: 'n1', cpus: 1, memoryMiB: 0, gpus: 0 }], endTime: 600_000 }];
  const queue = [req(2, 4, 5), req(3, 1, 9), req(4, 2, 11), req(5, 1, null), req(6, 1, 1)];
  const starts = forecastStarts({ spec, nodeStates: new Map(), running, queue, now: 3000 }, { maxJobs: 4 });
  t.same(Object.fromEntries(starts), { j2: 600_000, j3: 3000, j4: 900_000, j5: 900_000 }, 'the first 4 only; a job without a limit still gets its start');
  const blocked = forecastStarts({ spec, nodeStates: new Map(), running: [{ ...running[0]!, endTime: null }], queue: [req(2, 4, 5)], now: 0 });
  t.same(Object.fromEntries(blocked), { j2: null }, 'behind a job that never ends: no forecast');
});

t.test('forecast at submit vs the start the replay gives: exact when jobs run to their limits (FCFS)', async (t) => {
  // FCFS and every job running exactly its (whole-minute) limit: what the forecast assumes is
  // what happens, and no later job can pass an earlier one, so each forecast must come true
  const jobs = generateWorkload({ jobs: 600, procs: 32, seed: 11 }).map((j) => ({ ...j, runtime: j.limit!, limit: j.limit }));
  const r = replay(jobs, { nodes: 8, procsPerNode: 4, policy: 'fcfs', forecastEvery: 3 });
  const starts = new Map(r.outcomes.map((o) => [o.id, o.start]));
  t.equal(r.forecasts.size, 200);
  const wrong = [...r.forecasts].filter(([id, at]) => at !== starts.get(id));
  t.same(wrong, [], 'every forecast came true');
  t.ok([...r.forecasts.values()].some((at, i) => at !== jobs[i * 3]!.submit), 'some jobs did wait (the forecasts are not all "now")');
});

t.test('grm simulate --html: two policies side by side, utilisation, waits and a Gantt per node, all in the page', async (t) => {
  const { htmlReport, utilisationSeries, waitHistogram, GANTT_JOBS } = await import('../../src/simulate/html-report.js');
  const easy = replay(CASE, { nodes: 4, procsPerNode: 1, policy: 'easy', keepNodes: true });
  t.same(easy.outcomes.find((o) => o.id === 2)?.nodes, ['n1', 'n2', 'n3', 'n4'], 'outcomes keep their nodes when asked');
  const u = utilisationSeries(easy.outcomes, 4, 1500);
  t.equal(u.length, 200);
  t.ok(u.every((v) => v >= 0 && v <= 1));
  t.equal(u[150], 0.5, 'from 1125 s to 1132.5 s only J4 runs: 2 of 4 processors');
  t.same(waitHistogram(easy.outcomes), [2, 0, 1, 1, 0, 0, 0, 0], 'J1 and J3 did not wait; J2 waited 599 s, J4 897 s');
  const metrics = (outcomes: JobOutcome[]) => replayMetrics(outcomes, { totalProcs: 4, skipped: 0, wallSeconds: 1 });
  const fcfs = replay(CASE, { nodes: 4, procsPerNode: 1, policy: 'fcfs', keepNodes: true });
  const html = htmlReport(
    [
      { policy: 'easy', metrics: metrics(easy.outcomes), outcomes: easy.outcomes },
      { policy: 'fcfs', metrics: metrics(fcfs.outcomes), outcomes: fcfs.outcomes },
    ],
    { source: 'case <4 jobs>', nodes: 4, procsPerNode: 1 },
  );
  t.match(html, /^<!doctype html>/);
  t.match(html, /<title>grm simulate: case &#60;4 jobs&#62;<\/title>/, 'the source escaped');
  t.equal(html.match(/<polyline /g)?.length, 2, 'one utilisation line per policy');
  t.equal(html.match(/<rect [^>]*><title>(easy|fcfs): \d+ jobs waited/g)?.length, 16, 'eight wait buckets per policy');
  t.equal(html.match(/<title>job \d+ on n\d:/g)?.length, 2 * (1 + 4 + 1 + 2), "a bar per job and node, for each policy");
  t.notMatch(html, /left out/, 'nothing left out of a small run');
  t.notMatch(html, /<script/, 'no script: a picture, not a program');
  const many = Array.from({ length: GANTT_JOBS + 5 }, (_, i) => ({ id: i + 1, submit: i, start: i, end: i + 1, procs: 1, nodes: ['n1'] }));
  const big = htmlReport([{ policy: 'easy', metrics: metrics(many), outcomes: many }], { source: 'many', nodes: 1, procsPerNode: 1 });
  t.match(big, new RegExp(`The first ${GANTT_JOBS} of ${GANTT_JOBS + 5} jobs by start; the other 5 are left out\\.`), 'the Gantt says what it leaves out');
  t.equal(big.match(/<title>job \d+ on n1:/g)?.length, GANTT_JOBS);
});

t.test('slurm policy: a job that can never start ends the replay (no endless backfill ticks)', async (t) => {
  const r = replay([job(1, 0, 1, 100, 120), job(2, 5, 9, 10, 60)], { nodes: 2, procsPerNode: 2, policy: 'slurm', slurm: { bfInterval: 30 } });
  t.equal(r.neverStarted, 1, 'the job larger than the cluster never starts, and the replay ends');
  // that skipped ticks change no start: simulate-incremental.test.ts, against a replay that runs every tick
});

t.test('the live forecast never holds a listing up nor fails it: a slow or failing backend leaves the jobs without one', async (t) => {
  const { StartForecast } = await import('../../src/jobs/start-forecast.js');
  const { ManualClock } = await import('../../src/backends/simulator/clock.js');
  const listeners: (() => void)[] = [];
  const store = { onEvent: (fn: () => void) => listeners.push(fn), get: () => undefined } as never;
  const queue = { head: () => [] } as never;
  const errors: unknown[] = [];
  let answer: () => Promise<Map<number, number | null>> = async () => new Map([[1, 5]]);
  const backend = { partitions: async () => [], forecast: () => answer() };
  const f = new StartForecast({ store, queue, backend, clock: new ManualClock(0), waitMs: 50, onError: (e) => errors.push(e) });
  t.same([...(await f.starts())], [[1, 5]]);
  answer = async () => {
    throw new Error('slurmctld down');
  };
  listeners.forEach((fn) => fn()); // the queue changed
  t.same([...(await f.starts())], [], 'a failure: no forecast, no error to the caller');
  t.equal(errors.length, 1, 'reported');
  answer = () => new Promise(() => {}); // never answers
  // (were the listing held up by it, this await would never return)
  t.same([...(await f.starts())], [], 'a forecast that does not come in time: none, for now');
});
