// npm run bench: figures, not assertions. Runs the built daemon (dist/), as production does.
//   - submissions per second through the REST API (1,000 jobs, simulator backend)
//   - median time from allocation granted to master started (50 jobs)
//   - the supervisors' memory per running job (50 jobs)
//   - the queue at scale: submissions first vs last with 20,000 queued, listing, a 10,000-task array
//   - the simulator's scheduling pass vs queue length (bench/scheduler-pass.mjs)
//   - the queue policy over 100,000 pending jobs of 1,000 users (bench/policy.mjs)
//   - grm simulate: jobs simulated per second, the KTH-SP2 replay (bench/simulate.mjs)
//   - recovery after kill -9 with 100 active jobs: serving, masters reattached, lines lost (bench/recovery.mjs)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { api } from './api.mjs';
import { median, post, withDaemon } from './daemon.mjs';

const SUBMISSIONS = Number(process.env.BENCH_SUBMISSIONS ?? 1000);
const STARTS = Number(process.env.BENCH_STARTS ?? 50);
const IN_FLIGHT = 8;

// 1. Submissions: jobs held by a begin time an hour away, so the figure is the submit path
//    (validation, parse of #SBATCH, SQLite insert + event, dispatcher pass), not masters.
const begin = new Date(Date.now() + 3_600_000).toISOString();
const submitted = await withDaemon({}, async (url) => {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < SUBMISSIONS) {
        next++;
        await post(url, { name: 'bench', begin_time: begin, script: '#!/bin/sh\n#SBATCH -N 1\ntrue\n' });
      }
    }),
  );
  return (performance.now() - started) / 1000;
});
console.log(`submissions: ${SUBMISSIONS} jobs in ${submitted.toFixed(2)} s = ${(SUBMISSIONS / submitted).toFixed(0)} jobs/s (REST, ${IN_FLIGHT} in flight)`);

// 2. Allocation -> master started, from the job's own events.
const latencies = await withDaemon({ maxConcurrentMasters: 4 }, async (url, daemon) => {
  const ids = [];
  for (let i = 0; i < STARTS; i++) ids.push((await post(url, { name: 'start', script: '#!/bin/sh\ntrue\n' })).job_id);
  const deadline = Date.now() + 300_000;
  while (daemon.store.countInStates(['PENDING', 'ALLOCATING', 'RUNNING', 'COMPLETING']) > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  return ids.map((id) => {
    const events = daemon.store.events(id);
    const granted = events.find((e) => e.reason.startsWith('allocated '));
    const started = events.find((e) => e.reason.startsWith('master started'));
    return started.time - granted.time;
  });
});
console.log(
  `allocation -> master started: median ${median(latencies).toFixed(0)} ms, min ${Math.min(...latencies)} ms, max ${Math.max(...latencies)} ms (${STARTS} jobs, 4 at a time)`,
);

// 2b. What a running job costs beside its master: the supervisors' resident memory, all of
//     them at once (processes named grm-supervisor, summed from /proc).
const RUNNING = Number(process.env.BENCH_RUNNING ?? 50);
function supervisorRssKiB() {
  let total = 0;
  let count = 0;
  for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'grm-supervisor') continue;
      total += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      count++;
    } catch {
      // gone meanwhile
    }
  }
  return { total, count };
}
const sup = await withDaemon(
  {
    maxConcurrentMasters: RUNNING,
    cluster: { nodes: [{ names: `b[001-${String(RUNNING).padStart(3, '0')}]`, cpus: 1, memory: '1G' }], partitions: [{ name: 'bench', nodes: `b[001-${String(RUNNING).padStart(3, '0')}]`, default: true }] },
  },
  async (url, daemon) => {
    for (let i = 0; i < RUNNING; i++) await post(url, { name: 'hold', script: '#!/bin/sh\nsleep 600\n' });
    const deadline = Date.now() + 120_000;
    while (daemon.store.countInStates(['RUNNING']) < RUNNING && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    return supervisorRssKiB();
  },
);
console.log(
  `supervisors: ${sup.count} running jobs, ${(sup.total / 1024).toFixed(1)} MiB resident in all = ${(sup.total / 1024 / Math.max(1, sup.count)).toFixed(2)} MiB per job (goal <= 5 MiB; the Node.js supervisor was 43 MiB)`,
);

// 3. Log ingest WITH the search index: LogStore.append in 20,000-line transactions (the
//    aggregator's big-batch path) while the indexer worker indexes in parallel. "sustained" is
//    lines / time until the last line is searchable.
const { openDatabase } = await import('../dist/store/database.js');
const { LogStore } = await import('../dist/store/log-store.js');
const { LogSearch } = await import('../dist/store/log-search.js');
const INGEST = Number(process.env.BENCH_INGEST_LINES ?? 2_000_000);
const SEARCH_LINES = Number(process.env.BENCH_SEARCH_LINES ?? 10_000_000);
const WORDS = ['epoch', 'loss', 'accuracy', 'worker', 'task', 'transfer', 'completed', 'scheduled', 'gradient', 'batch'];
// ~100-byte lines of 12 tokens, 1 in 97 an ERROR; built once (building them costs more than
// storing them) and reused cyclically, so each distinct id-N occurs every POOL lines
const POOL = 200_000;
const pool = Array.from(
  { length: POOL },
  (_, i) => `${i % 97 === 0 ? 'ERROR' : 'INFO'} [${WORDS[i % 10]}] task ${i % 5003} on node${String(i % 64).padStart(2, '0')} ${WORDS[(i * 7) % 10]} value=${(i % 1000) / 1000} id-${i}`,
);
const logLine = (i) => pool[i % POOL];

async function fill(dir, total, { jobs = 100, batch = 20_000, onProgress } = {}) {
  const db = openDatabase(path.join(dir, 'grm.sqlite'));
  const store = new LogStore(db);
  const search = new LogSearch({ db, file: path.join(dir, 'grm-search.sqlite') }).start();
  const seqs = new Array(jobs + 1).fill(0);
  const ts = Date.now();
  const t0 = performance.now();
  for (let done = 0; done < total; done += batch) {
    const lines = [];
    const job = 1 + ((done / batch) % jobs);
    for (let i = done; i < Math.min(total, done + batch); i++) lines.push({ jobId: job, seq: ++seqs[job], ts: ts + Math.floor(i / 1000), source: 'stdout', line: logLine(i) });
    store.append(lines);
    // let the indexer's messages through, as the daemon's event loop would
    if ((done / batch) % 10 === 0) await new Promise((r) => setImmediate(r));
    onProgress?.(done);
  }
  const stored = (performance.now() - t0) / 1000;
  await search.catchUp();
  const indexed = (performance.now() - t0) / 1000;
  return { db, store, search, stored, indexed };
}

{
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-bench-logs-'));
  const { db, search, stored, indexed } = await fill(dir, INGEST);
  console.log(
    `log ingest with search index: ${INGEST} lines stored in ${stored.toFixed(2)} s = ${(INGEST / stored).toFixed(0)} lines/s; ` +
      `all searchable after ${indexed.toFixed(2)} s = ${(INGEST / indexed).toFixed(0)} lines/s sustained (index lag at end of ingest ${(indexed - stored).toFixed(2)} s) (BENCH_INGEST_LINES=${INGEST})`,
  );
  await search.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

// 4. Search latency over SEARCH_LINES stored and indexed lines (100 jobs).
{
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-bench-search-'));
  const t0 = performance.now();
  const { db, search } = await fill(dir, SEARCH_LINES, { batch: 100_000 });
  console.log(`search corpus: ${SEARCH_LINES} lines stored and indexed in ${((performance.now() - t0) / 1000).toFixed(1)} s (BENCH_SEARCH_LINES=${SEARCH_LINES})`);
  const pct = (values, p) => {
    const s = [...values].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
  };
  const queries = [
    [`rare phrase (${Math.ceil(SEARCH_LINES / POOL)} hits)`, () => ({ q: `"id-${Math.floor(Math.random() * POOL)}"` })],
    ['common term, newest 100', () => ({ q: WORDS[Math.floor(Math.random() * 10)], limit: 100 })],
    ['two terms AND', () => ({ q: `gradient AND node${String(Math.floor(Math.random() * 64)).padStart(2, '0')}`, limit: 100 })],
    ['one job, level=error', () => ({ q: 'task', job: 1 + Math.floor(Math.random() * 100), level: 'error', limit: 100 })],
  ];
  for (const [name, make] of queries) {
    const times = [];
    for (let i = 0; i < 200; i++) {
      const q = make();
      const s = performance.now();
      search.search(q);
      times.push(performance.now() - s);
    }
    console.log(`search over ${SEARCH_LINES} lines, ${name}: p50 ${pct(times, 50).toFixed(2)} ms, p99 ${pct(times, 99).toFixed(2)} ms (200 queries)`);
  }
  await search.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

// 5. Live tail: a real master prints its clock every 20 ms; the SSE client measures arrival - print.
{
  const TAIL = Number(process.env.BENCH_TAIL_LINES ?? 200);
  const delays = await withDaemon({}, async (url) => {
    const script = `#!/bin/bash\nfor i in $(seq 1 ${TAIL}); do echo "t $(date +%s%3N)"; sleep 0.02; done\n`;
    const id = (await post(url, { name: 'tail', script })).job_id;
    const res = await api(url, `/api/v1/jobs/${id}/logs/stream?source=stdout`);
    const out = [];
    const decoder = new TextDecoder();
    let text = '';
    for await (const chunk of res.body) {
      const now = Date.now();
      text += decoder.decode(chunk, { stream: true });
      let cut;
      while ((cut = text.indexOf('\n\n')) >= 0) {
        const block = text.slice(0, cut);
        text = text.slice(cut + 2);
        const m = /"line":"t (\d+)"/.exec(block);
        if (m) out.push(now - Number(m[1]));
        if (block.startsWith('event: end')) return out;
      }
    }
    return out;
  });
  const s = [...delays].sort((a, b) => a - b);
  console.log(`live tail, master line -> SSE client: p50 ${s[Math.floor(s.length / 2)]} ms, p99 ${s[Math.floor(s.length * 0.99)]} ms (${s.length} lines, default logs config)`);
}

// 5b. Recovery after kill -9 of a real bin/grmd.js with 100 active jobs (bench/recovery.mjs).
{
  const { recoveryBench } = await import('./recovery.mjs');
  await recoveryBench();
}

// 6. The queue at scale, and the simulator's scheduling pass against queue length.
{
  const { queueBench, daemonRss } = await import('./queue.mjs');
  await queueBench({ withDaemon, post });
  await daemonRss();
  const { execFileSync } = await import('node:child_process');
  process.stdout.write(execFileSync(process.execPath, [new URL('./scheduler-pass.mjs', import.meta.url).pathname], { encoding: 'utf8' }));
}

// 6b. The queue policy at scale (priorities, fair share, usage over 100,000 pending jobs).
{
  const { policyBench } = await import('./policy.mjs');
  await policyBench();
}

// 6c. grm simulate: replays on a virtual clock (bench/simulate.mjs).
{
  const { simulateBench } = await import('./simulate.mjs');
  simulateBench();
}

// 7. The SLURM backend, when a cluster is given.
if (process.env.SLURM_CONF) {
  const { slurmBench } = await import('./slurm.mjs');
  await slurmBench({ withDaemon, post, median });
} else {
  console.log('slurm: skipped (set SLURM_CONF to a cluster, e.g. eval "$(scripts/slurm-cluster.sh start)")');
}
