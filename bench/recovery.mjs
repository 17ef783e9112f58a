// Recovery after kill -9 (issue 18's figures): a real bin/grmd.js on the simulator with
// BENCH_RECOVERY_JOBS (100) active jobs, half running (each printing a line every 50 ms) and
// half pending, is killed with SIGKILL and started again on the same data dir. Measured from
// the restart (spawn of the new process): the daemon serving again (GET /api/v1/health 200),
// and every running master reattached (the time of each job's "master reattached" event; the
// pending half waits in the queue, MaxMastersLimit, throughout). Then the jobs are let
// finish, and every job's stored stdout is compared with its stdout.log: lines lost and lines
// stored twice are counted (both must be 0). Figures, not assertions.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { api, useDaemonToken } from './api.mjs';
import { post } from './daemon.mjs';

const GRMD = new URL('../bin/grmd.js', import.meta.url).pathname;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function startGrmd(dataDir) {
  const env = { PATH: process.env.PATH ?? '', GRM_HOST: '127.0.0.1', GRM_PORT: '0', GRM_DATA_DIR: dataDir, GRM_LOG_LEVEL: 'info' };
  const child = spawn(process.execPath, [GRMD], { cwd: dataDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const url = new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /listening on (\S+?)[" ]/.exec(line);
      if (m) resolve(m[1]);
    });
    exited.then(({ code, signal }) => reject(new Error(`grmd exited (${signal ?? code}) before listening: ${stderr}`)));
  });
  return { child, exited, url };
}

async function until(what, probe, timeoutMs = 600_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`recovery bench: waited ${timeoutMs} ms for ${what}`);
    await sleep(100);
  }
}

const getJson = async (url, route) => (await api(url, route)).json();
const activeJobs = async (url, state) => (await getJson(url, `/api/v1/jobs?state=${state}&limit=10000`)).jobs;
const eventTimes = (job, pattern) => job.events.filter((e) => pattern.test(e.reason)).map((e) => Date.parse(e.time));

/** The numbers measured after the restart at `restartedAt` (ms since the epoch). */
async function measureRestart(dataDir, running, restartedAt, holder) {
  const daemon = (holder.daemon = startGrmd(dataDir));
  const url = await daemon.url;
  useDaemonToken(url, dataDir);
  await until('health', async () => (await fetch(`${url}/api/v1/health`).catch(() => null))?.status === 200);
  const serving = Date.now() - restartedAt;
  // each job asked until its event is there (the daemon has masters to follow meanwhile)
  const seen = new Map();
  const reattached = await until('every running master reattached', async () => {
    for (const id of running.filter((j) => !seen.has(j))) {
      const t = eventTimes(await getJson(url, `/api/v1/jobs/${id}`), /^master reattached/);
      if (t.length) seen.set(id, t[0]);
    }
    return seen.size === running.length && Math.max(...seen.values()) - restartedAt;
  });
  return { url, serving, reattached };
}

/** Lines printed (stdout.log) but not stored, and stored more than once, over every job. */
async function countLines(url, dataDir, ids) {
  let printed = 0;
  let lost = 0;
  let twice = 0;
  for (const id of ids) {
    const file = path.join(dataDir, 'jobs', String(id), 'stdout.log');
    const written = fs.readFileSync(file, 'utf8').split('\n').slice(0, -1);
    const stored = (await getJson(url, `/api/v1/jobs/${id}/logs?source=stdout&limit=100000`)).lines.map((l) => l.line);
    const counts = new Map();
    for (const l of stored) counts.set(l, (counts.get(l) ?? 0) + 1);
    printed += written.length;
    lost += written.filter((l) => !counts.has(l)).length;
    twice += [...counts.values()].filter((n) => n > 1).length;
  }
  return { printed, lost, twice };
}

export async function recoveryBench() {
  const JOBS = Number(process.env.BENCH_RECOVERY_JOBS ?? 100);
  const running = Math.ceil(JOBS / 2);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-bench-recovery-'));
  const nodes = `r[001-${String(running).padStart(3, '0')}]`;
  const config = {
    cluster: { nodes: [{ names: nodes, cpus: 1, memory: '1G' }], partitions: [{ name: 'bench', nodes, default: true, maxTime: 'UNLIMITED' }] },
    maxConcurrentMasters: running,
    rateLimit: { max: 0 },
    ...(process.getuid?.() === 0 ? { runtime: { runAsUser: false } } : {}),
  };
  fs.writeFileSync(path.join(dataDir, 'grm.config.json'), JSON.stringify(config));
  const go = path.join(dataDir, 'go');
  // numbered lines every 50 ms until told, then 50 more: output flows across the kill and the restart
  const script = `#!/bin/bash\ni=0\nuntil [ -e '${go}' ]; do i=$((i+1)); echo "a $i"; sleep 0.05; done\nfor j in $(seq 1 50); do echo "b $j"; done\n`;
  // the daemon running now, also after the restart: stopped at the end, also on failure
  const holder = { daemon: startGrmd(dataDir) };
  try {
    const url = await holder.daemon.url;
    useDaemonToken(url, dataDir);
    const ids = [];
    for (let i = 0; i < JOBS; i++) ids.push((await post(url, { name: 'recovery', script })).job_id);
    const runningIds = await until(`${running} running`, async () => {
      const r = await activeJobs(url, 'RUNNING');
      return r.length === running ? r.map((j) => j.job_id) : null;
    });
    const load = os.loadavg()[0].toFixed(2);
    holder.daemon.child.kill('SIGKILL');
    await holder.daemon.exited;
    const restartedAt = Date.now();
    const after = await measureRestart(dataDir, runningIds, restartedAt, holder);
    fs.writeFileSync(go, '');
    await until('every job to end', async () => (await activeJobs(after.url, 'PENDING,ALLOCATING,RUNNING,COMPLETING')).length === 0);
    const ended = await activeJobs(after.url, 'COMPLETED');
    const lines = await countLines(after.url, dataDir, ids);
    console.log(
      `recovery after kill -9 with ${JOBS} active jobs (${running} running, ${JOBS - running} pending; load ${load} at the kill): ` +
        `serving after ${after.serving} ms, all ${running} masters reattached after ${after.reattached} ms, ` +
        `${ended.length}/${JOBS} COMPLETED; lines lost ${lines.lost}, stored twice ${lines.twice} (of ${lines.printed} printed) (BENCH_RECOVERY_JOBS=${JOBS})`,
    );
  } finally {
    for (const dir of fs.existsSync(path.join(dataDir, 'jobs')) ? fs.readdirSync(path.join(dataDir, 'jobs')) : []) {
      try {
        process.kill(-JSON.parse(fs.readFileSync(path.join(dataDir, 'jobs', dir, 'master.json'), 'utf8')).pgid, 'SIGKILL');
      } catch {
        // no master, or gone
      }
    }
    const { child, exited } = holder.daemon;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await recoveryBench();
