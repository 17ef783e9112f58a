/**
 * A reservation kept through job ends (outlook-upkeep.ts, called by ClusterState.end) must be
 * what planning it again would give: the same time and the same task capacities at that time,
 * on random clusters of shared and exclusive allocations, with early and overdue ends and
 * allocations that never end.
 */
import fc from 'fast-check';
import t from 'tap';
import type { ResourceRequest } from '../../src/backends/resource-backend.js';
import { capOf, planOutlook, startAllocation, usageThen, type HeldReservation } from '../../src/backends/simulator/availability.js';
import { ClusterState } from '../../src/backends/simulator/cluster-state.js';
import type { SimulatedClusterSpec } from '../../src/backends/simulator/cluster-spec.js';
import type { RunningAllocation } from '../../src/backends/simulator/placement.js';

const SPEC: SimulatedClusterSpec = {
  nodes: [1, 2, 3, 4, 5, 6].map((i) => ({ name: `n${i}`, cpus: 1 + (i % 4), memoryMiB: 4096, gpus: 0 })),
  partitions: [
    { name: 'a', nodes: ['n1', 'n2', 'n3', 'n4', 'n5'], default: true, maxTimeMinutes: null },
    { name: 'b', nodes: ['n6', 'n3'], default: false, maxTimeMinutes: null },
  ],
};

function request(tasks: number, cpusPerTask: number, exclusive: boolean): ResourceRequest {
  return {
    jobId: 1, name: 'r', user: 'u', partition: 'a', minNodes: 1, maxNodes: tasks, tasks, cpusPerTask,
    memoryPerNodeMiB: 0, gpusPerNode: 0, timeLimitMinutes: 10, exclusive, nice: 0, submitTime: 0,
  };
}

function plan(state: ClusterState, req: ResourceRequest, now: number): HeldReservation {
  const p = SPEC.partitions[0]!;
  const outlook = planOutlook(req, state.withFreeCpu('a'), state.members('a'), state.maxNodeCpus('a'), state.table, state.endingByTime, now);
  return { id: 'r', request: req, partition: p, members: state.members('a'), resolution: null, ...outlook };
}

/** Counts by task capacity as `capacity:nodes`, the capacities no node has left out. */
const held = (counts: readonly (number | undefined)[]) => Array.from(counts, (x, c) => (c > 0 && x ? `${c}:${x}` : '')).filter(Boolean).join();

/** What a reservation's verdicts read: its time, its capacities and free CPUs then. */
const seen = (r: HeldReservation) => JSON.stringify([r.time, r.usable, r.freeCpus, held(r.counts)]);

t.test('a reservation kept through ends equals one planned again', async (t) => {
  const alloc = fc.record({
    node: fc.integer({ min: 1, max: 6 }),
    cpus: fc.integer({ min: 1, max: 2 }),
    exclusive: fc.boolean(),
    end: fc.option(fc.integer({ min: 1, max: 8 }), { nil: null, freq: 6 }),
  });
  const req = fc.record({ tasks: fc.integer({ min: 1, max: 9 }), cpusPerTask: fc.integer({ min: 1, max: 2 }), exclusive: fc.boolean() });
  let kept = 0;
  fc.assert(
    fc.property(fc.array(alloc, { maxLength: 14 }), req, fc.array(fc.record({ pick: fc.nat(20), later: fc.nat(3) }), { maxLength: 8 }), (allocs, q, ends) => {
      const state = new ClusterState(SPEC, new Map([['n4', 'drained']]));
      const running: RunningAllocation[] = [];
      allocs.forEach((o, k) => {
        const node = SPEC.nodes[o.node - 1]!;
        const u = state.usageByName().get(node.name)!;
        const cpus = o.exclusive ? node.cpus : o.cpus;
        if (u.exclusive || (o.exclusive && u.allocations > 0) || u.cpus + cpus > node.cpus) return;
        const a: RunningAllocation = { id: `a${k}`, exclusive: o.exclusive, nodes: [{ name: node.name, cpus, memoryMiB: 100, gpus: 0 }], endTime: o.end === null ? null : o.end * 1000 };
        state.start(a);
        running.push(a);
      });
      const r = plan(state, request(q.tasks, q.cpusPerTask, q.exclusive), 0);
      state.keepReservations(null, [r]);
      let now = 0;
      for (const e of ends) {
        if (running.length === 0) break;
        // ends come at any time: early, at the limit, or overdue
        now += e.later * 1000;
        const [gone] = running.splice(e.pick % running.length, 1);
        state.end(gone!.id);
        const held = state.keptReservation('r', now, null);
        const fresh = plan(state, r.request, now);
        if (!held) continue;
        kept++;
        if (held !== r || seen(held) !== seen(fresh)) return false;
      }
      return true;
    }),
    { numRuns: 600 },
  );
  t.ok(kept > 200, `kept reservations compared with fresh ones: ${kept}`);
});

/**
 * An outlook's tallies (availability.ts tally) are its nodes' usage then, summed: the counts by
 * task capacity and the free CPUs the scheduler's shortcut reads (availability.ts surelyDelays).
 */
function talliesTrue(state: ClusterState, r: HeldReservation): boolean {
  const counts: number[] = [];
  let usable = 0;
  let free = 0;
  SPEC.nodes.forEach((_, i) => {
    if (r.members[i] !== 1) return;
    const then = usageThen(r, state.table, i);
    free += then.freeCpus(i);
    const c = capOf(r.request, then, i);
    if (c > 0) {
      counts[c] = (counts[c] ?? 0) + 1;
      usable++;
    }
  });
  return r.freeCpus === free && r.usable === usable && held(r.counts) === held(counts);
}

t.test("an outlook's tallies stay its nodes' usage then, through starts and ends", async (t) => {
  // a job on one or two nodes: some of them may have their own usage at the reserved time, some not
  const step = fc.record({
    start: fc.boolean(),
    nodes: fc.uniqueArray(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 2 }),
    cpus: fc.integer({ min: 1, max: 2 }),
    exclusive: fc.boolean(),
    end: fc.option(fc.integer({ min: 1, max: 8 }), { nil: null, freq: 6 }),
    pick: fc.nat(20),
  });
  const req = fc.record({ tasks: fc.integer({ min: 1, max: 9 }), cpusPerTask: fc.integer({ min: 1, max: 2 }), exclusive: fc.boolean() });
  let checked = 0;
  fc.assert(
    fc.property(fc.array(step, { maxLength: 6 }), req, fc.array(step, { maxLength: 12 }), (before, q, after) => {
      const state = new ClusterState(SPEC, new Map([['n4', 'drained']]));
      const running: string[] = [];
      const apply = (o: (typeof before)[number], k: string, r?: HeldReservation): void => {
        if (!o.start) {
          if (running.length > 0) state.end(running.splice(o.pick % running.length, 1)[0]!);
          return;
        }
        const shares = o.nodes.map((n) => {
          const node = SPEC.nodes[n - 1]!;
          return { node, u: state.usageByName().get(node.name)!, cpus: o.exclusive ? node.cpus : o.cpus };
        });
        if (shares.some(({ node, u, cpus }) => !u.inService || u.exclusive || (o.exclusive && u.allocations > 0) || u.cpus + cpus > node.cpus)) return;
        const nodes = shares.map(({ node, cpus }) => ({ name: node.name, cpus, memoryMiB: 100, gpus: 0 }));
        const a = state.indexed({ id: k, exclusive: o.exclusive, nodes, endTime: o.end === null ? null : o.end * 1000 });
        startAllocation(state, r ? [r] : [], a);
        running.push(k);
      };
      before.forEach((o, k) => apply(o, `b${k}`));
      const r = plan(state, request(q.tasks, q.cpusPerTask, q.exclusive), 0);
      if (!talliesTrue(state, r)) return false;
      // a reservation that never fits is planned again by every pass, never kept up to date
      if (r.time === Infinity) return true;
      for (const [k, o] of after.entries()) {
        // a start goes through the reservation, as in a pass; an end keeps it when it can
        state.keepReservations(null, [r]);
        apply(o, `a${k}`, r);
        if (!o.start && state.keptReservation('r', 0, null) !== r) break;
        checked++;
        if (!talliesTrue(state, r)) return false;
      }
      return true;
    }),
    { numRuns: 600 },
  );
  t.ok(checked > 1000, `outlooks checked after a start or an end: ${checked}`);
});
