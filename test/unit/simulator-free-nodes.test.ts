// FreeNodes (the simulator's index of the nodes with a free CPU) against a plain array of flags.
import fc from 'fast-check';
import t from 'tap';
import { FreeNodes } from '../../src/backends/simulator/free-nodes.js';

t.test('FreeNodes lists the set positions in partition order, as a plain array does', async (t) => {
  const op = fc.record({ position: fc.nat(99), free: fc.boolean(), read: fc.boolean() });
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 100 }), fc.array(op, { maxLength: 200 }), (size, ops) => {
      const names = Array.from({ length: size }, (_, i) => `n${i}`);
      const index = new FreeNodes(names);
      const model = new Array<boolean>(size).fill(false);
      for (const o of ops) {
        const position = o.position % size;
        index.set(position, o.free);
        model[position] = o.free;
        // reads between changes: the cached list must follow the changes
        if (o.read && index.nodes().join() !== names.filter((_, i) => model[i]).join()) return false;
        if (index.has(position) !== o.free) return false;
      }
      return index.nodes().join() === names.filter((_, i) => model[i]).join();
    }),
    { numRuns: 500 },
  );
  t.pass('500 random sequences over partitions of 1 to 100 nodes');
});
