/**
 * The job runner across daemon restarts and races: masters left running by a stopped daemon
 * and reattached by the next one, exits recorded while no daemon followed, and a cancel that
 * crosses a grant. Same harness as job-runner.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { Dispatcher } from '../../src/jobs/dispatcher.js';
import { QueueStore } from '../../src/store/queue-store.js';
import { isGroupAlive } from '../../src/runtime/proc.js';
import { readExitStatus } from '../../src/runtime/master-files.js';
import { BEGINNING, T0, ending, harness, pgidOf, timeline } from '../helpers/runner-harness.js';
import { untilFileExists, waitUntil } from '../helpers/wait.js';

import '../helpers/no-spawn-hook.js';

t.test('detach() leaves the master running; the next daemon reattaches it with recover() and records its end', async (t) => {
  const h1 = harness(t);
  const go = path.join(h1.dir, 'go');
  const job = h1.allocating(`#!/bin/sh\necho before\n${untilFileExists(go)}\necho after\nexit 0\n`);
  await h1.grant(job.id);
  const pgid = pgidOf(h1, job.id);
  await h1.stop();
  t.ok(isGroupAlive(pgid), 'the master outlives the daemon');
  t.same(h1.output.watches[0]?.stops, [{ drain: false, state: 'RUNNING' }], 'its output is left for the next daemon');
  t.same(h1.backend.releases, [], 'its nodes too');
  t.same(h1.errors, []);

  const h2 = h1.restart();
  t.equal(h2.store.require(job.id).state, 'RUNNING');
  h2.clock.advance(1000);
  h2.runner.recover();
  t.same(h2.runner.runningJobIds(), [job.id], 'followed again');
  fs.writeFileSync(go, '');
  await h2.runner.settle();
  t.same(ending(h2.store.require(job.id)), { state: 'COMPLETED', reason: 'None', endIntent: null, exitCode: 0, exitSignal: null, endTime: T0 + 1000 });
  t.notOk(isGroupAlive(pgid));
  t.same(h2.backend.releases, [{ backendId: 'b1', state: 'COMPLETING' }]);
  t.same(h2.output.watches.map((w) => [w.files.map((f) => f.source), w.stops, w.lines]), [
    [['stdout', 'stderr'], [{ drain: true, state: 'COMPLETING' }], ['stdout: before', 'stdout: after']],
  ]);
  t.same(timeline(h2, job.id), [
    ...BEGINNING,
    '[dispatcher] ALLOCATING>RUNNING master starting',
    '[master] master started (pid N, process group N)',
    '[reconcile] master reattached after a daemon restart (process group N)',
    '[master] RUNNING>COMPLETING master ended: exit code 0',
    '[dispatcher] COMPLETING>COMPLETED job ended COMPLETED',
  ]);
  t.same(h2.errors, []);
});

t.test('a master that ended while no daemon followed it: recover() records its exit status from exit.json', async (t) => {
  const h1 = harness(t);
  const go = path.join(h1.dir, 'go');
  const job = h1.allocating(`#!/bin/sh\n${untilFileExists(go)}\nexit 5\n`);
  await h1.grant(job.id);
  await h1.stop();
  fs.writeFileSync(go, '');
  await waitUntil('the master to record its exit', () => readExitStatus(h1.jobDir(job.id)));

  const h2 = h1.restart();
  h2.runner.recover();
  await h2.runner.settle();
  t.same(ending(h2.store.require(job.id)), { state: 'FAILED', reason: 'NonZeroExitCode', endIntent: null, exitCode: 5, exitSignal: null, endTime: T0 });
  t.same(h2.backend.releases, [{ backendId: 'b1', state: 'COMPLETING' }]);
  t.same(timeline(h2, job.id).slice(-3), [
    '[reconcile] master reattached after a daemon restart (process group N)',
    '[master] RUNNING>COMPLETING master ended: exit code 5',
    '[dispatcher] COMPLETING>FAILED job ended FAILED',
  ]);
  t.same(h2.errors, []);
});

t.test('drainOutput(): a job a crash caught COMPLETING has the rest of its output read before it ends (found by the soak)', async (t) => {
  const h1 = harness(t);
  const go = path.join(h1.dir, 'go');
  const job = h1.allocating(`#!/bin/sh\necho before\n${untilFileExists(go)}\necho last; echo oops >&2\nexit 0\n`);
  await h1.grant(job.id);
  await h1.stop();
  fs.writeFileSync(go, '');
  await waitUntil('the master to record its exit', () => readExitStatus(h1.jobDir(job.id)));
  const h2 = h1.restart();
  // the daemon saw the exit, wrote COMPLETING, and was killed before its drain stored the last lines
  h2.store.transition(job.id, 'RUNNING', 'COMPLETING', 'master ended: exit code 0', 'master', { exitCode: 0, exitSignal: null });
  await h2.runner.drainOutput(h2.store.require(job.id));
  t.same(h2.output.watches.map((w) => [w.files.map((f) => f.source), w.stops, w.lines]), [
    [['stdout', 'stderr'], [{ drain: true, state: 'COMPLETING' }], ['stdout: before', 'stdout: last', 'stderr: oops']],
  ], 'its files are read to the end (this harness does not keep offsets: all of them)');
  t.same(h2.errors, []);
});

t.test('recover(): a RUNNING job whose master never started (a crash in between) ends FAILED with MasterLost', async (t) => {
  const h = harness(t);
  const job = h.allocating('#!/bin/sh\n');
  h.store.saveAllocation(job.id, 'simulator', h.granted(job.id).allocation);
  h.store.transition(job.id, 'ALLOCATING', 'RUNNING', 'master starting', 'dispatcher', { startTime: T0 });
  h.clock.advance(1000);
  h.runner.recover();
  const ended = await waitUntil('the lost job to end', () => {
    const j = h.store.require(job.id);
    return j.state === 'FAILED' && j;
  });
  t.same(ending(ended), { state: 'FAILED', reason: 'MasterLost', endIntent: null, exitCode: null, exitSignal: null, endTime: T0 + 1000 });
  t.same(h.backend.releases, [{ backendId: 'b1', state: 'COMPLETING' }]);
  t.same(timeline(h, job.id).slice(-2), [
    '[master] RUNNING>COMPLETING master ended: exit status unknown (master lost across a daemon restart)',
    '[dispatcher] COMPLETING>FAILED job ended FAILED',
  ]);
  t.same(h.errors, []);
});

t.test('a daemon that stops while a master is starting lets it go; the next daemon reattaches it', async (t) => {
  const h1 = harness(t);
  const go = path.join(h1.dir, 'go');
  const job = h1.allocating(`#!/bin/sh\n${untilFileExists(go)}\nexit 0\n`);
  h1.store.onEvent((e) => {
    if (e.jobId === job.id && e.toState === 'RUNNING') void h1.runner.detach();
  });
  await h1.grant(job.id);
  const pgid = pgidOf(h1, job.id);
  t.ok(isGroupAlive(pgid), 'launched and left running');
  t.same(h1.output.watches, [], 'not followed by the stopping daemon');
  t.same(h1.runner.runningJobIds(), []);
  t.same(timeline(h1, job.id).slice(-1), ['[dispatcher] ALLOCATING>RUNNING master starting'], 'nothing written after the stop');
  await h1.stop();

  const h2 = h1.restart();
  h2.runner.recover();
  t.same(h2.runner.runningJobIds(), [job.id]);
  fs.writeFileSync(go, '');
  await h2.runner.settle();
  t.equal(h2.store.require(job.id).state, 'COMPLETED');
  t.same(h2.backend.releases, [{ backendId: 'b1', state: 'COMPLETING' }]);
  t.same(h2.errors, []);
});

t.test('a cancel that ends the job while a grant is giving its nodes back: the grant does not fail', async (t) => {
  const h = harness(t);
  const queue = new QueueStore(h.db, h.store);
  const dispatcher = new Dispatcher({ store: h.store, queue, clock: h.clock, backend: h.backend, runner: h.runner, maxConcurrentMasters: 10 });
  const job = h.allocating('#!/bin/sh\n');
  const open = h.backend.holdNextRelease();
  // The real Dispatcher.cancel: it writes its intent and waits on stopMaster; the grant then
  // sees the intent and gives the nodes back (held here); the cancel's own release goes
  // through and it ends the job first. The grant must not then write an end from its stale read.
  const cancelling = dispatcher.cancel(h.store.require(job.id), 'alice');
  const granting = h.runner.onGranted(h.granted(job.id)).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.equal((await cancelling).state, 'CANCELLED');
  open();
  t.equal(await granting, undefined, 'onGranted resolves');
  t.equal(h.store.require(job.id).state, 'CANCELLED');
  t.equal(timeline(h, job.id).filter((e) => e.includes('>CANCELLED')).length, 1, 'ended once');
  t.same(h.errors, []);
});
