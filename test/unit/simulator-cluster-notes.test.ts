// What a replay's ClusterState carries between passes about jobs that could not start: true only
// until something starts or ends, for the same bf_resolution, and at the same time or later.
import t from 'tap';
import { ClusterState } from '../../src/backends/simulator/cluster-state.js';
import type { HeldReservation } from '../../src/backends/simulator/availability.js';
import { clusterSpec } from '../../src/simulate/replay.js';

t.test('a noted failure holds until a start or an end, for the same resolution, at a later time', async (t) => {
  const state = new ClusterState(clusterSpec(2, 1), new Map());
  state.noteFailed('j1', 1000, null, 'Priority');
  t.equal(state.failedBefore('j1', 1000, null), 'Priority', 'the same time');
  t.equal(state.failedBefore('j1', 5000, null), 'Priority', 'a later time: the job would only end later');
  t.equal(state.failedBefore('j1', 999, null), undefined, 'an earlier time is not covered');
  t.equal(state.failedBefore('j1', 1000, 60_000), undefined, 'another resolution is not covered');
  t.equal(state.failedBefore('j2', 1000, null), undefined, 'another job');
  state.start({ id: 'a', exclusive: false, nodes: [{ name: 'n1', cpus: 1, memoryMiB: 1, gpus: 0 }], endTime: 9000 });
  t.equal(state.failedBefore('j1', 1000, null), undefined, 'a start forgets it');
  state.noteFailed('j1', 2000, null, 'Resources');
  t.equal(state.failedBefore('j1', 2000, null), 'Resources');
  state.end('a');
  t.equal(state.failedBefore('j1', 2000, null), undefined, 'an end forgets it');
  state.end('unknown');
  state.noteFailed('j1', 3000, null, 'Resources');
  state.end('unknown');
  t.equal(state.failedBefore('j1', 3000, null), 'Resources', 'ending an unknown id changes nothing');
});

t.test('a kept reservation unlike a walk (inexact) is never used; an exact one is, until its time', async (t) => {
  const state = new ClusterState(clusterSpec(2, 1), new Map());
  const held = (id: string, inexact: boolean) =>
    ({ id, time: 5000, resolution: 60_000, inexact, atTime: state.table.blank(), counts: [0, 2], usable: 2 }) as unknown as HeldReservation;
  state.keepReservations(60_000, [held('exact', false), held('inexact', true)]);
  // a fresh pass (schedule()) would plan it by a walk, and may decide otherwise (simulate-incremental's case)
  t.equal(state.keptReservation('inexact', 1000, 60_000), undefined, 'not even by the next pass of its resolution');
  t.ok(state.keptReservation('exact', 1000, 60_000), 'the next pass of its resolution uses an exact one');
  state.keepReservations(null, []);
  t.ok(state.keptReservation('exact', 1000, 60_000), 'an exact one is what a walk would give, after any pass');
  t.equal(state.keptReservation('exact', 6000, 60_000), undefined, 'its time passed: planned again');
});
