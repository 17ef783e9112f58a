/**
 * nodeTaskCapacity is on the scheduler's hot path and skips divisions when memory cannot bind;
 * it must give what the rules say (task-capacity.ts's header), written here plainly: every
 * division done, on random nodes, loads and requests (shared and exclusive, memory per node,
 * per CPU or the default share, GPUs, tasks per node, nodes out of service or over-committed).
 */
import fc from 'fast-check';
import t from 'tap';
import type { ResourceRequest } from '../../src/backends/resource-backend.js';
import { nodeTaskCapacity, type NodeLoad } from '../../src/backends/task-capacity.js';

function plainCapacity(req: ResourceRequest, u: NodeLoad): number {
  const n = u.node;
  if (!u.inService || !(n.cpus >= 1)) return 0;
  if (req.gpusPerNode > 0 && req.gpuType !== undefined && req.gpuType !== '' && n.gpuType !== req.gpuType) return 0;
  if (req.exclusive ? u.allocations > 0 : u.exclusive) return 0;
  const freeCpus = req.exclusive ? n.cpus : n.cpus - u.cpus;
  const freeMem = req.exclusive ? n.memoryMiB : n.memoryMiB - u.memoryMiB;
  const freeGpus = req.exclusive ? n.gpus : n.gpus - u.gpus;
  if (freeGpus < req.gpusPerNode) return 0;
  let tasks = Math.floor(freeCpus / req.cpusPerTask);
  const perNode = req.memoryPerNodeMiB ?? 0;
  if (perNode > 0) {
    if (freeMem < perNode) return 0;
  } else {
    const mpc = req.memoryPerCpuMiB ?? 0;
    const perCpu = mpc > 0 ? mpc : req.exclusive ? 0 : Math.floor(n.memoryMiB / n.cpus);
    if (perCpu > 0) tasks = Math.min(tasks, Math.floor(freeMem / (perCpu * req.cpusPerTask)));
  }
  if (req.tasksPerNode !== undefined) {
    const want = Math.min(req.tasksPerNode, req.tasks);
    return tasks >= want ? want : 0;
  }
  return Math.max(0, tasks);
}

t.test('nodeTaskCapacity equals the rules computed with every division', async (t) => {
  const node = fc.record({
    cpus: fc.integer({ min: 0, max: 64 }),
    memoryMiB: fc.integer({ min: 1, max: 300000 }),
    gpus: fc.integer({ min: 0, max: 4 }),
    gpuType: fc.constantFrom(undefined, 'a100', 'v100'),
  });
  // mostly in service and within the node, sometimes over it (a load is whatever was allocated)
  const load = fc.record({
    inService: fc.constantFrom(true, true, true, false),
    cpus: fc.integer({ min: 0, max: 70 }),
    memoryMiB: fc.oneof(fc.integer({ min: 0, max: 80000 }), fc.constant(0)),
    gpus: fc.integer({ min: 0, max: 5 }),
    exclusive: fc.constantFrom(false, false, false, true),
    allocations: fc.integer({ min: 0, max: 3 }),
  });
  const request = fc.record({
    tasks: fc.integer({ min: 1, max: 200 }),
    cpusPerTask: fc.integer({ min: 1, max: 8 }),
    memoryPerNodeMiB: fc.constantFrom(0, 0, 1000, 64000),
    memoryPerCpuMiB: fc.constantFrom(undefined, 0, 100, 3000),
    gpusPerNode: fc.constantFrom(0, 0, 0, 1, 2),
    gpuType: fc.constantFrom(undefined, '', 'a100'),
    tasksPerNode: fc.option(fc.integer({ min: 1, max: 16 }), { nil: undefined }),
    exclusive: fc.constantFrom(false, false, false, true),
  });
  let usable = 0;
  fc.assert(
    fc.property(node, load, request, (n, l, r) => {
      const req = { jobId: 1, name: 'j', user: 'u', partition: 'p', minNodes: 1, maxNodes: r.tasks, timeLimitMinutes: 10, nice: 0, submitTime: 0, ...r } as ResourceRequest;
      const u: NodeLoad = { ...l, node: n };
      const got = nodeTaskCapacity(req, u);
      if (got > 0) usable++;
      return got === plainCapacity(req, u);
    }),
    { numRuns: 20000 },
  );
  t.ok(usable > 500, `nodes that take a task among the cases: ${usable}`);
});
