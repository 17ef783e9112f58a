import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { openDatabase } from '../../src/store/database.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { JobStore } from '../../src/store/job-store.js';
import { LogStore } from '../../src/store/log-store.js';

function store(t: { teardown(fn: () => void): void }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-store-'));
  const db = openDatabase(path.join(dir, 'grm.sqlite'));
  t.teardown(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { db, jobs: new JobStore(db), logs: new LogStore(db), file: path.join(dir, 'grm.sqlite') };
}

const newJob = { name: 'j', user: 'u', partition: 'batch', description: { minimum_nodes: 2 }, script: '#!/bin/sh\n', argv: [], runtime: 'command' as const, environment: {}, timeLimitMinutes: null, nice: 0, submitTime: 1000 };

t.test('migrations are applied once and recorded', async (t) => {
  const { db, file } = store(t);
  t.same(db.prepare('SELECT version FROM schema_migrations ORDER BY version').all(), MIGRATIONS.map((m) => ({ version: m.version })));
  const again = openDatabase(file);
  t.same(again.prepare('SELECT count(*) AS n FROM schema_migrations').get(), { n: MIGRATIONS.length });
  again.close();
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal');
});

t.test('insert stores a PENDING job and its submitted event', async (t) => {
  const { jobs } = store(t);
  const job = jobs.insert(newJob, 'user:u');
  t.equal(job.state, 'PENDING');
  t.same(job.description, { minimum_nodes: 2 });
  t.same(jobs.events(job.id).map((e) => [e.fromState, e.toState, e.reason, e.actor]), [[null, 'PENDING', 'submitted', 'user:u']]);
});

t.test('a transition writes the state and its event together', async (t) => {
  const { jobs } = store(t);
  const job = jobs.insert(newJob, 'user:u');
  const heard: string[] = [];
  jobs.onEvent((e) => heard.push(`${e.fromState}->${e.toState}`));
  const next = jobs.transition(job.id, 'PENDING', 'ALLOCATING', 'sent', 'dispatcher', { backendId: 'sim-1' });
  t.equal(next.state, 'ALLOCATING');
  t.equal(next.backendId, 'sim-1');
  t.same(heard, ['PENDING->ALLOCATING'], 'listeners hear after commit');
  t.equal(jobs.events(job.id).length, 2);
});

t.test('an illegal transition writes nothing', async (t) => {
  const { jobs } = store(t);
  const job = jobs.insert(newJob, 'user:u');
  t.throws(() => jobs.transition(job.id, 'PENDING', 'COMPLETED', 'x', 'y'), { code: 'E_TRANSITION_ILLEGAL' });
  t.equal(jobs.require(job.id).state, 'PENDING');
  t.equal(jobs.events(job.id).length, 1);
});

t.test('a transition from a state the job has left fails (compare-and-set) and writes nothing', async (t) => {
  const { jobs } = store(t);
  const job = jobs.insert(newJob, 'user:u');
  jobs.transition(job.id, 'PENDING', 'CANCELLED', 'cancelled', 'user:u');
  t.throws(() => jobs.transition(job.id, 'PENDING', 'ALLOCATING', 'late', 'dispatcher'), { code: 'E_JOB_STATE', message: /is CANCELLED, not PENDING/ });
  t.equal(jobs.events(job.id).length, 2);
});

t.test('setReason records an event only when the reason changes', async (t) => {
  const { jobs } = store(t);
  const job = jobs.insert(newJob, 'user:u');
  t.ok(jobs.setReason(job.id, 'Resources', 'backend'));
  t.notOk(jobs.setReason(job.id, 'Resources', 'backend'));
  t.equal(jobs.require(job.id).reason, 'Resources');
  t.equal(jobs.events(job.id).length, 2);
});

t.test('log lines and tail offsets are stored in one transaction and read back in order', async (t) => {
  const { logs } = store(t);
  logs.append(
    [
      { jobId: 1, seq: 1, ts: 1, source: 'stdout', line: 'a' },
      { jobId: 1, seq: 2, ts: 2, source: 'stderr', line: 'b' },
      { jobId: 1, seq: 3, ts: 3, source: 'stdout', line: 'c' },
    ],
    [{ jobId: 1, source: 'stdout', path: '/x/stdout.log', offset: 4 }],
  );
  t.equal(logs.lastSeq(1), 3);
  t.same(logs.read(1, { after: 1 }).map((l) => l.line), ['b', 'c']);
  t.same(logs.read(1, { source: 'stdout' }).map((l) => l.line), ['a', 'c']);
  t.same(logs.offsets(1), [{ jobId: 1, source: 'stdout', path: '/x/stdout.log', offset: 4 }]);
  t.throws(() => logs.append([{ jobId: 1, seq: 3, ts: 4, source: 'stdout', line: 'dup' }], [{ jobId: 1, source: 'stdout', path: '/x/stdout.log', offset: 9 }]));
  t.same(logs.offsets(1)[0]!.offset, 4, 'a failed batch moves no offset');
});

t.test('sacct -s: the states jobs were in during a window, from the times of their run', async (t) => {
  const { jobs } = store(t);
  // submitted at 1000; each job's run set by its transitions' patches
  const run = (start: number | null, end: number | null, final: 'COMPLETED' | 'CANCELLED' | null) => {
    const id = jobs.insert(newJob, 'test').id;
    if (start !== null) {
      jobs.transition(id, 'PENDING', 'ALLOCATING', 'sent', 'test');
      jobs.transition(id, 'ALLOCATING', 'RUNNING', 'started', 'test', { startTime: start });
      if (final) {
        jobs.transition(id, 'RUNNING', 'COMPLETING', 'exited', 'test');
        jobs.transition(id, 'COMPLETING', final, 'ended', 'test', { endTime: end });
      }
    } else if (final) jobs.transition(id, 'PENDING', final as 'CANCELLED', 'cancelled', 'test', { endTime: end });
    return id;
  };
  const early = run(2000, 3000, 'COMPLETED');
  const late = run(2000, 9000, 'COMPLETED');
  const running = run(5000, null, null);
  const waiting = run(null, null, null);
  const cancelledWaiting = run(null, 2500, 'CANCELLED');
  const during = (states: ('PENDING' | 'RUNNING' | 'COMPLETED' | 'CANCELLED')[], since: number, until: number) =>
    jobs.list({ states, since, until, statesDuringWindow: true }).jobs.map((j) => j.id);
  t.same(during(['COMPLETED'], 4000, 10_000), [late], 'an end state: ended in the window');
  t.same(during(['RUNNING'], 4000, 6000), [late, running], 'RUNNING: ran during it (ended or not)');
  t.same(during(['RUNNING'], 1000, 1500), [], 'nothing ran before 2000');
  t.same(during(['PENDING'], 1000, 1500), [early, late, running, waiting, cancelledWaiting], 'all waited at first');
  t.same(during(['PENDING'], 2600, 9000), [running, waiting], 'later: the one still waiting, and one that waited until 5000');
  t.same(during(['CANCELLED', 'COMPLETED'], 2000, 3000), [early, cancelledWaiting], 'several states: any of them');
  t.same(jobs.list({ states: ['COMPLETED'] }).jobs.map((j) => j.id), [early, late], 'without the window flag: the state now');
});
