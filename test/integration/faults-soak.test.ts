/**
 * Issue 18's soak, on the simulator: SOAK_JOBS (500) short jobs, each printing a known,
 * numbered set of lines to stdout and stderr, through random cancels (pending and running
 * jobs), node drains and resumes, a few nodes taken down (running jobs requeued, or NODE_FAIL
 * for --no-requeue ones) and two kill -9s of a real bin/grmd.js, restarted on the same data
 * dir each time. At the end: every job is in a terminal state it was driven to, every line is
 * stored exactly once, no process of any master is left, no node is left allocated.
 *
 * Lines: "soak j<job> r<SLURM_RESTART_COUNT> <out|err> <n>". A requeued job's runs append to
 * the same files (earlier runs are kept), so each run's lines are told apart by r. The
 * reference for "what was printed" is the job's own output files (written by the kernel, not
 * by the daemon); the stored lines of each source must equal them line for line, in order:
 * none lost, none stored twice. On top, the files must hold what the script prints: each run
 * a gap-free prefix of 1..N, and the whole of it for the last run of a COMPLETED job.
 *
 * Replay a failure with SOAK_SEED=<the printed seed>; SOAK_JOBS shrinks it for a quick look;
 * SOAK_KEEP=1 keeps the data dir.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { readMasterRecord } from '../../src/runtime/master-files.js';
import { readProcStat, signalGroup } from '../../src/runtime/proc.js';
import { startDaemonProcess, type DaemonProcess } from '../helpers/daemon-process.js';
import { waitUntil } from '../helpers/wait.js';

const JOBS = Number(process.env.SOAK_JOBS ?? 500);
const SEED = Number(process.env.SOAK_SEED ?? Date.now() % 2 ** 31);
/** Jobs in the queue or running at once: more than the 12 masters allowed, so that some wait to be cancelled there. */
const ACTIVE = 40;
const NODES = Array.from({ length: 8 }, (_, i) => `node0${i + 1}`);

interface Planned {
  id: number;
  lines: number;
  requeue: boolean;
}

interface Counts {
  cancelsPending: number;
  cancelsRunning: number;
  drains: number;
  downs: number;
  resumes: number;
  kills: number;
}

type Rng = ReturnType<typeof xoroshiro128plus>;
const pick = <T>(rng: Rng, items: readonly T[]): T => items[uniformInt(rng, 0, items.length - 1)]!;
const chance = (rng: Rng, percent: number): boolean => uniformInt(rng, 1, 100) <= percent;

/** N numbered lines to stdout, every 5th also to stderr, with short pauses so kills and downs find it running. */
function script(lines: number, pauseMs: number): string {
  const pause = (pauseMs / 1000).toFixed(2);
  return `#!/bin/bash
r=\${SLURM_RESTART_COUNT:-0}
for i in $(seq 1 ${lines}); do
  echo "soak j$GRM_JOB_ID r$r out $i"
  if (( i % 5 == 0 )); then echo "soak j$GRM_JOB_ID r$r err $i" >&2; sleep ${pause}; fi
done
`;
}

class Soak {
  d!: DaemonProcess;
  readonly planned = new Map<number, Planned>();
  readonly cancelled = new Set<number>();
  readonly counts: Counts = { cancelsPending: 0, cancelsRunning: 0, drains: 0, downs: 0, resumes: 0, kills: 0 };
  /** Nodes the soak drained or took down, still out of service. */
  readonly out = new Set<string>();

  constructor(
    readonly t: Test,
    readonly dataDir: string,
    readonly rng: Rng,
  ) {}

  async start(): Promise<void> {
    this.d = await startDaemonProcess(this.t, this.dataDir);
  }

  async api(method: string, route: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await this.d.api(method, route, body);
    if (res.status >= 500) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(res.body)}`);
    return res;
  }

  async active(): Promise<{ job_id: number; job_state: string; nodes: string | null }[]> {
    return (await this.api('GET', '/api/v1/jobs?state=PENDING,ALLOCATING,RUNNING,COMPLETING&limit=10000')).body.jobs;
  }

  async submit(): Promise<void> {
    const lines = uniformInt(this.rng, 20, 50);
    // one in ten may not be requeued: a node failure ends it NODE_FAIL
    const requeue = !chance(this.rng, 10);
    const pauseMs = pick(this.rng, [20, 100, 300]);
    const res = await this.api('POST', '/api/v1/jobs', { name: 'soak', script: script(lines, pauseMs), requeue });
    this.t.equal(res.status, 201, res.status === 201 ? `submitted job ${res.body.job_id}` : `submit: ${JSON.stringify(res.body)}`);
    this.planned.set(res.body.job_id, { id: res.body.job_id, lines, requeue });
  }

  /** kill -9 of the daemon, then a new one on the same data dir: the masters run on meanwhile. */
  async killAndRestart(): Promise<void> {
    this.d.child.kill('SIGKILL');
    const end = await this.d.exited;
    this.t.equal(end.signal, 'SIGKILL', 'the daemon was killed');
    this.counts.kills++;
    await this.start();
  }

  async cancel(jobs: { job_id: number; job_state: string }[], state: string): Promise<void> {
    const candidates = jobs.filter((j) => j.job_state === state && !this.cancelled.has(j.job_id));
    if (candidates.length === 0) return;
    const victim = pick(this.rng, candidates).job_id;
    const res = await this.api('DELETE', `/api/v1/jobs/${victim}`);
    // it may have ended between the listing and the cancel: then nothing is cancelled
    if (res.status >= 300) return;
    this.cancelled.add(victim);
    if (state === 'RUNNING') this.counts.cancelsRunning++;
    else this.counts.cancelsPending++;
  }

  async node(name: string, state: 'drain' | 'down' | 'resume'): Promise<void> {
    const res = await this.api('PATCH', `/api/v1/nodes/${name}`, state === 'resume' ? { state } : { state, reason: `soak ${state}` });
    this.t.equal(res.status, 200, res.status === 200 ? `${state} ${name}` : `${state} ${name}: ${JSON.stringify(res.body)}`);
    if (state === 'resume') {
      this.out.delete(name);
      this.counts.resumes++;
    } else {
      this.out.add(name);
      if (state === 'drain') this.counts.drains++;
      else this.counts.downs++;
    }
  }

  /** One random disturbance, or none. */
  async disturb(jobs: { job_id: number; job_state: string; nodes: string | null }[], downsLeft: () => boolean): Promise<void> {
    const roll = uniformInt(this.rng, 1, 100);
    if (roll <= 8) await this.cancel(jobs, 'PENDING');
    else if (roll <= 16) await this.cancel(jobs, 'RUNNING');
    else if (roll <= 20 && this.out.size < 3) await this.node(pick(this.rng, NODES.filter((n) => !this.out.has(n))), 'drain');
    else if (roll <= 28 && this.out.size > 0) await this.node(pick(this.rng, [...this.out]), 'resume');
    else if (roll <= 30 && this.out.size < 3 && downsLeft()) {
      // a node that runs something: its jobs are requeued (or end NODE_FAIL)
      const busy = [...new Set(jobs.filter((j) => j.job_state === 'RUNNING' && j.nodes).map((j) => j.nodes!))].filter((n) => !this.out.has(n));
      if (busy.length) await this.node(pick(this.rng, busy), 'down');
    }
  }
}

/** Every live process on the machine whose group is one a master of this soak had. */
function leftovers(pgids: Set<number>, dataDir: string): string[] {
  const found: string[] = [];
  for (const name of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    const st = readProcStat(Number(name));
    if (!st || st.state === 'Z' || st.state === 'X') continue;
    let cmd = '';
    try {
      cmd = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    if (pgids.has(st.pgrp) || cmd.includes(path.join(dataDir, 'jobs'))) found.push(`${st.pid} (group ${st.pgrp}): ${cmd}`);
  }
  return found;
}

/** The lines of one source as stored by the daemon. */
async function stored(s: Soak, id: number, source: string): Promise<string[]> {
  const { body } = await s.api('GET', `/api/v1/jobs/${id}/logs?source=${source}&limit=100000`);
  return (body.lines as { line: string }[]).map((l) => l.line);
}

const fileLines = (file: string): string[] => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').slice(0, -1) : []);

/**
 * What the job's files hold, checked against its script: each run's numbers a gap-free
 * prefix of 1..N; the last run of a COMPLETED job all of them. Returns problems, if any.
 */
function checkPrinted(p: Planned, state: string, restarts: number, out: string[], err: string[]): string[] {
  const problems: string[] = [];
  for (const [source, lines, step] of [['out', out, 1], ['err', err, 5]] as const) {
    const byRun = new Map<number, number[]>();
    for (const line of lines) {
      const m = new RegExp(`^soak j${p.id} r(\\d+) ${source} (\\d+)$`).exec(line);
      if (!m) {
        problems.push(`${source}: unexpected line ${JSON.stringify(line)}`);
        continue;
      }
      byRun.set(Number(m[1]), [...(byRun.get(Number(m[1])) ?? []), Number(m[2])]);
    }
    for (const [run, numbers] of byRun) {
      if (run > restarts) problems.push(`${source}: run ${run} printed, but restart_cnt is ${restarts}`);
      const want = numbers.map((_, i) => (i + 1) * step);
      if (JSON.stringify(numbers) !== JSON.stringify(want)) problems.push(`${source} run ${run}: ${numbers.join(',')} is not 1..k`);
    }
    const full = Math.floor(p.lines / step);
    if (state === 'COMPLETED' && (byRun.get(restarts)?.length ?? 0) !== full) problems.push(`${source}: the last run printed ${byRun.get(restarts)?.length ?? 0} of ${full}`);
  }
  return problems;
}

t.test(`soak: ${JOBS} jobs, random cancels, drains, downs and two daemon kill -9s (seed ${SEED})`, async (t) => {
  t.comment(`seed ${SEED} (replay: SOAK_SEED=${SEED})`);
  const began = Date.now();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-soak-'));
  const pgids = new Set<number>();
  t.teardown(() => {
    for (const g of pgids) signalGroup(g, 'SIGKILL');
    // SOAK_KEEP=1: the data dir stays for a post-mortem (its path is printed)
    if (process.env.SOAK_KEEP) t.comment(`data dir kept: ${dataDir}`);
    else fs.rmSync(dataDir, { recursive: true, force: true });
  });
  fs.writeFileSync(
    path.join(dataDir, 'grm.config.json'),
    JSON.stringify({
      cluster: { nodes: [{ names: 'node[01-08]', cpus: 4, memory: '16G' }], partitions: [{ name: 'batch', nodes: 'node[01-08]', default: true, maxTime: 'UNLIMITED' }] },
      maxConcurrentMasters: 12,
      rateLimit: { max: 0 },
      logs: { flushIntervalMs: 20, pollIntervalMs: 50 },
      runtime: { killGraceMs: 1000, runAsUser: false, maxBatchRequeue: 5 },
    }),
  );
  const rng = xoroshiro128plus(SEED);
  const s = new Soak(t, dataDir, rng);
  await s.start();
  // the two kills fall at seeded points in the second and third quarters of the submissions
  const kills = [uniformInt(rng, Math.floor(JOBS / 4), Math.floor(JOBS / 2)), uniformInt(rng, Math.floor(JOBS / 2) + 1, Math.floor((3 * JOBS) / 4))];
  const downsLeft = () => s.counts.downs < 3;
  while (s.planned.size < JOBS) {
    let jobs = await s.active();
    while (jobs.length >= ACTIVE) {
      await s.disturb(jobs, downsLeft);
      await new Promise((r) => setTimeout(r, 100));
      jobs = await s.active();
    }
    // in bursts, so that some wait in the queue (MaxMastersLimit, Resources) to be cancelled there
    const before = s.planned.size;
    for (let burst = Math.min(uniformInt(rng, 1, 10), JOBS - before); burst > 0; burst--) await s.submit();
    // as many chances of a disturbance as jobs submitted, against the listing taken before the burst
    for (let n = before; n < s.planned.size; n++) await s.disturb(await s.active(), downsLeft);
    if (kills.some((k) => k >= before && k < s.planned.size)) await s.killAndRestart();
  }
  for (const name of [...s.out]) await s.node(name, 'resume');
  await waitUntil('every job to end', async () => (await s.active()).length === 0, { timeoutMs: 540_000, intervalMs: 250 });
  await checkEnd(t, s, pgids);
  s.d.child.kill('SIGTERM');
  t.same(await s.d.exited, { code: 0, signal: null }, 'the last daemon stops cleanly');
  t.comment(`soak took ${((Date.now() - began) / 1000).toFixed(0)} s`);
});

async function checkEnd(t: Test, s: Soak, pgids: Set<number>): Promise<void> {
  const states = new Map<string, number>();
  let requeued = 0;
  let linesChecked = 0;
  const bad: string[] = [];
  for (const p of s.planned.values()) {
    const job = (await s.api('GET', `/api/v1/jobs/${p.id}`)).body;
    for (const e of job.events as { reason: string }[]) {
      const g = /process group (\d+)/.exec(e.reason);
      if (g) pgids.add(Number(g[1]));
    }
    const rec = readMasterRecord(path.join(s.dataDir, 'jobs', String(p.id)), p.id);
    if (rec) pgids.add(rec.pgid);
    states.set(job.job_state, (states.get(job.job_state) ?? 0) + 1);
    if (job.restart_cnt > 0) requeued++;
    const expected = job.job_state === 'CANCELLED' ? s.cancelled.has(p.id) : job.job_state === 'COMPLETED' ? job.exit_code === 0 : job.job_state === 'NODE_FAIL' && (!p.requeue || job.restart_cnt === 5);
    if (!expected) bad.push(`job ${p.id}: ${job.job_state} (exit ${job.exit_code}, requeue ${p.requeue}, restarts ${job.restart_cnt}, cancelled by the soak: ${s.cancelled.has(p.id)}): ${job.events.map((e: { reason: string }) => e.reason).join(' | ')}`);
    const dir = path.join(s.dataDir, 'jobs', String(p.id));
    const out = fileLines(path.join(dir, 'stdout.log'));
    const err = fileLines(path.join(dir, 'stderr.log'));
    for (const problem of checkPrinted(p, job.job_state, job.restart_cnt, out, err)) bad.push(`job ${p.id} printed: ${problem}`);
    const [gotOut, gotErr] = [await stored(s, p.id, 'stdout'), await stored(s, p.id, 'stderr')];
    if (JSON.stringify(gotOut) !== JSON.stringify(out)) bad.push(`job ${p.id} stdout: ${out.length} printed, ${gotOut.length} stored (${new Set(gotOut).size} distinct), first difference at ${gotOut.findIndex((l, i) => l !== out[i])}`);
    if (JSON.stringify(gotErr) !== JSON.stringify(err)) bad.push(`job ${p.id} stderr: ${err.length} printed, ${gotErr.length} stored (${new Set(gotErr).size} distinct)`);
    linesChecked += out.length + err.length;
  }
  t.same(bad, [], 'every job ended as driven, printed what its script prints, and has each printed line stored exactly once');
  t.equal(s.planned.size, JOBS, 'every job was submitted');
  t.ok((states.get('COMPLETED') ?? 0) > JOBS / 2, 'most jobs completed');
  t.same(leftovers(pgids, s.dataDir), [], `no process of any master is left (${pgids.size} process groups checked)`);
  const nodes = (await s.api('GET', '/api/v1/nodes')).body.nodes as { name: string; state: string; cpus_allocated: number }[];
  t.same(nodes.filter((n) => n.cpus_allocated !== 0 || n.state !== 'idle'), [], 'every node idle, nothing allocated');
  t.comment(
    `soak counts: ${[...states].map(([k, v]) => `${k} ${v}`).join(', ')}; ${requeued} requeued at least once; ${linesChecked} lines checked; ` +
      `disturbances: ${JSON.stringify(s.counts)}`,
  );
}
