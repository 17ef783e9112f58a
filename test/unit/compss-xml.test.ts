import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { ProjectModel, ResourcesModel } from '../../src/compss/compss-model.js';
import { buildProjectXml, parseProjectXml } from '../../src/compss/project-xml.js';
import { buildResourcesXml, parseResourcesXml } from '../../src/compss/resources-xml.js';
import { PROJECT_ROOT } from '../helpers/system.js';
import { validateWithXmllint, xmllintReady } from '../helpers/xmllint.js';
import { refusal } from '../helpers/refusal.js';

const EXAMPLES = path.join(PROJECT_ROOT, 'test/fixtures/compss-examples');
const LEGACY = 'eubr-bigsea-docker-compss-legacy';

/** Every current-format example file, with the schema it follows. */
const examples = readdirSync(EXAMPLES, { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== LEGACY)
  .flatMap((d) =>
    readdirSync(path.join(EXAMPLES, d.name)).map((file) => ({
      label: `${d.name}/${file}`,
      xml: readFileSync(path.join(EXAMPLES, d.name, file), 'utf8'),
      schema: file.includes('project') ? ('project' as const) : ('resources' as const),
    })),
  );

function readBack(xml: string, schema: 'project' | 'resources'): ProjectModel | ResourcesModel {
  return schema === 'project' ? parseProjectXml(xml) : parseResourcesXml(xml);
}
function writeOut(model: ProjectModel | ResourcesModel, schema: 'project' | 'resources'): string {
  return schema === 'project' ? buildProjectXml(model as ProjectModel) : buildResourcesXml(model as ResourcesModel);
}

const ODD = `a&b<c>"d'e`;

/** A project touching every part of the model, with XML special characters everywhere. */
const fullProject: ProjectModel = {
  masterNode: { sharedDisks: [{ name: `disk ${ODD}`, mountPoint: `/mnt/${ODD}/` }] },
  computeNodes: [
    {
      name: `node-${ODD}`,
      installDir: `/opt/${ODD}/`,
      workingDir: '/tmp/w/1/',
      user: `user${ODD}`,
      application: { appDir: '/app', libraryPath: '/lib', classpath: '/c.jar', pythonpath: '/py', environmentScript: '/env.sh', pythonInterpreter: 'python3' },
      limitOfTasks: 3,
      adaptors: [
        {
          name: 'es.bsc.compss.nio.master.NIOAdaptor',
          submissionSystem: { interactive: true, batchQueues: ['q1', ODD] },
          ports: { minPort: 43001, maxPort: 43010 },
          user: 'u',
          properties: [{ name: `k${ODD}`, value: `v${ODD}` }],
        },
      ],
    },
    { name: 'plain', installDir: '/opt/COMPSs/', workingDir: '/tmp/w/1/', application: {} },
  ],
};

const fullResources: ResourcesModel = {
  sharedDisks: [{ name: `disk ${ODD}`, storage: { sizeGB: 100.5, type: 'Persistent', bandwidth: 20 } }, { name: 'empty' }],
  computeNodes: [
    {
      name: `node-${ODD}`,
      processors: [
        { name: 'MainProcessor', computingUnits: 8, architecture: 'amd64', speedGHz: 2.6, type: 'CPU', property: { key: ODD, value: ODD } },
        { name: 'GPU', computingUnits: 2, type: 'GPU', internalMemorySizeGB: 40 },
      ],
      adaptors: [
        {
          name: 'es.bsc.compss.nio.master.NIOAdaptor',
          submissionSystem: { interactive: true },
          ports: { minPort: 43001, maxPort: 43019, spawnerPort: 43100, remoteExecutionCommand: `srun ${ODD}` },
          properties: [],
        },
        { name: 'es.bsc.compss.gat.master.GATAdaptor', submissionSystem: { interactive: false, batchQueues: ['seq'] }, brokerAdaptor: 'sshtrilead' },
      ],
      memory: { sizeGB: 15.62, type: 'DDR4' },
      storage: { sizeGB: 2000 },
      operatingSystem: { type: 'Linux', distribution: 'Debian', version: '12' },
      software: ['Java', ODD],
      sharedDisks: [{ name: `disk ${ODD}`, mountPoint: `/mnt/${ODD}/` }],
    },
  ],
};

t.test('builders write the XML declaration COMPSs files start with', async (t) => {
  const declaration = '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n';
  t.ok(buildProjectXml(fullProject).startsWith(declaration));
  t.ok(buildResourcesXml(fullResources).startsWith(declaration));
});

t.test('a project using every modelled element reads back unchanged', async (t) => {
  t.strictSame(parseProjectXml(buildProjectXml(fullProject)), fullProject);
});

t.test('a resources list using every modelled element reads back unchanged', async (t) => {
  t.strictSame(parseResourcesXml(buildResourcesXml(fullResources)), fullResources);
});

t.test('XML special characters are escaped, never written raw', async (t) => {
  const xml = buildProjectXml(fullProject);
  t.match(xml, 'Name="node-a&amp;b&lt;c&gt;&quot;d&apos;e"');
  t.notMatch(xml, `node-${ODD}`);
});

t.test('a project using every modelled element is valid against project_schema.xsd', async (t) => {
  if (!xmllintReady(t)) return;
  const r = validateWithXmllint(buildProjectXml(fullProject), 'project');
  t.ok(r.ok, r.output);
});

t.test('a resources list using every modelled element is valid against resources_schema.xsd', async (t) => {
  if (!xmllintReady(t)) return;
  const r = validateWithXmllint(buildResourcesXml(fullResources), 'resources');
  t.ok(r.ok, r.output);
});

t.test('the validator reports a document that breaks the schema', async (t) => {
  if (!xmllintReady(t)) return;
  // ComputingUnits is an xsd:int; xmllint has to say no to a word there.
  const broken = buildResourcesXml(fullResources).replace('<ComputingUnits>8</ComputingUnits>', '<ComputingUnits>eight</ComputingUnits>');
  const r = validateWithXmllint(broken, 'resources');
  t.equal(r.ok, false);
  t.match(r.output, /fails to validate/);
});

t.test('the schema enforces Ports order (MinPort before MaxPort), so element order matters', async (t) => {
  if (!xmllintReady(t)) return;
  const swapped = buildResourcesXml(fullResources).replace(
    /<MinPort>43001<\/MinPort>(\s*)<MaxPort>43019<\/MaxPort>/,
    '<MaxPort>43019</MaxPort>$1<MinPort>43001</MinPort>',
  );
  t.equal(validateWithXmllint(swapped, 'resources').ok, false);
});

for (const ex of examples) {
  t.test(`example ${ex.label} parses and is written back valid against the schema`, async (t) => {
    if (!xmllintReady(t)) return;
    const r = validateWithXmllint(writeOut(readBack(ex.xml, ex.schema), ex.schema), ex.schema);
    t.ok(r.ok, r.output);
  });

  t.test(`example ${ex.label} reads the same after a write/read cycle`, async (t) => {
    const model = readBack(ex.xml, ex.schema);
    t.strictSame(readBack(writeOut(model, ex.schema), ex.schema), model);
  });
}

t.test('the grid example yields its two nodes with user and task limit', async (t) => {
  const xml = readFileSync(path.join(EXAMPLES, 'compss-examples-grid/project.xml'), 'utf8');
  const m = parseProjectXml(xml);
  t.strictSame(
    m.computeNodes.map((n) => [n.name, n.user, n.limitOfTasks, n.workingDir]),
    [
      ['hostname1.domain.es', 'user', 2, '/tmp/COMPSsWorker1/'],
      ['hostname2.domain.es', 'user', 2, '/tmp/COMPSsWorker2/'],
    ],
  );
});

t.test('the full resources example yields processors with their types and properties', async (t) => {
  const xml = readFileSync(path.join(EXAMPLES, 'compss-examples-full/resources.xml'), 'utf8');
  const node = parseResourcesXml(xml).computeNodes[0]!;
  t.strictSame(node.processors[0], { name: 'P1', computingUnits: 4, architecture: 'amd64', speedGHz: 3, property: { key: 'procKey', value: 'procValue' } });
  t.strictSame(node.processors[2], { name: 'P3', computingUnits: 4, speedGHz: 3, type: 'GPU', internalMemorySizeGB: 0.01 });
  t.strictSame(node.memory, { sizeGB: 256.2, type: 'Non-volatile' });
});

t.test('elements outside the model are reported, not silently dropped', async (t) => {
  const skipped: string[] = [];
  const xml = readFileSync(path.join(EXAMPLES, 'compss-examples-full/project.xml'), 'utf8');
  parseProjectXml(xml, { onSkipped: (p) => skipped.push(p) });
  t.strictSame(skipped.sort(), ['Project/Cloud', 'Project/DataNode', 'Project/MasterNode/Price', 'Project/Service']);
});


t.test('the COMPSs 1.x project file is refused with a conversion hint', async (t) => {
  const xml = readFileSync(path.join(EXAMPLES, LEGACY, 'project.xml'), 'utf8');
  const e = refusal(() => parseProjectXml(xml));
  t.equal(e.code, 'E_XML_INVALID');
  t.match(e.message, /^COMPSs 1\.x project format is not supported: .*convert it to the 2\.x schema/);
});

t.test('the COMPSs 1.x resources file is refused with a conversion hint', async (t) => {
  const xml = readFileSync(path.join(EXAMPLES, LEGACY, 'resources.xml'), 'utf8');
  const e = refusal(() => parseResourcesXml(xml));
  t.equal(e.code, 'E_XML_INVALID');
  t.match(e.message, /^COMPSs 1\.x resources format is not supported: .*convert it to the 2\.x schema/);
});

t.test('a 2.x layout naming a 1.x integratedtoolkit adaptor is refused', async (t) => {
  const xml = buildResourcesXml(fullResources).replace('es.bsc.compss.nio.master.NIOAdaptor', 'integratedtoolkit.nio.master.NIOAdaptor');
  t.match(refusal(() => parseResourcesXml(xml)).message, /COMPSs 1\.x, which is not supported/);
});

t.test('malformed XML is refused with its position', async (t) => {
  const e = refusal(() => parseProjectXml('<Project><MasterNode></Project>'));
  t.equal(e.code, 'E_XML_INVALID');
  t.match(e.message, /not well-formed XML: .*line 1/);
});

t.test('a document with a DOCTYPE is refused', async (t) => {
  const xml = '<?xml version="1.0"?><!DOCTYPE Project [<!ENTITY x "y">]><Project><MasterNode/></Project>';
  t.equal(refusal(() => parseProjectXml(xml)).code, 'E_XML_INVALID');
});

t.test('a resources file given to the project parser is refused by its root element', async (t) => {
  t.match(refusal(() => parseProjectXml(buildResourcesXml(fullResources))).message, /root element must be <Project>, found <ResourcesList>/);
});

t.test('a ComputeNode without WorkingDir is refused', async (t) => {
  const xml = '<Project><MasterNode/><ComputeNode Name="n"><InstallDir>/opt</InstallDir></ComputeNode></Project>';
  t.match(refusal(() => parseProjectXml(xml)).message, /ComputeNode\[n\]: <WorkingDir> is required/);
});

t.test('a non-integer ComputingUnits is refused', async (t) => {
  const xml = buildResourcesXml(fullResources).replace('<ComputingUnits>8</ComputingUnits>', '<ComputingUnits>8.5</ComputingUnits>');
  t.match(refusal(() => parseResourcesXml(xml)).message, /expected an xsd:int, got "8.5"/);
});

t.test('numeric character references are decoded', async (t) => {
  const xml = '<Project><MasterNode/><ComputeNode Name="a&#38;b&#x3C;"><InstallDir>/o</InstallDir><WorkingDir>/w</WorkingDir></ComputeNode></Project>';
  t.equal(parseProjectXml(xml).computeNodes[0]?.name, 'a&b<');
});

t.test('the builder refuses a control character, which XML cannot carry', async (t) => {
  const model: ProjectModel = { masterNode: {}, computeNodes: [{ name: 'n\u0001', installDir: '/o', workingDir: '/w' }] };
  t.match(refusal(() => buildProjectXml(model)).message, /control character/);
});

t.test('the builder refuses leading or trailing blanks, which would not read back', async (t) => {
  const model: ProjectModel = { masterNode: {}, computeNodes: [{ name: 'n', installDir: '/opt ', workingDir: '/w' }] };
  t.match(refusal(() => buildProjectXml(model)).message, /InstallDir has leading or trailing whitespace/);
});

t.test('the builder refuses SpawnerPort in project.xml, where the schema has no place for it', async (t) => {
  const node = { ...fullProject.computeNodes[0]!, adaptors: [{ ...fullResources.computeNodes[0]!.adaptors[0]! }] };
  t.match(refusal(() => buildProjectXml({ masterNode: {}, computeNodes: [node] })).message, /belong in resources\.xml/);
});

t.test('the builder refuses an adaptor with neither Interactive nor Batch', async (t) => {
  const adaptors = [{ name: 'x', submissionSystem: { interactive: false } }];
  const model: ResourcesModel = { ...fullResources, computeNodes: [{ ...fullResources.computeNodes[0]!, adaptors }] };
  t.match(refusal(() => buildResourcesXml(model)).message, /SubmissionSystem needs Interactive or Batch/);
});

t.test('the builder refuses a node attached to an undeclared shared disk', async (t) => {
  const model: ResourcesModel = { ...fullResources, sharedDisks: [] };
  t.match(refusal(() => buildResourcesXml(model)).message, /has no <SharedDisk> declaration/);
});

t.test('the builder refuses two compute nodes with the same name', async (t) => {
  const n = { name: 'n', installDir: '/o', workingDir: '/w' };
  t.match(refusal(() => buildProjectXml({ masterNode: {}, computeNodes: [n, { ...n }] })).message, /appears more than once/);
});

t.test('the builder refuses a processor type COMPSs does not know', async (t) => {
  const node = fullResources.computeNodes[0]!;
  const bad = { ...node, processors: [{ name: 'P', computingUnits: 1, type: 'TPU' as 'CPU' }] };
  t.match(refusal(() => buildResourcesXml({ ...fullResources, computeNodes: [bad] })).message, /must be one of CPU, GPU, FPGA/);
});
