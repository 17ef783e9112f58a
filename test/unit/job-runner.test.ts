/**
 * The job runner from a grant to an ended job, on a real SQLite store (time is a ManualClock)
 * and real masters: each job is a tiny `#!/bin/sh` script that the launcher really starts under
 * its supervisor. The backend only records what it is asked; the output port is a fake that
 * reads the master's files when the runner drains them. Every state change is read back from
 * the store, and nothing waits on a guessed time: the runner's own promises (onGranted,
 * settle, stopMaster) or a bounded poll of the store.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { isGroupAlive } from '../../src/runtime/proc.js';
import { readMasterRecord } from '../../src/runtime/master-files.js';
import { BEGINNING, T0, ending, harness, pgidOf, timeline } from '../helpers/runner-harness.js';
import { untilFileExists, waitUntil } from '../helpers/wait.js';

import '../helpers/no-spawn-hook.js';

t.test('a granted job runs: RUNNING while its master lives, then COMPLETING, nodes released, output drained, COMPLETED', async (t) => {
  const h = harness(t);
  const go = path.join(h.dir, 'go');
  const job = h.allocating(`#!/bin/sh\necho hello\necho oops >&2\n${untilFileExists(go)}\necho bye\nexit 0\n`);
  h.clock.advance(1000);
  await h.grant(job.id);

  const running = h.store.require(job.id);
  const jobDir = h.jobDir(job.id);
  t.same(
    { state: running.state, startTime: running.startTime, backendId: running.backendId, nodeList: running.nodeList, numNodes: running.numNodes },
    { state: 'RUNNING', startTime: T0 + 1000, backendId: 'b1', nodeList: 'n1', numNodes: 1 },
  );
  t.same(running.commandLine, [path.join(jobDir, 'script')], 'the command runtime runs the script itself');
  t.same([h.store.allocation(job.id)?.backendId, h.store.allocation(job.id)?.releasedTime], ['b1', null], 'the allocation is stored and held');
  t.ok(isGroupAlive(pgidOf(h, job.id)), 'the master is running');
  t.same(h.runner.runningJobIds(), [job.id]);
  t.same(h.backend.releases, []);

  h.clock.advance(1000);
  fs.writeFileSync(go, '');
  await h.runner.settle();

  t.same(ending(h.store.require(job.id)), { state: 'COMPLETED', reason: 'None', endIntent: null, exitCode: 0, exitSignal: null, endTime: T0 + 2000 });
  t.same(h.backend.releases, [{ backendId: 'b1', state: 'COMPLETING' }], 'released once, while COMPLETING');
  t.equal(h.store.allocation(job.id)?.releasedTime, T0 + 2000);
  t.same(h.output.watches, [
    {
      jobId: job.id,
      files: [
        { source: 'stdout', path: path.join(jobDir, 'stdout.log') },
        { source: 'stderr', path: path.join(jobDir, 'stderr.log') },
      ],
      stops: [{ drain: true, state: 'COMPLETING' }],
      lines: ['stdout: hello', 'stdout: bye', 'stderr: oops'],
    },
  ], 'the output is drained before the end is recorded');
  t.same(timeline(h, job.id), [
    ...BEGINNING,
    '[dispatcher] ALLOCATING>RUNNING master starting',
    '[master] master started (pid N, process group N)',
    '[master] RUNNING>COMPLETING master ended: exit code 0',
    '[dispatcher] COMPLETING>COMPLETED job ended COMPLETED',
  ]);
  t.same(
    h.store.events(job.id).map((e) => e.time),
    [T0, T0, T0 + 1000, T0 + 1000, T0 + 1000, T0 + 2000, T0 + 2000],
    'each step at the clock time it happened',
  );
  t.same(h.runner.runningJobIds(), []);
  t.same(h.errors, []);
});

t.test('a master that exits non-zero ends the job FAILED with reason NonZeroExitCode', async (t) => {
  const h = harness(t);
  const job = h.allocating('#!/bin/sh\necho trying\nexit 3\n');
  await h.grant(job.id);
  await h.runner.settle();
  t.same(ending(h.store.require(job.id)), { state: 'FAILED', reason: 'NonZeroExitCode', endIntent: null, exitCode: 3, exitSignal: null, endTime: T0 });
  t.same(h.backend.releases, [{ backendId: 'b1', state: 'COMPLETING' }]);
  t.same(h.output.watches[0]?.lines, ['stdout: trying']);
  t.same(timeline(h, job.id), [
    ...BEGINNING,
    '[dispatcher] ALLOCATING>RUNNING master starting',
    '[master] master started (pid N, process group N)',
    '[master] RUNNING>COMPLETING master ended: exit code 3',
    '[dispatcher] COMPLETING>FAILED job ended FAILED',
  ]);
  t.same(h.errors, []);
});

t.test('a grant for a job whose cancel is already written: nodes given back at once, CANCELLED, no master', async (t) => {
  const h = harness(t);
  const job = h.allocating('#!/bin/sh\necho never\n');
  h.store.patch(job.id, { endIntent: 'CANCELLED' });
  h.clock.advance(1000);
  await h.grant(job.id);
  t.same(ending(h.store.require(job.id)), { state: 'CANCELLED', reason: 'Cancelled', endIntent: 'CANCELLED', exitCode: null, exitSignal: null, endTime: T0 + 1000 });
  t.equal(h.store.require(job.id).startTime, null, 'it never started');
  t.same(h.backend.releases, [{ backendId: 'b1', state: 'ALLOCATING' }], 'released before the end is written');
  t.equal(h.store.allocation(job.id)?.releasedTime, T0 + 1000);
  t.notOk(fs.existsSync(h.jobDir(job.id)), 'nothing prepared');
  t.same(h.output.watches, []);
  t.same(timeline(h, job.id), [...BEGINNING, '[dispatcher] ALLOCATING>CANCELLED ended before its master started']);
  t.same(h.errors, []);
});

t.test('a grant for a job that already ended: nodes given back, the job stays as it ended', async (t) => {
  const h = harness(t);
  const job = h.allocating('#!/bin/sh\necho never\n');
  h.store.transition(job.id, 'ALLOCATING', 'CANCELLED', 'cancelled by alice', 'alice', { endTime: T0 });
  h.clock.advance(1000);
  await h.grant(job.id);
  t.same(ending(h.store.require(job.id)), { state: 'CANCELLED', reason: 'Cancelled', endIntent: null, exitCode: null, exitSignal: null, endTime: T0 });
  t.same(h.backend.releases, [{ backendId: 'b1', state: 'gone' }], 'released straight from the grant (never stored as the job\'s)');
  t.equal(h.store.allocation(job.id), undefined, 'not stored: the job never had these nodes');
  t.equal(h.store.require(job.id).nodeList, null, 'no nodes shown for a job that never got them');
  t.notOk(fs.existsSync(h.jobDir(job.id)), 'no master');
  t.same(timeline(h, job.id), [
    '[test] new>PENDING submitted',
    '[dispatcher] PENDING>ALLOCATING sent to backend',
    '[alice] ALLOCATING>CANCELLED cancelled by alice',
    '[backend] released n1 (simulator b1): granted after the job stopped waiting for it',
  ]);
  t.same(h.errors, []);
});

t.test('a grant for a job the store does not know: nodes given back, nothing stored', async (t) => {
  const h = harness(t);
  await h.grant(42);
  t.same(h.backend.releases, [{ backendId: 'b42', state: 'gone' }]);
  t.equal(h.store.get(42), undefined);
  t.equal(h.store.allocation(42), undefined);
  t.same(h.store.events(42), []);
  t.same(h.errors, []);
});

t.test('a grant for an allocation the job no longer holds (asked again since): nodes given back, the job untouched', async (t) => {
  const h = harness(t);
  const job = h.allocating('#!/bin/sh\necho never\n');
  h.store.patch(job.id, { backendId: 'b-again' });
  await h.grant(job.id);
  const after = h.store.require(job.id);
  t.same([after.state, after.backendId, after.nodeList], ['ALLOCATING', 'b-again', null]);
  t.same(h.backend.releases, [{ backendId: 'b1', state: 'gone' }]);
  t.equal(h.store.allocation(job.id), undefined, 'not stored as the job\'s allocation');
  t.notOk(fs.existsSync(h.jobDir(job.id)), 'no master');
  t.match(timeline(h, job.id).slice(2), ['[backend] released n1 (simulator b1): granted after the job stopped waiting for it'], 'only the release is recorded');
  t.same(h.errors, []);
});

t.test('a master that cannot start (-D to a missing directory): FAILED with MasterStartFailed, nodes released', async (t) => {
  const h = harness(t);
  const missing = path.join(h.dir, 'missing');
  const job = h.allocating('#!/bin/sh\necho never\n', { current_working_directory: missing });
  h.clock.advance(1000);
  await h.grant(job.id);
  const failed = h.store.require(job.id);
  t.same(ending(failed), { state: 'FAILED', reason: 'MasterStartFailed', endIntent: 'FAILED', exitCode: null, exitSignal: null, endTime: T0 + 1000 });
  t.equal(failed.startTime, null, 'it never ran');
  t.same(h.backend.releases, [{ backendId: 'b1', state: 'COMPLETING' }]);
  t.equal(h.store.allocation(job.id)?.releasedTime, T0 + 1000);
  t.same(h.output.watches, [], 'no output to follow');
  t.same(h.runner.runningJobIds(), []);
  const why = 'master could not start: working directory <dir>/missing (-D/--chdir) does not exist';
  t.same(timeline(h, job.id), [...BEGINNING, `[dispatcher] ALLOCATING>COMPLETING ${why}`, `[dispatcher] COMPLETING>FAILED ${why}`]);
  t.same(h.errors, [`starting the master of job ${job.id}`], 'reported once');
});

t.test('a launch that fails after RUNNING was written (-o into a missing directory): FAILED with MasterStartFailed, nodes released', async (t) => {
  const h = harness(t);
  const job = h.allocating('#!/bin/sh\necho never\n', { standard_output: 'no-such-dir/out-%j.txt' });
  await h.grant(job.id);
  t.same(ending(h.store.require(job.id)), { state: 'FAILED', reason: 'MasterStartFailed', endIntent: 'FAILED', exitCode: null, exitSignal: null, endTime: T0 });
  t.same(h.backend.releases, [{ backendId: 'b1', state: 'COMPLETING' }]);
  t.equal(readMasterRecord(h.jobDir(job.id)), null, 'no supervisor was left behind');
  const events = timeline(h, job.id);
  t.same(events.slice(0, 4), [...BEGINNING, '[dispatcher] ALLOCATING>RUNNING master starting']);
  t.match(events.slice(4), [
    /^\[dispatcher\] RUNNING>COMPLETING master could not start: .*cannot open the standard output file '<dir>\/data\/jobs\/1\/work\/no-such-dir\/out-1\.txt'/,
    /^\[dispatcher\] COMPLETING>FAILED master could not start: /,
  ]);
  t.equal(events.length, 6);
  t.same(h.errors, [`starting the master of job ${job.id}`]);
});

/** What the master wrote so far to its stdout file. */
function readOutput(h: { jobDir(id: number): string }, jobId: number): string {
  return fs.readFileSync(path.join(h.jobDir(jobId), 'stdout.log'), { encoding: 'utf8', flag: 'a+' });
}

t.test("the backend ends a RUNNING job's allocation (time limit): endIntent TIMEOUT, master terminated, job TIMEOUT", async (t) => {
  const h = harness(t);
  const job = h.allocating('#!/bin/sh\necho working\nsleep 600\n');
  await h.grant(job.id);
  const pgid = pgidOf(h, job.id);
  t.ok(isGroupAlive(pgid));
  // the master may not have printed yet when its start is reported: its line comes first
  await waitUntil('the master printed', () => /working/.test(readOutput(h, job.id)) || undefined);
  h.clock.advance(60_000);
  await h.runner.onBackendEnded({ type: 'ended', jobId: job.id, backendId: 'b1', state: 'TIMEOUT', reason: 'time limit reached' });
  t.same(ending(h.store.require(job.id)), { state: 'TIMEOUT', reason: 'TimeLimit', endIntent: 'TIMEOUT', exitCode: null, exitSignal: 'SIGTERM', endTime: T0 + 60_000 });
  t.notOk(isGroupAlive(pgid), 'the whole process group is gone');
  t.same(h.backend.releases, [{ backendId: 'b1', state: 'COMPLETING' }], 'released (idempotent on the backend)');
  t.same(h.output.watches[0]?.lines, ['stdout: working']);
  t.same(timeline(h, job.id), [
    ...BEGINNING,
    '[dispatcher] ALLOCATING>RUNNING master starting',
    '[master] master started (pid N, process group N)',
    '[backend] backend ended the allocation: TIMEOUT (time limit reached)',
    '[master] RUNNING>COMPLETING master ended: killed by SIGTERM',
    '[dispatcher] COMPLETING>TIMEOUT job ended TIMEOUT',
  ]);
  t.same(h.errors, []);
});

t.test('the backend ends an allocation before granting it: the job ends without a master, nothing to give back', async (t) => {
  const h = harness(t);
  const timedOut = h.allocating('#!/bin/sh\n');
  const nodeFail = h.allocating('#!/bin/sh\n');
  h.clock.advance(1000);
  await h.runner.onBackendEnded({ type: 'ended', jobId: timedOut.id, backendId: 'b1', state: 'TIMEOUT', reason: 'gave up' });
  await h.runner.onBackendEnded({ type: 'ended', jobId: nodeFail.id, backendId: 'b2', state: 'NODE_FAIL', reason: 'n1 down' });
  t.same([h.store.require(timedOut.id).state, h.store.require(timedOut.id).endTime], ['CANCELLED', T0 + 1000], 'a time limit that never started counts as a cancel');
  t.same([h.store.require(nodeFail.id).state, h.store.require(nodeFail.id).reason], ['NODE_FAIL', 'NodeDown']);
  t.same(h.backend.releases, [], 'the backend ended it itself');
  t.same(timeline(h, nodeFail.id).slice(2), ['[backend] ALLOCATING>NODE_FAIL backend ended the allocation: n1 down']);
  t.same(h.errors, []);
});

t.test('an ended event for an allocation the job does not hold changes nothing', async (t) => {
  const h = harness(t);
  const job = h.allocating('#!/bin/sh\n');
  await h.runner.onBackendEnded({ type: 'ended', jobId: job.id, backendId: 'b-old', state: 'TIMEOUT', reason: 'stale' });
  await h.runner.onBackendEnded({ type: 'ended', jobId: 99, backendId: 'b99', state: 'TIMEOUT', reason: 'unknown job' });
  t.same([h.store.require(job.id).state, h.store.require(job.id).endIntent], ['ALLOCATING', null]);
  t.equal(timeline(h, job.id).length, 2);
  t.same(h.backend.releases, []);
});

t.test('stopMaster with a CANCELLED intent written: the master is terminated and the job ends CANCELLED', async (t) => {
  const h = harness(t);
  const job = h.allocating('#!/bin/sh\nsleep 600\n');
  await h.grant(job.id);
  const pgid = pgidOf(h, job.id);
  h.clock.advance(5000);
  // as Dispatcher.cancel does: the decision first, then the stop
  h.store.patch(job.id, { endIntent: 'CANCELLED' });
  t.equal(await h.runner.stopMaster(job.id), true, 'it had a master to stop');
  t.same(ending(h.store.require(job.id)), { state: 'CANCELLED', reason: 'Cancelled', endIntent: 'CANCELLED', exitCode: null, exitSignal: 'SIGTERM', endTime: T0 + 5000 });
  t.notOk(isGroupAlive(pgid));
  t.same(h.backend.releases, [{ backendId: 'b1', state: 'COMPLETING' }]);
  t.same(timeline(h, job.id).slice(-2), ['[master] RUNNING>COMPLETING master ended: killed by SIGTERM', '[dispatcher] COMPLETING>CANCELLED job ended CANCELLED']);
  t.equal(await h.runner.stopMaster(job.id), false, 'once ended, nothing left to stop');
  t.same(h.errors, []);
});

t.test('a cancel written while the master was starting is honoured once it has started', async (t) => {
  const h = harness(t);
  const job = h.allocating('#!/bin/sh\nsleep 600\n');
  // The cancel lands between "RUNNING written" and "master supervised": stopMaster finds nothing then.
  h.store.onEvent((e) => {
    if (e.jobId === job.id && e.toState === 'RUNNING') {
      h.store.patch(job.id, { endIntent: 'CANCELLED' });
      void h.runner.stopMaster(job.id).then((stopped) => t.equal(stopped, false, 'no master to stop yet'));
    }
  });
  await h.grant(job.id);
  t.same([h.store.require(job.id).state, h.store.require(job.id).exitSignal], ['CANCELLED', 'SIGTERM']);
  t.notOk(isGroupAlive(pgidOf(h, job.id)));
  t.same(h.backend.releases, [{ backendId: 'b1', state: 'COMPLETING' }]);
  t.same(timeline(h, job.id).slice(3), [
    '[dispatcher] ALLOCATING>RUNNING master starting',
    '[master] master started (pid N, process group N)',
    '[master] RUNNING>COMPLETING master ended: killed by SIGTERM',
    '[dispatcher] COMPLETING>CANCELLED job ended CANCELLED',
  ]);
  t.same(h.errors, []);
});

t.test('a requeue of a running job: the master stopped, nodes released, back to PENDING; the next run appends and knows its restart count', async (t) => {
  const h = harness(t);
  const go = path.join(h.dir, 'go');
  const script = `#!/bin/sh\necho "run \${SLURM_RESTART_COUNT:-0}"\n${untilFileExists(go)}\n`;
  const job = h.allocating(script);
  await h.grant(job.id);
  await waitUntil('the first run printed', () => /run 0/.test(readOutput(h, job.id)) || undefined);
  h.store.patch(job.id, { endIntent: 'REQUEUE' });
  t.ok(await h.runner.stopMaster(job.id), 'the master is stopped');
  const back = h.store.require(job.id);
  t.same(
    [back.state, back.restartCount, back.backendId, back.nodeList, back.startTime, back.exitCode, back.endIntent, back.reason],
    ['PENDING', 1, null, null, null, null, null, 'None'],
    'back in the queue with nothing of its run left',
  );
  t.same(h.backend.releases, [{ backendId: 'b1', state: 'COMPLETING' }], 'its nodes released before it went back');
  t.match(timeline(h, job.id).slice(-1), [/\[dispatcher\] COMPLETING>PENDING requeued \(job ended requeue\)/]);

  h.store.transition(job.id, 'PENDING', 'ALLOCATING', 'sent to backend', 'dispatcher', { backendId: 'b1' });
  fs.writeFileSync(go, '');
  await h.grant(job.id);
  await h.runner.settle();
  t.equal(h.store.require(job.id).state, 'COMPLETED');
  const stdout = fs.readFileSync(path.join(h.jobDir(job.id), 'stdout.log'), 'utf8');
  t.equal(stdout, 'run 0\nrun 1\n', 'the second run appends to the first one\'s output, with SLURM_RESTART_COUNT=1');
  t.same(h.errors, []);
});
