// The queue policy at scale (issue 16): 100,000 pending jobs from 1,000 users in 10 accounts.
// Figures only: the usage rebuild at start, one priority recalculation of every pending job
// (age and fair share weighted, so every priority moves), one sprio page, the sshare tree.
// Run by bench/run.mjs; BENCH_POLICY_JOBS and BENCH_POLICY_USERS set the sizes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../dist/backends/simulator/clock.js';
import { validateConfig } from '../dist/config/load-config.js';
import { Dispatcher } from '../dist/jobs/dispatcher.js';
import { QueuePolicy } from '../dist/jobs/queue-policy.js';
import { QueueStore } from '../dist/store/queue-store.js';
import { resolvePolicyConfig } from '../dist/policy/policy-config.js';
import { openDatabase } from '../dist/store/database.js';
import { JobStore } from '../dist/store/job-store.js';
import { PolicyStore } from '../dist/store/policy-store.js';

const JOBS = Number(process.env.BENCH_POLICY_JOBS ?? 100_000);
const USERS = Number(process.env.BENCH_POLICY_USERS ?? 1000);

export async function policyBench() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-bench-policy-'));
  try {
    const db = openDatabase(path.join(dir, 'grm.sqlite'));
    const clock = new ManualClock(Date.parse('2026-12-01T00:00:00Z'));
    const store = new JobStore(db, () => clock.now());
    const accounts = Array.from({ length: 10 }, (_, i) => ({ name: `acct${i}`, shares: 1 + i }));
    // every other user at a MaxJobs of 0: the pass must skip their jobs with a reason, not stop
    const users = Array.from({ length: USERS }, (_, i) => ({ name: `u${i}`, account: `acct${i % 10}`, ...(i % 2 ? { limits: { maxJobs: 0 } } : {}) }));
    const section = validateConfig({ policy: { weights: { age: 1000, fairshare: 10000, jobSize: 100 }, accounts, users } }).policy;
    const config = resolvePolicyConfig(section, { queueDepth: 100 });
    db.transaction(() => {
      for (let i = 0; i < JOBS; i++) {
        const u = users[i % USERS];
        store.insert(
          { name: 'b', user: u.name, partition: 'batch', description: { account: u.account, minimum_nodes: 1 + (i % 4) }, script: '#!/bin/sh\n', argv: [], runtime: 'command', environment: {}, timeLimitMinutes: 60, nice: 0, submitTime: clock.now() - i * 1000 },
          'bench',
        );
      }
    })();
    const policyStore = new PolicyStore(db);
    // some usage to share: every user charged a different amount
    policyStore.saveUsage(users.map((u, i) => [`${u.account}/${u.name}`, { value: (i % 97) * 3600, asOf: clock.now() }]), clock.now());
    const policy = new QueuePolicy({ config, store, policyStore, clock, cluster: { nodes: 1000, cpus: 32000 }, calcPeriodMs: 300_000, onError: (e) => console.error(e) });
    let t0 = performance.now();
    policy.start(); // its first calculation runs on: measured apart below
    const startMs = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 0));
    while (policy.calculating) await new Promise((r) => setImmediate(r));
    clock.advance(60_000);
    t0 = performance.now();
    let longestTurn = 0;
    let last = performance.now();
    const probe = setInterval(() => {
      longestTurn = Math.max(longestTurn, performance.now() - last);
      last = performance.now();
    }, 0);
    await policy.recalculate();
    clearInterval(probe);
    const recalcMs = performance.now() - t0;
    t0 = performance.now();
    const page = policy.sprio({ after: 0, limit: 1000 });
    const sprioMs = performance.now() - t0;
    t0 = performance.now();
    const shares = policy.sshare();
    const sshareMs = performance.now() - t0;
    let sent = 0;
    // one dispatch pass over this queue: the head (queueDepth 100) checked against the limits,
    // 10 sent (look-ahead) to a backend that takes them and never grants
    const backend = { kind: 'simulator', async validate() {}, async allocate(r) { sent++; return `b${r.jobId}`; }, async release() {}, async partitions() { return [{ name: 'batch', isDefault: true, maxTimeMinutes: null, defaultTimeMinutes: null, nodes: ['n1'], state: 'UP' }]; }, async nodes() { return []; }, onEvent() {} };
    const runner = { async onGranted() {}, async onBackendEnded() {}, async stopMaster() { return false; } };
    const dispatcher = new Dispatcher({ store, queue: new QueueStore(db, store), clock, backend, runner, policy, lookAhead: 10, maxConcurrentMasters: 1000, queueDepth: 100, onError: (e) => console.error(e) });
    const passes = [];
    for (let i = 0; i < 3; i++) {
      t0 = performance.now();
      dispatcher.wake();
      await dispatcher.idle();
      passes.push(performance.now() - t0);
    }
    const limited = db.prepare("SELECT count(*) FROM jobs WHERE reason = 'AssocMaxJobsLimit'").pluck().get();
    dispatcher.stop();
    policy.stop();
    db.close();
    console.log(
      `policy, ${JOBS} pending jobs of ${USERS} users: start (usage rebuild) ${startMs.toFixed(0)} ms; ` +
        `priority recalculation of every pending job ${recalcMs.toFixed(0)} ms (${((recalcMs * 1000) / JOBS).toFixed(1)} µs a job, the event loop held at most ${longestTurn.toFixed(0)} ms at a time); ` +
        `sprio page of ${page.rows.length} ${sprioMs.toFixed(1)} ms; sshare (${shares.length} rows) ${sshareMs.toFixed(1)} ms; ` +
        `one admission pass (head of 100, half its users at a limit, 10 sent): first ${passes[0].toFixed(1)} ms, then ${passes[2].toFixed(1)} ms (${sent} sent, ${limited} given AssocMaxJobsLimit)`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await policyBench();
