// UsageTable.shiftShared (a replay's starts and ends, one loop over the arrays) against the
// rule it stands for: shift() with each node's share (shares.ts shareAt), node by node.
import fc from 'fast-check';
import t from 'tap';
import type { ResourceRequest } from '../../src/backends/resource-backend.js';
import { FreeNodes } from '../../src/backends/simulator/free-nodes.js';
import { shareAt, shareTerms } from '../../src/backends/simulator/shares.js';
import { UsageTable } from '../../src/backends/simulator/usage-table.js';

const table = (nodes: { cpus: number; memoryMiB: number; gpus: number; down: boolean }[]): UsageTable => {
  const specs = nodes.map((n, i) => ({ name: `n${i}`, cpus: n.cpus, memoryMiB: n.memoryMiB, gpus: n.gpus }));
  const u = UsageTable.build({ nodes: specs, partitions: [] }, new Map(nodes.flatMap((n, i) => (n.down ? [[`n${i}`, 'down' as const]] : []))));
  return u;
};

const arrays = (u: UsageTable) => JSON.stringify([u.inService, u.cpus, u.memoryMiB, u.gpus, u.exclusive, u.allocations].map((a) => [...a]));

t.test('shiftShared equals shift() with each node share, node by node, and keeps the free list true', async (t) => {
  const node = fc.record({ cpus: fc.integer({ min: 1, max: 8 }), memoryMiB: fc.constantFrom(1000, 4096, 8192), gpus: fc.integer({ min: 0, max: 2 }), down: fc.boolean() });
  const request = fc.record({
    cpusPerTask: fc.integer({ min: 1, max: 3 }),
    gpusPerNode: fc.integer({ min: 0, max: 1 }),
    memoryPerNodeMiB: fc.constantFrom(0, 512),
    memoryPerCpuMiB: fc.option(fc.constantFrom(100, 700), { nil: undefined }),
  });
  const job = fc.record({ request, nodes: fc.array(fc.record({ at: fc.integer({ min: -1, max: 7 }), tasks: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 8 }) });
  let checked = 0;
  fc.assert(
    fc.property(fc.array(node, { minLength: 8, maxLength: 8 }), fc.array(job, { minLength: 1, maxLength: 6 }), (nodes, jobs) => {
      const fast = table(nodes);
      const slow = table(nodes);
      const free = new FreeNodes(Int32Array.from(nodes, (_, i) => i));
      for (let i = 0; i < nodes.length; i++) free.set(i, fast.freeCpus(i) > 0);
      // start every job, then end them in reverse: usage goes up and back down to nothing
      const started = jobs.map((j) => {
        const req = { ...j.request, exclusive: false, tasks: 1 } as ResourceRequest;
        // a node appears once in an allocation
        const picked = j.nodes.filter((n, k) => n.at < 0 || j.nodes.findIndex((m) => m.at === n.at) === k);
        return { at: picked.map((n) => n.at), tasks: picked.map((n) => n.tasks), terms: shareTerms(req), nodes: null };
      });
      const step = (a: (typeof started)[number], d: 1 | -1): boolean => {
        const before = Array.from(nodes, (_, i) => slow.freeCpus(i));
        a.at.forEach((i, k) => {
          if (i >= 0) slow.shift(i, shareAt(a, k, slow, i), false, d);
        });
        const expected = before.reduce((sum, was, i) => sum + slow.freeCpus(i) - was, 0);
        const freed = fast.shiftShared(a.at, a.tasks, a.terms, d, free);
        checked++;
        const listed = Array.from(nodes, (_, i) => i).filter((i) => slow.freeCpus(i) > 0);
        return freed === expected && arrays(fast) === arrays(slow) && free.nodes().join() === listed.join();
      };
      return started.every((a) => step(a, 1)) && [...started].reverse().every((a) => step(a, -1));
    }),
    { numRuns: 300 },
  );
  t.ok(checked > 600, `starts and ends compared: ${checked}`);
});

t.test('a blank copy reads no node as its own; copyNode takes one node whole', async (t) => {
  const live = table([
    { cpus: 4, memoryMiB: 4096, gpus: 1, down: false },
    { cpus: 2, memoryMiB: 1000, gpus: 0, down: true },
  ]);
  live.shift(0, { cpus: 3, memoryMiB: 3000, gpus: 1 }, true, 1);
  const then = live.blank();
  t.same([...then.has], [0, 0]);
  then.copyNode(live, 0);
  t.same([...then.has], [1, 0]);
  t.same(then.usage(0), live.usage(0), 'the same usage record');
  t.equal(then.freeCpus(0), 0, 'held exclusively: no free CPU');
  t.equal(live.freeCpus(1), 0, 'down: no free CPU');
  t.same(live.usage(1), { node: live.specs[1], index: 1, inService: false, cpus: 0, memoryMiB: 0, gpus: 0, exclusive: false, allocations: 0 });
});

t.test("capacityOf reads an idle node's capacity once per kind of node, and equals capacity()", async (t) => {
  // few kinds of hardware, so that idle nodes of one kind repeat
  const node = fc.record({ cpus: fc.constantFrom(2, 4), memoryMiB: fc.constantFrom(1000, 4096), gpus: fc.constantFrom(0, 1), down: fc.boolean() });
  const request = fc.record({
    tasks: fc.integer({ min: 1, max: 9 }),
    cpusPerTask: fc.integer({ min: 1, max: 3 }),
    gpusPerNode: fc.integer({ min: 0, max: 1 }),
    memoryPerNodeMiB: fc.constantFrom(0, 512, 2000),
    exclusive: fc.boolean(),
  });
  const load = fc.array(fc.record({ at: fc.nat(9), cpus: fc.integer({ min: 1, max: 2 }), memoryMiB: fc.constantFrom(0, 900) }), { maxLength: 6 });
  let idleRead = 0;
  fc.assert(
    fc.property(fc.array(node, { minLength: 10, maxLength: 10 }), load, fc.array(request, { minLength: 1, maxLength: 4 }), (nodes, busy, requests) => {
      const u = table(nodes);
      for (const b of busy) u.shift(b.at, { cpus: b.cpus, memoryMiB: b.memoryMiB, gpus: 0 }, false, 1);
      return requests.every((r) => {
        const req = { minNodes: 1, maxNodes: r.tasks, ...r } as ResourceRequest;
        const idle = u.idleCapacities();
        return nodes.every((_, i) => {
          if (u.allocations[i] === 0 && u.inService[i] === 1) idleRead++;
          return u.capacityOf(req, i, idle) === u.capacity(req, i);
        });
      });
    }),
    { numRuns: 300 },
  );
  t.ok(idleRead > 1000, `idle nodes read: ${idleRead}`);
});
