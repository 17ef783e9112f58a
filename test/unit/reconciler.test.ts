/**
 * Reconciliation on a real store and a recording backend: after a crash at each step a job
 * can be caught in, and periodically against what the backend holds. Time is the store's
 * injected clock.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { Reconciler } from '../../src/jobs/reconciler.js';
import { openDatabase } from '../../src/store/database.js';
import { JobStore } from '../../src/store/job-store.js';
import { RecordingBackend } from '../helpers/recording-backend.js';

const T0 = Date.parse('2026-12-01T00:00:00Z');

function setup(t: Test, running: number[] = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-reconcile-'));
  const db = openDatabase(path.join(dir, 'grm.sqlite'));
  t.teardown(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  let now = T0;
  const store = new JobStore(db, () => now);
  const backend = new RecordingBackend();
  // the state each job was in when its output was drained: before it ends
  const drained: [number, string][] = [];
  const reconciler = new Reconciler(store, backend, {
    runningJobIds: () => running,
    drainOutput: async (j) => void drained.push([j.id, store.require(j.id).state]),
  });
  const job = () =>
    store.insert({ name: 'j', user: 'u', partition: 'batch', description: {}, script: '#!/bin/sh\n', argv: [], runtime: 'command', environment: {}, timeLimitMinutes: null, nice: 0, submitTime: now }, 'test');
  const allocate = (id: number) => {
    store.transition(id, 'PENDING', 'ALLOCATING', 'sent', 'test');
    store.patch(id, { backendId: `b${id}` });
    store.saveAllocation(id, 'simulator', { backendId: `b${id}`, partition: 'batch', nodes: [{ name: 'n1', cpus: 1, memoryMiB: 100, gpus: 0 }], nodeList: 'n1', startTime: now, endTime: null });
  };
  return { store, backend, reconciler, job, allocate, tick: (ms: number) => (now += ms), running, drained };
}

t.test('after a restart: ALLOCATING jobs are asked for again, a cancelled one ends, COMPLETING ones finish', async (t) => {
  const { store, backend, reconciler, job, allocate, tick, drained } = setup(t);
  const waiting = job().id;
  allocate(waiting);
  const cancelled = job().id;
  allocate(cancelled);
  store.patch(cancelled, { endIntent: 'CANCELLED' });
  const exiting = job().id;
  allocate(exiting);
  store.transition(exiting, 'ALLOCATING', 'RUNNING', 'started', 'test');
  store.transition(exiting, 'RUNNING', 'COMPLETING', 'exited', 'test', { exitCode: 3 });
  tick(5000);
  const report = await reconciler.recoverAfterRestart();
  t.same(report, { releasedOrphans: [], requeued: [waiting], ended: [cancelled, exiting] });
  t.same(drained, [[exiting, 'COMPLETING']], "the COMPLETING job's last output is stored before it ends; nothing else had a master");
  const w = store.require(waiting);
  t.same([w.state, w.backendId, w.nodeList], ['PENDING', null, null], 'asked for again from scratch');
  t.same([store.require(cancelled).state, store.require(cancelled).endTime], ['CANCELLED', T0 + 5000], 'ended at the clock time');
  t.same([store.require(exiting).state, store.require(exiting).exitCode], ['FAILED', 3], 'its exit code decides');
  t.same(backend.released, [`b${cancelled}`, `b${exiting}`], 'their nodes are given back');
  t.equal(store.allocation(exiting)?.releasedTime, T0 + 5000);
});

t.test('periodically: orphan allocations are released; a RUNNING job without a master ends FAILED', async (t) => {
  const { store, backend, reconciler, job, allocate, running } = setup(t);
  const supervised = job().id;
  allocate(supervised);
  store.transition(supervised, 'ALLOCATING', 'RUNNING', 'started', 'test');
  running.push(supervised);
  const lost = job().id;
  allocate(lost);
  store.transition(lost, 'ALLOCATING', 'RUNNING', 'started', 'test');
  const ended = job().id;
  store.transition(ended, 'PENDING', 'CANCELLED', 'cancelled', 'test');
  backend.held = [
    { jobId: supervised, backendId: `b${supervised}`, state: 'RUNNING' },
    { jobId: ended, backendId: 'b-stale', state: 'RUNNING' },
    { jobId: 999, backendId: 'b-unknown', state: 'PENDING' },
    { jobId: supervised, backendId: 'b-old', state: 'RUNNING' },
    { jobId: lost, backendId: 'b-gone', state: 'ENDED' },
  ];
  const report = await reconciler.reconcile();
  t.same(report.releasedOrphans, ['b-stale', 'b-unknown', 'b-old'], "held for an ended job, no job, or not the job's own allocation");
  t.same(report.ended, [lost]);
  t.same([store.require(lost).state, store.require(supervised).state], ['FAILED', 'RUNNING']);
  t.ok(store.events(ended).some((e) => e.reason === 'released orphan allocation b-stale'), 'the release is on the job it was held for');
  t.same(backend.released, ['b-stale', 'b-unknown', 'b-old', `b${lost}`]);
  t.same(await reconciler.reconcile(), { releasedOrphans: ['b-stale', 'b-unknown', 'b-old'], requeued: [], ended: [] }, 'a second pass ends nothing more (the fake backend still lists what it was told)');
});
