import t from 'tap';
import type { BackendEvent, ResourceRequest } from '../../src/backends/resource-backend.js';
import { ManualClock, SimulatorBackend, wallClock } from '../../src/backends/simulator/simulator-backend.js';
import { defaultClusterSpec } from '../../src/backends/simulator/cluster-spec.js';
import { simRequest } from '../helpers/sim-request.js';

const T0 = 1_700_000_000_000;
const MIN = 60_000;

let nextJob = 1;
function req(over: Partial<ResourceRequest> = {}): ResourceRequest {
  const jobId = over.jobId ?? nextJob++;
  return simRequest(jobId, T0 + jobId, over);
}

/** A started simulator on the default cluster with a manual clock, recording its events. */
async function sim(spec = defaultClusterSpec()) {
  const clock = new ManualClock(T0);
  const backend = new SimulatorBackend(spec, clock);
  const events: BackendEvent[] = [];
  backend.onEvent((e) => events.push(e));
  await backend.start();
  const of = <K extends BackendEvent['type']>(type: K) =>
    events.filter((e): e is Extract<BackendEvent, { type: K }> => e.type === type);
  return { clock, backend, events, of };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

t.test('allocate queues the job and a pass grants it with a compressed node list', async (t) => {
  const { backend, of } = await sim();
  const id = await backend.allocate(req({ jobId: 1, tasks: 8, minNodes: 2, maxNodes: 2, timeLimitMinutes: 30 }));
  t.equal(id, 'sim-1');
  t.same(await backend.list(), [{ jobId: 1, backendId: 'sim-1', state: 'PENDING' }], 'nothing granted synchronously');
  await tick();
  const [g] = of('granted');
  t.same(g, {
    type: 'granted',
    jobId: 1,
    allocation: {
      backendId: 'sim-1',
      partition: 'batch',
      nodes: [
        { name: 'node01', cpus: 4, memoryMiB: 16384, gpus: 0 },
        { name: 'node02', cpus: 4, memoryMiB: 16384, gpus: 0 },
      ],
      nodeList: 'node[01-02]',
      startTime: T0,
      endTime: T0 + 30 * MIN,
    },
  });
  t.same(await backend.list(), [{ jobId: 1, backendId: 'sim-1', state: 'RUNNING' }]);
  await backend.stop();
});

t.test('allocate refuses impossible requests with the validation error', async (t) => {
  const { backend } = await sim();
  await t.rejects(backend.allocate(req({ partition: 'nope' })), { code: 'E_PARTITION_UNKNOWN', message: 'invalid partition specified: nope' });
  await t.rejects(backend.validate(req({ cpusPerTask: 5 })), { code: 'E_NODE_CONFIG_UNAVAILABLE' });
  t.same(await backend.list(), []);
  await backend.stop();
});

t.test('time limit: ended TIMEOUT at start + limit, resources freed, next job granted', async (t) => {
  const { clock, backend, of } = await sim();
  await backend.allocate(req({ jobId: 1, tasks: 32, minNodes: 8, maxNodes: 8, timeLimitMinutes: 10 }));
  await backend.allocate(req({ jobId: 2, tasks: 4 }));
  await backend.settle();
  t.same(of('granted').map((e) => e.jobId), [1]);
  clock.advance(10 * MIN - 1);
  t.same(of('ended'), [], 'not a millisecond early');
  clock.advance(1);
  t.same(of('ended'), [{ type: 'ended', jobId: 1, backendId: 'sim-1', state: 'TIMEOUT', reason: 'TimeLimit' }]);
  t.ok((await backend.nodes()).every((n) => n.state === 'idle'), 'every node is free again');
  t.same((await backend.list()).find((s) => s.backendId === 'sim-1'), { jobId: 1, backendId: 'sim-1', state: 'ENDED', reason: 'TimeLimit' });
  await backend.settle();
  t.same(of('granted').map((e) => e.jobId), [1, 2]);
  t.equal(of('granted')[1]?.allocation.startTime, T0 + 10 * MIN);
  await backend.release('sim-1');
  t.notOk((await backend.list()).some((s) => s.backendId === 'sim-1'), 'release forgets an ended allocation');
  await backend.stop();
});

t.test('release frees the nodes and triggers the next job; it is idempotent', async (t) => {
  const { backend, of } = await sim();
  await backend.allocate(req({ jobId: 1, tasks: 32, minNodes: 8, maxNodes: 8 }));
  await backend.allocate(req({ jobId: 2, tasks: 4, exclusive: true }));
  await backend.settle();
  t.same(of('granted').map((e) => e.jobId), [1]);
  t.same(of('pending'), [{ type: 'pending', jobId: 2, backendId: 'sim-2', reason: 'Resources' }]);
  await backend.release('sim-1');
  await backend.release('sim-1');
  await backend.release('sim-404');
  await tick();
  t.same(of('granted').map((e) => e.jobId), [1, 2]);
  t.equal(of('granted')[1]?.allocation.nodeList, 'node01');
  await backend.stop();
});

t.test('releasing a pending job removes it from the queue', async (t) => {
  const { backend, of } = await sim();
  await backend.allocate(req({ jobId: 1, tasks: 32, minNodes: 8, maxNodes: 8 }));
  await backend.allocate(req({ jobId: 2 }));
  await backend.allocate(req({ jobId: 3 }));
  await backend.settle();
  await backend.release('sim-2');
  t.same((await backend.list()).map((s) => s.backendId), ['sim-1', 'sim-3']);
  await backend.release('sim-1');
  await backend.settle();
  t.same(of('granted').map((e) => e.jobId), [1, 3], 'job 2 never starts');
  await backend.stop();
});

t.test('pending events fire once per reason change', async (t) => {
  const { backend, of } = await sim();
  await backend.allocate(req({ jobId: 1, tasks: 28, minNodes: 7, maxNodes: 7, timeLimitMinutes: 60 }));
  await backend.allocate(req({ jobId: 2, tasks: 32, minNodes: 8, maxNodes: 8 }));
  await backend.allocate(req({ jobId: 3, tasks: 4 }));
  await backend.settle();
  await backend.allocate(req({ jobId: 4, tasks: 1, timeLimitMinutes: 5000 }));
  await backend.settle();
  t.same(of('pending').map((e) => [e.jobId, e.reason]), [
    [2, 'Resources'],
    [3, 'Priority'],
    [4, 'Priority'],
  ], 'job 3 fits node08 but would delay job 2; a second pass repeats nothing');
  await backend.release('sim-2');
  await backend.settle();
  t.same(of('granted').map((e) => e.jobId), [1, 3], 'with job 2 gone, job 3 starts');
  t.same(of('pending').slice(3).map((e) => [e.jobId, e.reason]), [[4, 'Resources']], 'job 4 now waits for resources itself');
  await backend.stop();
});

t.test('a node going down ends its allocations with NODE_FAIL and is not used again', async (t) => {
  const { backend, of } = await sim();
  await backend.allocate(req({ jobId: 1, tasks: 8, minNodes: 2, maxNodes: 2 }));
  await backend.allocate(req({ jobId: 2, tasks: 4 }));
  await backend.settle();
  backend.setNodeState('node02', 'down', 'disk failure');
  t.same(of('ended'), [{ type: 'ended', jobId: 1, backendId: 'sim-1', state: 'NODE_FAIL', reason: 'NodeDown' }]);
  const nodes = await backend.nodes();
  t.match(nodes.find((n) => n.name === 'node02'), { state: 'down', reason: 'disk failure', cpusAllocated: 0, allocations: [] });
  t.match(nodes.find((n) => n.name === 'node01'), { state: 'idle' }, 'the whole allocation is freed');
  t.match(nodes.find((n) => n.name === 'node03'), { state: 'allocated', allocations: ['sim-2'] }, 'other jobs run on');
  await backend.allocate(req({ jobId: 3, tasks: 24, minNodes: 6, maxNodes: 6 }));
  await backend.settle();
  t.equal(of('granted').at(-1)?.allocation.nodeList, 'node[01,04-08]');
  t.throws(() => backend.setNodeState('node99', 'down'), { code: 'E_REQUEST_INVALID' });
  backend.setNodeState('node02', 'idle');
  t.match((await backend.nodes()).find((n) => n.name === 'node02'), { state: 'idle', reason: undefined });
  await backend.stop();
});

t.test('nodes() reports idle, mixed, allocated and drained', async (t) => {
  const { backend } = await sim();
  await backend.allocate(req({ jobId: 1, tasks: 2 }));
  await backend.allocate(req({ jobId: 2, exclusive: true }));
  await backend.allocate(req({ jobId: 3, tasks: 4 }));
  await backend.settle();
  backend.setNodeState('node03', 'drained', 'maintenance');
  await backend.settle();
  const states = Object.fromEntries((await backend.nodes()).map((n) => [n.name, n.state]));
  t.same(states, {
    node01: 'mixed',
    node02: 'allocated',
    node03: 'drained',
    node04: 'idle',
    node05: 'idle',
    node06: 'idle',
    node07: 'idle',
    node08: 'idle',
  });
  const node01 = (await backend.nodes())[0]!;
  t.match(node01, { cpusAllocated: 2, memoryAllocatedMiB: 8192, partitions: ['batch'], allocations: ['sim-1'] });
  t.same(await backend.partitions(), [
    { name: 'batch', isDefault: true, maxTimeMinutes: null, defaultTimeMinutes: null, nodes: defaultClusterSpec().partitions[0]!.nodes, state: 'UP' },
  ]);
  await backend.stop();
});

t.test('20 jobs on 8 nodes all complete when each is released after its grant', async (t) => {
  const { backend, of } = await sim();
  backend.onEvent((e) => {
    if (e.type === 'granted') setImmediate(() => void backend.release(e.allocation.backendId));
  });
  for (let i = 0; i < 20; i++) await backend.allocate(req({ tasks: 1 + (i % 4), exclusive: i % 3 === 0, timeLimitMinutes: 10 }));
  for (let i = 0; i < 200 && of('granted').length < 20; i++) await tick();
  t.equal(of('granted').length, 20);
  t.same(of('ended'), []);
  await tick();
  t.same(await backend.list(), []);
  t.ok((await backend.nodes()).every((n) => n.state === 'idle'));
  await backend.stop();
});

t.test('no pass before start() and none after stop(); stop cancels time-limit timers', async (t) => {
  const clock = new ManualClock(T0);
  const backend = new SimulatorBackend(defaultClusterSpec(), clock);
  const events: BackendEvent[] = [];
  backend.onEvent((e) => events.push(e));
  await backend.allocate(req({ jobId: 1, timeLimitMinutes: 5 }));
  await tick();
  t.same(events, []);
  await backend.start();
  await tick();
  t.equal(events.length, 1);
  t.equal(clock.pendingTimers(), 1);
  await backend.stop();
  t.equal(clock.pendingTimers(), 0);
  clock.advance(10 * MIN);
  t.equal(events.length, 1, 'no TIMEOUT while stopped');
  await backend.start();
  clock.advance(0);
  t.same(events.at(-1), { type: 'ended', jobId: 1, backendId: 'sim-1', state: 'TIMEOUT', reason: 'TimeLimit' }, 'an overdue limit fires on restart');
  await backend.stop();
});

t.test('a constructor refuses an incoherent cluster spec', async (t) => {
  const spec = defaultClusterSpec();
  spec.partitions[0]!.nodes.push('ghost');
  t.throws(() => new SimulatorBackend(spec, new ManualClock()), { code: 'E_CONFIG_INVALID', message: /unknown node ghost/ });
});

t.test('clocks: ManualClock fires due timers in time order; wallClock fires and cancels', async (t) => {
  const clock = new ManualClock(100);
  const fired: [string, number][] = [];
  clock.setTimer(300, () => fired.push(['b', clock.now()]));
  clock.setTimer(200, () => fired.push(['a', clock.now()]));
  clock.setTimer(250, () => fired.push(['x', clock.now()])).cancel();
  clock.advance(150);
  t.same(fired, [['a', 200]]);
  clock.advanceTo(1000);
  t.same(fired, [['a', 200], ['b', 300]]);
  t.equal(clock.now(), 1000);

  const keepAlive = setTimeout(() => {}, 1000);
  const start = Date.now();
  let cancelledFired = false;
  wallClock.setTimer(start + 5, () => (cancelledFired = true)).cancel();
  const at = await new Promise<number>((resolve) => wallClock.setTimer(start + 20, () => resolve(Date.now())));
  clearTimeout(keepAlive);
  t.ok(at >= start + 20, 'not early');
  t.notOk(cancelledFired);
});

t.test('setTimeLimit: a lower limit ends the allocation at start + the new limit; a pending one starts with it', async (t) => {
  const { clock, backend, of } = await sim();
  const running = await backend.allocate(req({ jobId: 1, timeLimitMinutes: 60 }));
  await tick();
  t.equal(of('granted').length, 1);
  clock.advance(5 * MIN);
  await backend.setTimeLimit(running, 10);
  clock.advance(5 * MIN - 1);
  await tick();
  t.same(of('ended'), [], 'not before start + 10 minutes');
  clock.advance(1);
  await tick();
  t.same(of('ended'), [{ type: 'ended', jobId: 1, backendId: running, state: 'TIMEOUT', reason: 'TimeLimit' }]);
  // a pending request (the cluster full) gets the new limit before it starts
  const big = await backend.allocate(req({ jobId: 2, minNodes: 8, maxNodes: 8, tasks: 8, exclusive: true, timeLimitMinutes: null }));
  await tick();
  const waiting = await backend.allocate(req({ jobId: 3, timeLimitMinutes: 60 }));
  await tick();
  await backend.setTimeLimit(waiting, 2);
  await backend.release(big);
  await tick();
  const granted = of('granted').find((g) => g.jobId === 3)!;
  t.equal(granted.allocation.endTime, granted.allocation.startTime + 2 * MIN, 'granted with the lowered limit');
});
