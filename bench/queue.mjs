// The queue at scale (issue 13): does a submission cost the same with 20,000 jobs queued as
// with none? Figures only. Run by bench/run.mjs; BENCH_QUEUE sets the queue length.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { api, tokenFor } from './api.mjs';

// async: the daemon answering the CLI runs in this very process
const run = promisify(execFile);

const GRM = new URL('../bin/grm.js', import.meta.url).pathname;
const GRMD = new URL('../bin/grmd.js', import.meta.url).pathname;
// the flags of grmd.js's #! line (`#!/usr/bin/env -S node FLAGS`), given here to this node
const GRMD_NODE_FLAGS = (await import('node:fs')).readFileSync(GRMD, 'utf8').split('\n')[0].replace(/^#!.*?\bnode\b\s*/, '').split(/\s+/).filter(Boolean);
const QUEUE = Number(process.env.BENCH_QUEUE ?? 20_000);
const WINDOW = Math.max(1, Math.floor(QUEUE / 10));
const IN_FLIGHT = 8;
// submitted first and not timed: the first window would otherwise measure V8 warming up
const WARM_UP = 1000;

/** Submits `n` bodies, 8 in flight; returns each submission's completion time (ms, in order). */
async function submitAll(url, post, n, body) {
  const done = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < n) {
        next++;
        await post(url, body);
        done.push(performance.now());
      }
    }),
  );
  return done;
}

/** Jobs per second over the first and the last WINDOW submissions. */
function rates(done, started) {
  const first = WINDOW / ((done[WINDOW - 1] - started) / 1000);
  const last = WINDOW / ((done[done.length - 1] - done[done.length - 1 - WINDOW]) / 1000);
  return { first, last };
}

const mib = (bytes) => `${(bytes / 1048576).toFixed(0)} MiB`;

async function listAll(url) {
  const t0 = performance.now();
  let cursor = null;
  let n = 0;
  let pages = 0;
  do {
    const r = await api(url, `/api/v1/jobs?state=all&limit=1000${cursor ? `&cursor=${cursor}` : ''}`).then((r) => r.json());
    n += r.jobs.length;
    pages++;
    cursor = r.next_cursor;
  } while (cursor);
  return { n, pages, ms: performance.now() - t0 };
}

export async function queueBench({ withDaemon, post }) {
  const script = '#!/bin/sh\n#SBATCH -N 1\ntrue\n';
  // 1. held by a begin time: the jobs wait outside the eligible queue
  const begin = new Date(Date.now() + 3_600_000).toISOString();
  await withDaemon({}, async (url) => {
    await submitAll(url, post, WARM_UP, { name: 'warm-up', begin_time: begin, script });
    const t0 = performance.now();
    const done = await submitAll(url, post, QUEUE, { name: 'bench', begin_time: begin, script });
    const { first, last } = rates(done, t0);
    console.log(
      `queue, ${QUEUE} jobs waiting for --begin (after ${WARM_UP} warm-up): first ${WINDOW} at ${first.toFixed(0)} jobs/s, last ${WINDOW} at ${last.toFixed(0)} jobs/s (ratio ${(last / first).toFixed(2)}); daemon RSS ${mib(process.memoryUsage().rss)}`,
    );
    const list = await listAll(url);
    console.log(`list all ${list.n} jobs through the API (1,000 a page): ${list.pages} pages in ${list.ms.toFixed(0)} ms`);
    const t1 = performance.now();
    const { stdout: out } = await run(process.execPath, [GRM, 'squeue', '-h'], { env: { ...process.env, GRM_URL: url, GRM_TOKEN: tokenFor(url) }, encoding: 'utf8', maxBuffer: 1 << 30 });
    const lines = out.split('\n').filter(Boolean).length;
    console.log(`grm squeue of ${lines} pending jobs (a process of its own, every page): ${(performance.now() - t1).toFixed(0)} ms`);
  });
  // 2. eligible but waiting: one master slot, taken by a long job, so every pass finds a full
  //    queue and must stop at its head (queueDepth) instead of reading it all
  await withDaemon({ maxConcurrentMasters: 1 }, async (url, daemon) => {
    const blocker = await post(url, { name: 'blocker', script: '#!/bin/sh\nsleep 3600\n' });
    await submitAll(url, post, WARM_UP, { name: 'warm-up', script });
    const t0 = performance.now();
    const done = await submitAll(url, post, QUEUE, { name: 'bench', script });
    const { first, last } = rates(done, t0);
    console.log(
      `queue, ${QUEUE} eligible jobs behind a full cluster (MaxMastersLimit; after ${WARM_UP} warm-up): first ${WINDOW} at ${first.toFixed(0)} jobs/s, last ${WINDOW} at ${last.toFixed(0)} jobs/s (ratio ${(last / first).toFixed(2)}); daemon RSS ${mib(process.memoryUsage().rss)}`,
    );
    await api(url, `/api/v1/jobs/${blocker.job_id}`, { method: 'DELETE' });
    void daemon;
  });
  // 3. one array of 10,000 tasks: one row until its tasks start
  await withDaemon({ maxConcurrentMasters: 1, scheduler: { maxArraySize: 10_001 } }, async (url, daemon) => {
    const t0 = performance.now();
    const { job_id } = await post(url, { name: 'sweep', array: '1-10000', hold: true, script });
    const ms = performance.now() - t0;
    const rows = daemon.db.prepare('SELECT count(*) FROM jobs').pluck().get();
    console.log(`array of 10,000 tasks: submitted in ${ms.toFixed(1)} ms, ${rows} row(s) stored until it starts (job ${job_id})`);
  });
}

/**
 * The daemon's own RSS, as a process of its own (bin/grmd.js, as deployed): idle, and with each
 * of `counts` jobs queued (issue 13: under 150 MB at 20,000 and at 100,000, not growing with the
 * queue); the ratio of the last to the first says whether memory follows the queue.
 * The in-process figures above include the bench's client. BENCH_RSS_DETAIL=1 also prints the
 * daemon's V8 heap and native memory (bench/memory-probe.mjs, preloaded, answers over IPC).
 * Run alone: `BENCH_QUEUE=20000 node bench/queue.mjs` (after `npm run build`): 20,000 then 100,000.
 */
export async function daemonRss(counts = [QUEUE, Math.max(QUEUE, Number(process.env.BENCH_RSS_MAX ?? 100_000))]) {
  const { spawn } = await import('node:child_process');
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const detail = process.env.BENCH_RSS_DETAIL === '1';
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-bench-rss-'));
  // no rate limit: the bench floods on purpose; and, as the tests do, masters as this account
  // (a root daemon refuses jobs of users it has no account for; these never run anyway)
  const config = path.join(dataDir, 'grm.config.json');
  fs.writeFileSync(config, JSON.stringify({ rateLimit: { max: 0 }, ...(process.getuid?.() === 0 ? { runtime: { runAsUser: false } } : {}) }));
  // a random port in a range the OS does not hand out to clients (GRM's own daemons use 0 in-process)
  const port = 20000 + Math.floor(Math.random() * 10000);
  const probe = detail ? ['--import', new URL('./memory-probe.mjs', import.meta.url).href] : [];
  // as deployed (npm start, systemd, the image): bin/grmd.js, with its node flags
  const child = spawn(process.execPath, [...GRMD_NODE_FLAGS, ...probe, GRMD], {
    env: { ...process.env, GRM_CONFIG: config, GRM_DATA_DIR: dataDir, GRM_PORT: String(port), GRM_LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'ignore', 'inherit', ...(detail ? ['ipc'] : [])],
  });
  const url = `http://127.0.0.1:${port}`;
  const status = () => fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const kib = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status())[1]) * 1024;
  const memory = async () => {
    const m = `RSS ${mib(kib('VmRSS'))} (anonymous ${mib(kib('RssAnon'))}, files ${mib(kib('RssFile'))})`;
    if (!detail) return m;
    const r = await new Promise((resolve) => {
      child.once('message', resolve);
      child.send('memory');
    });
    return `${m}; V8 heap ${mib(r.heapTotal)} (used ${mib(r.heapUsed)}; ${r.spaces}), external ${mib(r.external)}, arrayBuffers ${mib(r.arrayBuffers)}, threads ${r.threads}`;
  };
  try {
    for (let i = 0; ; i++) {
      try {
        await fetch(`${url}/api/v1/health`);
        break;
      } catch (e) {
        if (i > 150 || child.exitCode !== null) throw new Error(`grm daemon did not answer on ${url}`, { cause: e });
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const idle = await memory();
    // a daemon with authentication writes its first admin's token there
    const tokenFile = path.join(dataDir, 'admin.token');
    const auth = fs.existsSync(tokenFile) ? { authorization: `Bearer ${fs.readFileSync(tokenFile, 'utf8').trim()}` } : {};
    const begin = new Date(Date.now() + 3_600_000).toISOString();
    const post = async (body) => {
      const r = await fetch(`${url}/api/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify(body) });
      const text = await r.text();
      // a refused submission costs the daemon nothing: the figure would be wrong, not slow
      if (r.status !== 201) throw new Error(`submit: ${r.status} ${text}`);
    };
    console.log(`grm daemon as its own process: ${idle} idle`);
    let next = 0;
    const rss = [];
    for (const n of [...new Set(counts)]) {
      await Promise.all(Array.from({ length: IN_FLIGHT }, async () => { while (next < n) { next++; await post({ name: 'bench', begin_time: begin, script: '#!/bin/sh\ntrue\n' }); } }));
      rss.push(kib('VmRSS'));
      console.log(`grm daemon as its own process: ${await memory()} with ${n} jobs queued`);
    }
    if (rss.length > 1) console.log(`grm daemon RSS, ${counts.at(-1)} vs ${counts[0]} jobs queued: ${(rss.at(-1) / rss[0]).toFixed(2)}x (goal: < 150 MiB at both)`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href) await daemonRss();
