/**
 * project.xml <-> ProjectModel. The builder writes elements in the XSD's declaration order
 * (the schema uses xsd:choice, so any order validates, but a fixed order keeps files diffable);
 * the parser reads the 2.x schema and refuses the COMPSs 1.x format with a clear message.
 */
import type { ApplicationModel, MasterNodeModel, ParseOptions, ProjectComputeNodeModel, ProjectModel } from './compss-model.js';
import {
  type ElementReader,
  type XmlOut,
  assertUniqueNames,
  buildAdaptors,
  buildAttachedDisks,
  buildDocument,
  invalid,
  outInt,
  outText,
  readAdaptors,
  readAttachedDisks,
  readDocument,
  setIf,
} from './xml-common.js';

/** `<Application>` children in the order they are written, with their model keys. */
const APPLICATION_FIELDS: ReadonlyArray<[keyof ApplicationModel, string]> = [
  ['appDir', 'AppDir'],
  ['libraryPath', 'LibraryPath'],
  ['classpath', 'Classpath'],
  ['pythonpath', 'Pythonpath'],
  ['environmentScript', 'EnvironmentScript'],
  ['pythonInterpreter', 'PythonInterpreter'],
];

export function buildProjectXml(model: ProjectModel): string {
  const root: XmlOut = { MasterNode: buildMaster(model.masterNode) };
  if (!Array.isArray(model.computeNodes)) throw invalid('Project: computeNodes must be a list');
  assertUniqueNames(model.computeNodes, 'Project/ComputeNode');
  if (model.computeNodes.length > 0) root.ComputeNode = model.computeNodes.map(buildComputeNode);
  return buildDocument('Project', root);
}

function buildMaster(master: MasterNodeModel): XmlOut | string {
  if (master.sharedDisks === undefined) return '';
  return { SharedDisks: buildAttachedDisks(master.sharedDisks, 'Project/MasterNode/SharedDisks') };
}

function buildComputeNode(node: ProjectComputeNodeModel): XmlOut {
  const where = `Project/ComputeNode[${node.name}]`;
  const out: XmlOut = {
    '@_Name': outText(node.name, `${where} Name`),
    InstallDir: outText(node.installDir, `${where}/InstallDir`),
    WorkingDir: outText(node.workingDir, `${where}/WorkingDir`),
  };
  if (node.user !== undefined) out.User = outText(node.user, `${where}/User`);
  if (node.application !== undefined) {
    const app: XmlOut = {};
    for (const [key, element] of APPLICATION_FIELDS) {
      const v = node.application[key];
      if (v !== undefined) app[element] = outText(v, `${where}/Application/${element}`);
    }
    out.Application = Object.keys(app).length === 0 ? '' : app;
  }
  if (node.limitOfTasks !== undefined) out.LimitOfTasks = outInt(node.limitOfTasks, `${where}/LimitOfTasks`, 0);
  if (node.adaptors !== undefined) out.Adaptors = buildAdaptors(node.adaptors, where, 'project');
  return out;
}

export function parseProjectXml(xml: string, options: ParseOptions = {}): ProjectModel {
  const { rootName, root } = readDocument(xml, 'project.xml', options);
  if (rootName !== 'Project') {
    throw invalid(`project.xml: the root element must be <Project>, found <${rootName}>`);
  }
  if (root.children('Worker').length > 0) {
    throw invalid(
      'COMPSs 1.x project format is not supported: it lists <Worker> elements, which COMPSs 2.x ' +
        'replaced by <ComputeNode> (with <MasterNode> and es.bsc.compss adaptors); convert it to the 2.x schema ' +
        '(schemas/compss/project_schema.xsd)',
    );
  }
  const masterEl = root.optional('MasterNode');
  const masterNode: MasterNodeModel = {};
  if (masterEl !== undefined) {
    const disks = masterEl.optional('SharedDisks');
    if (disks !== undefined) masterNode.sharedDisks = readAttachedDisks(disks);
    masterEl.done();
  }
  const computeNodes = root.children('ComputeNode').map(readComputeNode);
  assertUniqueNames(computeNodes, 'Project/ComputeNode');
  root.done();
  return { masterNode, computeNodes };
}

function readComputeNode(r: ElementReader): ProjectComputeNodeModel {
  const node: ProjectComputeNodeModel = {
    name: r.requireAttr('Name'),
    installDir: r.reqText('InstallDir'),
    workingDir: r.reqText('WorkingDir'),
  };
  setIf(node, 'user', r.optText('User'));
  const appEl = r.optional('Application');
  if (appEl !== undefined) {
    const app: ApplicationModel = {};
    for (const [key, element] of APPLICATION_FIELDS) setIf(app, key, appEl.optText(element));
    appEl.done();
    node.application = app;
  }
  setIf(node, 'limitOfTasks', r.optInt('LimitOfTasks'));
  const adaptors = r.optional('Adaptors');
  if (adaptors !== undefined) node.adaptors = readAdaptors(adaptors);
  r.done();
  return node;
}
