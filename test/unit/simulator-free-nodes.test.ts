// FreeNodes (the simulator's index of the nodes with a free CPU) against a plain array of flags.
import fc from 'fast-check';
import t from 'tap';
import { FreeNodes } from '../../src/backends/simulator/free-nodes.js';

t.test('FreeNodes lists and walks the set positions in partition order, as a plain array does', async (t) => {
  const op = fc.record({ position: fc.nat(99), free: fc.boolean(), read: fc.boolean() });
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 100 }), fc.array(op, { maxLength: 200 }), (size, ops) => {
      // a partition lists its nodes in its own order: position p holds node number 500 - 3p
      const names = Array.from({ length: size }, (_, p) => 500 - 3 * p);
      const index = new FreeNodes(Int32Array.from(names));
      const model = new Array<boolean>(size).fill(false);
      for (const o of ops) {
        const position = o.position % size;
        index.set(position, o.free);
        model[position] = o.free;
        // reads between changes: the cached list must follow the changes
        if (o.read && index.nodes().join() !== names.filter((_, i) => model[i]).join()) return false;
        if (index.has(position) !== o.free) return false;
      }
      // the walk a placement takes (nextSet, nodeAt) visits the same nodes, from any start
      const walked: number[] = [];
      for (let i = index.nextSet(0); i >= 0; i = index.nextSet(i + 1)) walked.push(index.nodeAt(i));
      const from = ops.length % size;
      const first = index.nextSet(from);
      const expectedFirst = model.findIndex((f, i) => f && i >= from);
      if (first !== expectedFirst || index.nextSet(size) !== -1) return false;
      return index.nodes().join() === names.filter((_, i) => model[i]).join() && walked.join() === index.nodes().join();
    }),
    { numRuns: 500 },
  );
  t.pass('500 random sequences over partitions of 1 to 100 nodes (fast-check fails the test otherwise)');
});
