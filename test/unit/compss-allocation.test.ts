import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import t from 'tap';
import type { AllocatedNode, Allocation } from '../../src/backends/resource-backend.js';
import { type CompssJobInput, compssFilesForAllocation, memoryMiBToGB } from '../../src/compss/allocation-xml.js';
import { buildProjectXml, parseProjectXml } from '../../src/compss/project-xml.js';
import { buildResourcesXml, parseResourcesXml } from '../../src/compss/resources-xml.js';
import { validateWithXmllint, xmllintReady } from '../helpers/xmllint.js';
import { refusal } from '../helpers/refusal.js';

function allocation(nodes: AllocatedNode[]): Allocation {
  return { backendId: '100', partition: 'batch', nodes, nodeList: nodes.map((n) => n.name).join(','), startTime: 0, endTime: null };
}
const node = (name: string, cpus: number, extra: Partial<AllocatedNode> = {}): AllocatedNode => ({ name, cpus, memoryMiB: 4096, gpus: 0, ...extra });
const ODD = `a&b<c>"d'e`;

/** The allocation shapes GRM meets, each one a separate specification below. */
const shapes: Record<string, CompssJobInput> = {
  'one node': { grmJobId: 1, allocation: allocation([node('node01', 4)]) },
  'three nodes with different CPU counts': {
    grmJobId: 2,
    allocation: allocation([node('node01', 2), node('node02', 8), node('node03', 48)]),
  },
  'nodes with GPUs': {
    grmJobId: 3,
    allocation: allocation([node('gpu01', 16, { gpus: 4, gpuType: 'a100' }), node('gpu02', 16, { gpus: 2 })]),
  },
  'shared disks': {
    grmJobId: 4,
    allocation: allocation([node('node01', 4), node('node02', 4)]),
    config: { sharedDisks: [{ name: 'gpfs', mountPoint: '/gpfs/' }, { name: 'scratch', mountPoint: '/scratch/' }] },
  },
  'a user set': { grmJobId: 5, allocation: allocation([node('node01', 4)]), config: { user: 'alice' } },
  'application paths': {
    grmJobId: 6,
    allocation: allocation([node('node01', 4)]),
    config: { application: { appDir: '/home/alice/app/', pythonpath: '/home/alice/py', classpath: '/a.jar:/b.jar', libraryPath: '/usr/lib' } },
  },
  'XML special characters in names and paths': {
    grmJobId: 7,
    allocation: allocation([node(`node-${ODD}`, 4, { gpus: 1, gpuType: ODD })]),
    config: {
      installDir: `/opt/${ODD}/`,
      workingDirBase: `/tmp/${ODD}`,
      user: ODD,
      sharedDisks: [{ name: ODD, mountPoint: `/mnt/${ODD}/` }],
      adaptorProperties: { [ODD]: ODD },
      application: { appDir: `/app/${ODD}` },
      remoteExecutionCommand: `srun ${ODD}`,
    },
  },
  'tasks per node given as a Map': {
    grmJobId: 8,
    allocation: allocation([node('node01', 8), node('node02', 8)]),
    tasksPerNode: new Map([['node01', 2], ['node02', 3]]),
  },
};

for (const [shape, input] of Object.entries(shapes)) {
  t.test(`${shape}: project.xml is valid against the XSD`, async (t) => {
    if (!xmllintReady(t)) return;
    const r = validateWithXmllint(buildProjectXml(compssFilesForAllocation(input).project), 'project');
    t.ok(r.ok, r.output);
  });
  t.test(`${shape}: resources.xml is valid against the XSD`, async (t) => {
    if (!xmllintReady(t)) return;
    const r = validateWithXmllint(buildResourcesXml(compssFilesForAllocation(input).resources), 'resources');
    t.ok(r.ok, r.output);
  });
  t.test(`${shape}: both files read back into the same models`, async (t) => {
    const { project, resources } = compssFilesForAllocation(input);
    t.strictSame(parseProjectXml(buildProjectXml(project)), project);
    t.strictSame(parseResourcesXml(buildResourcesXml(resources)), resources);
  });
  t.test(`${shape}: ComputeNodes are exactly the allocated nodes, in order`, async (t) => {
    const names = input.allocation.nodes.map((n) => n.name);
    const { project, resources } = compssFilesForAllocation(input);
    t.strictSame(parseProjectXml(buildProjectXml(project)).computeNodes.map((n) => n.name), names);
    t.strictSame(parseResourcesXml(buildResourcesXml(resources)).computeNodes.map((n) => n.name), names);
  });
}

t.test('any allocation of well-formed names reads back unchanged', async (t) => {
  const text = fc.string({ unit: fc.constantFrom(...'ab-_.0 &<>"\''.split('')), minLength: 1, maxLength: 12 }).filter((s) => s.trim() === s);
  const nodeArb = fc.record({
    name: text,
    cpus: fc.integer({ min: 1, max: 256 }),
    memoryMiB: fc.integer({ min: 0, max: 4 * 1024 * 1024 }),
    gpus: fc.integer({ min: 0, max: 8 }),
  });
  fc.assert(
    fc.property(fc.uniqueArray(nodeArb, { selector: (n) => n.name, minLength: 1, maxLength: 6 }), fc.nat(100_000), (nodes, id) => {
      const { project, resources } = compssFilesForAllocation({ grmJobId: id, allocation: allocation(nodes) });
      // A boolean property lets fast-check shrink a failure to the smallest allocation.
      return (
        isDeepStrictEqual(parseProjectXml(buildProjectXml(project)), project) &&
        isDeepStrictEqual(parseResourcesXml(buildResourcesXml(resources)), resources)
      );
    }),
    { numRuns: 200 },
  );
  t.pass('200 random allocations round-tripped');
});

t.test('ComputingUnits is the CPU count allocated on each node', async (t) => {
  const { resources } = compssFilesForAllocation(shapes['three nodes with different CPU counts']!);
  t.strictSame(resources.computeNodes.map((n) => n.processors.map((p) => [p.name, p.type, p.computingUnits])), [
    [['MainProcessor', 'CPU', 2]],
    [['MainProcessor', 'CPU', 8]],
    [['MainProcessor', 'CPU', 48]],
  ]);
});

t.test('allocated GPUs add a GPU processor with that count and the GRES type as architecture', async (t) => {
  const { resources } = compssFilesForAllocation(shapes['nodes with GPUs']!);
  t.strictSame(resources.computeNodes[0]!.processors[1], { name: 'GPU', computingUnits: 4, type: 'GPU', architecture: 'a100' });
  t.strictSame(resources.computeNodes[1]!.processors[1], { name: 'GPU', computingUnits: 2, type: 'GPU' });
});

t.test('a node without GPUs gets no GPU processor', async (t) => {
  const { resources } = compssFilesForAllocation(shapes['one node']!);
  t.equal(resources.computeNodes[0]!.processors.length, 1);
});

t.test('memory is written in GB, rounded down to two decimals', async (t) => {
  t.equal(memoryMiBToGB(4096), 4);
  t.equal(memoryMiBToGB(1000), 0.97);
  t.equal(memoryMiBToGB(1536), 1.5);
});

t.test('a tiny memory grant is never written as 0 GB', async (t) => {
  t.equal(memoryMiBToGB(1), 0.01);
});

t.test('a node with no memory allocated gets no Memory element', async (t) => {
  const { resources } = compssFilesForAllocation({ grmJobId: 1, allocation: allocation([node('n', 1, { memoryMiB: 0 })]) });
  t.notOk('memory' in resources.computeNodes[0]!);
});

t.test('LimitOfTasks is the CPU count when tasks per node are not given', async (t) => {
  const { project } = compssFilesForAllocation(shapes['three nodes with different CPU counts']!);
  t.strictSame(project.computeNodes.map((n) => n.limitOfTasks), [2, 8, 48]);
});

t.test('LimitOfTasks follows tasks per node given as a Map', async (t) => {
  const { project } = compssFilesForAllocation(shapes['tasks per node given as a Map']!);
  t.strictSame(project.computeNodes.map((n) => n.limitOfTasks), [2, 3]);
});

t.test('LimitOfTasks follows tasks per node given as a record, even for a node named like an Object member', async (t) => {
  const input = { grmJobId: 1, allocation: allocation([node('constructor', 8), node('n2', 8)]), tasksPerNode: { n2: 5 } };
  t.strictSame(compssFilesForAllocation(input).project.computeNodes.map((n) => n.limitOfTasks), [8, 5]);
});

t.test('shared disks are declared once and attached to every node and the master', async (t) => {
  const { project, resources } = compssFilesForAllocation(shapes['shared disks']!);
  const attached = [{ name: 'gpfs', mountPoint: '/gpfs/' }, { name: 'scratch', mountPoint: '/scratch/' }];
  t.strictSame(resources.sharedDisks, [{ name: 'gpfs' }, { name: 'scratch' }]);
  t.strictSame(project.masterNode, { sharedDisks: attached });
  for (const n of resources.computeNodes) t.strictSame(n.sharedDisks, attached);
});

t.test('without shared disks the master node is empty', async (t) => {
  t.strictSame(compssFilesForAllocation(shapes['one node']!).project.masterNode, {});
});

t.test('the configured user and application paths go on every project node', async (t) => {
  const { project } = compssFilesForAllocation({ ...shapes['application paths']!, config: { ...shapes['application paths']!.config, user: 'alice' } });
  t.equal(project.computeNodes[0]!.user, 'alice');
  t.strictSame(project.computeNodes[0]!.application, { appDir: '/home/alice/app/', libraryPath: '/usr/lib', classpath: '/a.jar:/b.jar', pythonpath: '/home/alice/py' });
});

t.test('defaults: /opt/COMPSs/ install dir and a NIO adaptor, interactive, on ports 43001-43019 for job 0', async (t) => {
  const { project, resources } = compssFilesForAllocation({ grmJobId: 0, allocation: allocation([node('n', 1)]) });
  t.equal(project.computeNodes[0]!.installDir, '/opt/COMPSs/');
  t.strictSame(resources.computeNodes[0]!.adaptors, [
    { name: 'es.bsc.compss.nio.master.NIOAdaptor', submissionSystem: { interactive: true }, ports: { minPort: 43001, maxPort: 43019 } },
  ]);
});

t.test('adaptor properties and the remote execution command reach the NIO adaptor', async (t) => {
  const config = { adaptorProperties: { a: '1', b: '2' }, remoteExecutionCommand: 'srun' };
  const adaptor = compssFilesForAllocation({ grmJobId: 0, allocation: allocation([node('n', 1)]), config }).resources.computeNodes[0]!.adaptors[0]!;
  t.strictSame(adaptor.properties, [{ name: 'a', value: '1' }, { name: 'b', value: '2' }]);
  t.equal(adaptor.ports?.remoteExecutionCommand, 'srun');
});

t.test('each job works in its own directory under the working dir base', async (t) => {
  const a = compssFilesForAllocation({ grmJobId: 11, allocation: allocation([node('n', 1)]), config: { workingDirBase: '/scratch/w/' } });
  const b = compssFilesForAllocation({ grmJobId: 12, allocation: allocation([node('n', 1)]), config: { workingDirBase: '/scratch/w/' } });
  t.equal(a.project.computeNodes[0]!.workingDir, '/scratch/w/11/');
  t.equal(b.project.computeNodes[0]!.workingDir, '/scratch/w/12/');
});

t.test('two jobs running at once on the same node get disjoint worker ports and distinct master ports', async (t) => {
  const a = compssFilesForAllocation({ grmJobId: 41, allocation: allocation([node('shared', 2)]) });
  const b = compssFilesForAllocation({ grmJobId: 42, allocation: allocation([node('shared', 2)]) });
  const pa = a.resources.computeNodes[0]!.adaptors[0]!.ports!;
  const pb = b.resources.computeNodes[0]!.adaptors[0]!.ports!;
  t.ok(pa.maxPort < pb.minPort || pb.maxPort < pa.minPort, `${pa.minPort}-${pa.maxPort} vs ${pb.minPort}-${pb.maxPort}`);
  t.not(a.ports.masterPort, b.ports.masterPort);
  for (const p of [a.ports.masterPort, b.ports.masterPort]) {
    t.notOk(p >= pa.minPort && p <= pa.maxPort, 'no master port inside job A worker range');
    t.notOk(p >= pb.minPort && p <= pb.maxPort, 'no master port inside job B worker range');
  }
});

t.test('a port range chosen by the caller is the one written', async (t) => {
  const ports = { slot: 3, minPort: 50000, maxPort: 50009, masterPort: 50009 };
  const files = compssFilesForAllocation({ grmJobId: 1, allocation: allocation([node('n', 1)]), ports });
  t.strictSame(files.resources.computeNodes[0]!.adaptors[0]!.ports, { minPort: 50000, maxPort: 50008 });
});


t.test('an allocation without nodes is refused', async (t) => {
  t.equal(refusal(() => compssFilesForAllocation({ grmJobId: 1, allocation: allocation([]) })).code, 'E_XML_INVALID');
});

t.test('an allocation listing a node twice is refused', async (t) => {
  const e = refusal(() => compssFilesForAllocation({ grmJobId: 1, allocation: allocation([node('n', 1), node('n', 2)]) }));
  t.match(e.message, /lists a node twice/);
});

t.test('tasks per node naming a node outside the allocation is refused', async (t) => {
  const e = refusal(() => compssFilesForAllocation({ grmJobId: 1, allocation: allocation([node('n', 1)]), tasksPerNode: { other: 1 } }));
  t.match(e.message, /"other", which is not in the allocation/);
});

t.test('a node with zero CPUs is refused', async (t) => {
  const e = refusal(() => compssFilesForAllocation({ grmJobId: 1, allocation: allocation([node('n', 0)]) }));
  t.match(e.message, /cpus must be an integer >= 1/);
});
