import t from 'tap';
import { LEGAL_TRANSITIONS, assertTransition, canTransition, exitState, isActive, isTerminal, type NextState } from '../../src/jobs/job-state.js';
import { JOB_STATES, TERMINAL_STATES, type JobState } from '../../src/jobs/job-types.js';

t.test('every state has an entry in the transition table', async (t) => {
  t.same(Object.keys(LEGAL_TRANSITIONS).sort(), [...JOB_STATES].sort());
});

t.test('the happy path PENDING -> ALLOCATING -> RUNNING -> COMPLETING -> COMPLETED is legal', async (t) => {
  const path: JobState[] = ['PENDING', 'ALLOCATING', 'RUNNING', 'COMPLETING', 'COMPLETED'];
  for (let i = 0; i + 1 < path.length; i++) t.ok(canTransition(path[i]!, path[i + 1]!), `${path[i]} -> ${path[i + 1]}`);
});

t.test('final states have no way out but a requeue (back to PENDING)', async (t) => {
  for (const from of TERMINAL_STATES) {
    for (const to of JOB_STATES) t.equal(canTransition(from, to), to === 'PENDING', `${from} -> ${to}`);
    t.ok(isTerminal(from));
  }
});

t.test('a completing job may go back to the queue (requeued while it ended)', async (t) => {
  t.ok(canTransition('COMPLETING', 'PENDING'));
  t.notOk(canTransition('RUNNING', 'PENDING'), 'a running job is requeued through COMPLETING');
});

t.test('a running job can only end through COMPLETING', async (t) => {
  for (const to of JOB_STATES) t.equal(canTransition('RUNNING', to), to === 'COMPLETING', `RUNNING -> ${to}`);
});

t.test('every end state is reachable from COMPLETING', async (t) => {
  for (const end of TERMINAL_STATES) t.ok(canTransition('COMPLETING', end), end);
});

t.test('a pending job cannot skip allocation to RUNNING or COMPLETED', async (t) => {
  t.notOk(canTransition('PENDING', 'RUNNING'));
  t.notOk(canTransition('PENDING', 'COMPLETED'));
  t.notOk(canTransition('PENDING', 'COMPLETING'));
});

t.test('assertTransition throws E_TRANSITION_ILLEGAL naming both states and the legal ones', async (t) => {
  t.throws(() => assertTransition(7, 'PENDING', 'RUNNING'), {
    code: 'E_TRANSITION_ILLEGAL',
    message: /job 7: illegal state change PENDING -> RUNNING \(from PENDING only ALLOCATING, CANCELLED, FAILED\)/,
  });
  t.throws(() => assertTransition(7, 'COMPLETED', 'RUNNING'), { message: /from COMPLETED only PENDING/ });
  t.doesNotThrow(() => assertTransition(7, 'RUNNING', 'COMPLETING'));
});

t.test('NextState rejects illegal targets at compile time', async (t) => {
  const ok: NextState<'RUNNING'> = 'COMPLETING';
  // @ts-expect-error RUNNING cannot go straight to COMPLETED
  const bad: NextState<'RUNNING'> = 'COMPLETED';
  t.equal(ok, 'COMPLETING');
  t.equal(bad, 'COMPLETED');
});

t.test('active states are the ones holding a master slot', async (t) => {
  t.same(JOB_STATES.filter(isActive), ['ALLOCATING', 'RUNNING', 'COMPLETING']);
});

t.test('exitState: exit code 0 without a signal is COMPLETED, anything else FAILED', async (t) => {
  t.equal(exitState(0, null), 'COMPLETED');
  t.equal(exitState(3, null), 'FAILED');
  t.equal(exitState(null, 'SIGKILL'), 'FAILED');
  t.equal(exitState(0, 'SIGTERM'), 'FAILED');
  t.equal(exitState(null, null), 'FAILED', 'no exit status (master lost)');
});
