// npm run bench: figures, not assertions. Runs the built daemon (dist/), as production does.
//   - submissions per second through the REST API (1,000 jobs, simulator backend)
//   - median time from allocation granted to master started (50 jobs)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validateConfig } from '../dist/config/load-config.js';
import { createDaemon } from '../dist/daemon.js';

const SUBMISSIONS = Number(process.env.BENCH_SUBMISSIONS ?? 1000);
const STARTS = Number(process.env.BENCH_STARTS ?? 50);
const IN_FLIGHT = 8;

async function withDaemon(overrides, fn) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-bench-'));
  const daemon = await createDaemon(validateConfig({ port: 0, dataDir, logLevel: 'silent', ...overrides }), { schedules: false });
  const url = await daemon.listen();
  try {
    return await fn(url, daemon);
  } finally {
    for (const id of daemon.runner.runningJobIds()) await daemon.runner.stopMaster(id).catch(() => {});
    await daemon.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const post = (url, body) =>
  fetch(`${url}/api/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => {
    if (r.status !== 201) throw new Error(`submit: ${r.status} ${await r.text()}`);
    return r.json();
  });

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

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
