/** src/shutdown.ts: steps run in order and timed, a failing step does not skip the rest, the bound ends a stop that hangs. */
import t from 'tap';
import { Shutdown, describeShutdown, handleStopSignals, type ShutdownReport } from '../../src/shutdown.js';

t.test('steps run in order, each timed; draining from the first step on', async (t) => {
  let now = 0;
  const s = new Shutdown(2500, () => now);
  t.equal(s.retryAfterSeconds, 3, 'Retry-After: the bound, rounded up to seconds');
  t.notOk(s.draining);
  const seen: string[] = [];
  const steps = await s.run([
    { name: 'one', run: () => (seen.push(`one ${s.draining} ${s.waitingFor}`), (now += 5)) },
    { name: 'two', run: async () => (seen.push(`two ${s.waitingFor}`), (now += 7)) },
  ]);
  t.same(seen, ['one true one', 'two two']);
  t.same(steps, [{ name: 'one', ms: 5 }, { name: 'two', ms: 7 }]);
  t.equal(s.waitingFor, null);
  t.equal(describeShutdown({ steps, mastersLeftRunning: [4, 9] }), 'stopped in 12 ms (one 5 ms, two 7 ms); 2 master(s) left running under their supervisors (job 4, 9), to be reattached by the next start');
});

t.test('a failing step does not keep the later ones from running; the error names it', async (t) => {
  const s = new Shutdown(1000);
  const ran: string[] = [];
  await t.rejects(
    s.run([
      { name: 'requests in flight', run: () => Promise.reject(new Error('socket stuck')) },
      { name: 'log batches', run: () => ran.push('log batches') },
    ]),
    { message: 'requests in flight: socket stuck' },
  );
  t.same(ran, ['log batches']);
});

t.test('SIGTERM stops once; a second signal waits; past the bound: exit 1 naming what it waited for', async (t) => {
  const shutdown = new Shutdown(100);
  // the bound's timer does not hold the process open (a daemon that stopped exits): this does
  const alive = setInterval(() => {}, 1000);
  t.teardown(() => clearInterval(alive));
  const logs: string[] = [];
  let stops = 0;
  const exited = new Promise<number>((resolve) => {
    handleStopSignals({
      // a stop that hangs in its second step
      stop: () => (stops++, shutdown.run([{ name: 'scheduling', run: () => undefined }, { name: 'search index', run: () => new Promise<ShutdownReport>(() => {}) }]) as unknown as Promise<ShutdownReport>),
      shutdown,
      log: { info: (m) => logs.push(`info ${m}`), error: (m) => logs.push(`error ${m}`) },
      exit: resolve,
    });
  });
  process.emit('SIGTERM', 'SIGTERM');
  await new Promise((resolve) => setImmediate(resolve)); // the stop has reached its second step
  process.emit('SIGINT', 'SIGINT');
  t.equal(await exited, 1);
  t.equal(stops, 1, 'one stop for both signals');
  t.same(logs, [
    'info SIGTERM: stopping; changes are refused (503, retry in 1 s), running masters stay up',
    'info SIGINT: already stopping (waiting for search index; at most 100 ms)',
    'error shutdown: gave up after 100 ms (shutdownTimeoutMs) waiting for search index; running masters stay up',
  ]);
});
