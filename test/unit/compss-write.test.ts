import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { compssFilesForAllocation } from '../../src/compss/allocation-xml.js';
import { buildProjectXml } from '../../src/compss/project-xml.js';
import { buildResourcesXml } from '../../src/compss/resources-xml.js';
import { writeCompssFiles } from '../../src/compss/write-job-files.js';
import { GrmError } from '../../src/errors.js';

const files = compssFilesForAllocation({
  grmJobId: 9,
  allocation: {
    backendId: '1',
    partition: 'batch',
    nodeList: 'node[01-02]',
    startTime: 0,
    endTime: null,
    nodes: [
      { name: 'node01', cpus: 4, memoryMiB: 8192, gpus: 0 },
      { name: 'node02', cpus: 2, memoryMiB: 4096, gpus: 1 },
    ],
  },
});

t.test('writes project.xml and resources.xml into the job directory, creating it', async (t) => {
  const jobDir = path.join(t.testdir(), 'jobs', '9');
  const out = await writeCompssFiles(jobDir, files);
  t.strictSame(out, { projectPath: path.join(jobDir, 'project.xml'), resourcesPath: path.join(jobDir, 'resources.xml') });
  t.equal(await readFile(out.projectPath, 'utf8'), buildProjectXml(files.project));
  t.equal(await readFile(out.resourcesPath, 'utf8'), buildResourcesXml(files.resources));
});

t.test('leaves no temporary files behind', async (t) => {
  const jobDir = t.testdir();
  await writeCompssFiles(jobDir, files);
  t.strictSame((await readdir(jobDir)).sort(), ['project.xml', 'resources.xml']);
});

t.test('replaces files from an earlier attempt', async (t) => {
  const jobDir = t.testdir({ 'project.xml': 'old', 'resources.xml': 'old' });
  await writeCompssFiles(jobDir, files);
  t.equal(await readFile(path.join(jobDir, 'project.xml'), 'utf8'), buildProjectXml(files.project));
});

t.test('a model the schema would refuse writes nothing', async (t) => {
  const jobDir = t.testdir();
  const bad = { ...files, resources: { ...files.resources, computeNodes: [{ ...files.resources.computeNodes[0]!, processors: [] }] } };
  await t.rejects(writeCompssFiles(jobDir, bad), GrmError);
  t.strictSame(await readdir(jobDir), []);
});

t.test('a failed write leaves no temporary file behind', async (t) => {
  const jobDir = t.testdir();
  // A directory where the file should go makes the rename fail after the temp file exists.
  await mkdir(path.join(jobDir, 'resources.xml'));
  await writeFile(path.join(jobDir, 'keep'), 'x');
  await t.rejects(writeCompssFiles(jobDir, files));
  t.strictSame((await readdir(jobDir)).sort(), ['keep', 'project.xml', 'resources.xml']);
});
