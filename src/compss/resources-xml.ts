/**
 * resources.xml <-> ResourcesModel. Element order inside each node follows the XSD's
 * declaration order; the only places where the schema imposes order (xsd:sequence: Ports,
 * Property, ProcessorProperty, AttachedDisk, SharedDisk) are written in that order. The parser
 * refuses the COMPSs 1.x `<ResourceList>` format with a clear message.
 */
import {
  OS_KINDS,
  PROCESSOR_KINDS,
  type MemoryModel,
  type OperatingSystemModel,
  type OsKind,
  type ParseOptions,
  type ProcessorKind,
  type ProcessorModel,
  type ResourcesComputeNodeModel,
  type ResourcesModel,
  type SharedDiskModel,
  type StorageModel,
} from './compss-model.js';
import {
  type ElementReader,
  type XmlOut,
  assertUniqueNames,
  buildAdaptors,
  buildAttachedDisks,
  buildDocument,
  invalid,
  nonEmpty,
  outFloat,
  outInt,
  outText,
  readAdaptors,
  readAttachedDisks,
  readDocument,
  setIf,
} from './xml-common.js';

export function buildResourcesXml(model: ResourcesModel): string {
  if (!Array.isArray(model.sharedDisks) || !Array.isArray(model.computeNodes)) {
    throw invalid('ResourcesList: sharedDisks and computeNodes must be lists');
  }
  assertUniqueNames(model.sharedDisks, 'ResourcesList/SharedDisk');
  assertUniqueNames(model.computeNodes, 'ResourcesList/ComputeNode');
  // COMPSs resolves each node's AttachedDisk by name against the SharedDisk declarations;
  // a dangling name is a GRM bug, so it is caught here rather than by the runtime.
  const declared = new Set(model.sharedDisks.map((d) => d.name));
  for (const node of model.computeNodes) {
    for (const disk of node.sharedDisks ?? []) {
      if (!declared.has(disk.name)) {
        throw invalid(`ResourcesList/ComputeNode[${node.name}]: attached disk ${JSON.stringify(disk.name)} has no <SharedDisk> declaration`);
      }
    }
  }
  const root: XmlOut = {};
  if (model.sharedDisks.length > 0) root.SharedDisk = model.sharedDisks.map(buildSharedDisk);
  if (model.computeNodes.length > 0) root.ComputeNode = model.computeNodes.map(buildComputeNode);
  return buildDocument('ResourcesList', Object.keys(root).length === 0 ? '' : root);
}

function buildSharedDisk(disk: SharedDiskModel): XmlOut {
  const where = `ResourcesList/SharedDisk[${disk.name}]`;
  const out: XmlOut = { '@_Name': outText(disk.name, `${where} Name`) };
  if (disk.storage !== undefined) out.Storage = buildStorage(disk.storage, `${where}/Storage`);
  return out;
}

function buildStorage(s: StorageModel, where: string): XmlOut {
  const out: XmlOut = {};
  if (s.sizeGB !== undefined) out.Size = outFloat(s.sizeGB, `${where}/Size`);
  if (s.type !== undefined) out.Type = outText(s.type, `${where}/Type`);
  if (s.bandwidth !== undefined) out.Bandwidth = outInt(s.bandwidth, `${where}/Bandwidth`, 0);
  if (Object.keys(out).length === 0) throw invalid(`${where} needs Size, Type or Bandwidth`);
  return out;
}

function buildComputeNode(node: ResourcesComputeNodeModel): XmlOut {
  const where = `ResourcesList/ComputeNode[${node.name}]`;
  const out: XmlOut = {
    '@_Name': outText(node.name, `${where} Name`),
    Processor: nonEmpty(node.processors, `${where}/Processor`).map((p, i) => buildProcessor(p, `${where}/Processor[${i}]`)),
    Adaptors: buildAdaptors(node.adaptors, where, 'resources'),
  };
  if (node.memory !== undefined) out.Memory = buildMemory(node.memory, `${where}/Memory`);
  if (node.storage !== undefined) out.Storage = buildStorage(node.storage, `${where}/Storage`);
  if (node.operatingSystem !== undefined) out.OperatingSystem = buildOs(node.operatingSystem, `${where}/OperatingSystem`);
  if (node.software !== undefined) {
    out.Software = { Application: nonEmpty(node.software, `${where}/Software`).map((s, i) => outText(s, `${where}/Software[${i}]`)) };
  }
  if (node.sharedDisks !== undefined) out.SharedDisks = buildAttachedDisks(node.sharedDisks, `${where}/SharedDisks`);
  return out;
}

function buildProcessor(p: ProcessorModel, where: string): XmlOut {
  const out: XmlOut = {
    '@_Name': outText(p.name, `${where} Name`),
    ComputingUnits: outInt(p.computingUnits, `${where}/ComputingUnits`, 0),
  };
  if (p.architecture !== undefined) out.Architecture = outText(p.architecture, `${where}/Architecture`);
  if (p.speedGHz !== undefined) out.Speed = outFloat(p.speedGHz, `${where}/Speed`);
  if (p.type !== undefined) out.Type = outText(checkKind(p.type, PROCESSOR_KINDS, `${where}/Type`), `${where}/Type`);
  if (p.internalMemorySizeGB !== undefined) out.InternalMemorySize = outFloat(p.internalMemorySizeGB, `${where}/InternalMemorySize`);
  if (p.property !== undefined) {
    out.ProcessorProperty = {
      Key: outText(p.property.key, `${where}/ProcessorProperty/Key`),
      Value: outText(p.property.value, `${where}/ProcessorProperty/Value`),
    };
  }
  return out;
}

function buildMemory(m: MemoryModel, where: string): XmlOut {
  const out: XmlOut = { Size: outFloat(m.sizeGB, `${where}/Size`) };
  if (m.type !== undefined) out.Type = outText(m.type, `${where}/Type`);
  return out;
}

function buildOs(os: OperatingSystemModel, where: string): XmlOut {
  const out: XmlOut = { Type: checkKind(os.type, OS_KINDS, `${where}/Type`) };
  if (os.distribution !== undefined) out.Distribution = outText(os.distribution, `${where}/Distribution`);
  if (os.version !== undefined) out.Version = outText(os.version, `${where}/Version`);
  return out;
}

function checkKind<T extends string>(value: string, allowed: readonly T[], where: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw invalid(`${where} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

export function parseResourcesXml(xml: string, options: ParseOptions = {}): ResourcesModel {
  const { rootName, root } = readDocument(xml, 'resources.xml', options);
  if (rootName === 'ResourceList') {
    throw invalid(
      'COMPSs 1.x resources format is not supported: its root is <ResourceList> with <Resource> entries, ' +
        'which COMPSs 2.x replaced by <ResourcesList> with <ComputeNode> and <SharedDisk>; convert it to the 2.x schema ' +
        '(schemas/compss/resources_schema.xsd)',
    );
  }
  if (rootName !== 'ResourcesList') {
    throw invalid(`resources.xml: the root element must be <ResourcesList>, found <${rootName}>`);
  }
  const sharedDisks = root.children('SharedDisk').map(readSharedDisk);
  const computeNodes = root.children('ComputeNode').map(readComputeNode);
  assertUniqueNames(sharedDisks, 'ResourcesList/SharedDisk');
  assertUniqueNames(computeNodes, 'ResourcesList/ComputeNode');
  root.done();
  return { sharedDisks, computeNodes };
}

function readSharedDisk(r: ElementReader): SharedDiskModel {
  const disk: SharedDiskModel = { name: r.requireAttr('Name') };
  const storage = r.optional('Storage');
  if (storage !== undefined) disk.storage = readStorage(storage);
  r.done();
  return disk;
}

function readStorage(r: ElementReader): StorageModel {
  const s: StorageModel = {};
  setIf(s, 'sizeGB', r.optFloat('Size'));
  setIf(s, 'type', r.optText('Type'));
  setIf(s, 'bandwidth', r.optInt('Bandwidth'));
  r.done();
  if (Object.keys(s).length === 0) throw invalid(`${r.path}: needs Size, Type or Bandwidth`);
  return s;
}

function readComputeNode(r: ElementReader): ResourcesComputeNodeModel {
  const name = r.requireAttr('Name');
  const processors = r.children('Processor').map(readProcessor);
  if (processors.length === 0) throw invalid(`${r.path}: needs at least one <Processor>`);
  const node: ResourcesComputeNodeModel = { name, processors, adaptors: readAdaptors(r.required('Adaptors')) };
  const memory = r.optional('Memory');
  if (memory !== undefined) {
    const m: MemoryModel = { sizeGB: memory.reqFloat('Size') };
    setIf(m, 'type', memory.optText('Type'));
    memory.done();
    node.memory = m;
  }
  const storage = r.optional('Storage');
  if (storage !== undefined) node.storage = readStorage(storage);
  const os = r.optional('OperatingSystem');
  if (os !== undefined) {
    const o: OperatingSystemModel = { type: checkKind<OsKind>(os.reqText('Type'), OS_KINDS, `${os.path}/Type`) };
    setIf(o, 'distribution', os.optText('Distribution'));
    setIf(o, 'version', os.optText('Version'));
    os.done();
    node.operatingSystem = o;
  }
  const software = r.optional('Software');
  if (software !== undefined) {
    node.software = software.children('Application').map((a) => a.text());
    software.done();
    if (node.software.length === 0) throw invalid(`${software.path}: needs at least one <Application>`);
  }
  const disks = r.optional('SharedDisks');
  if (disks !== undefined) node.sharedDisks = readAttachedDisks(disks);
  r.done();
  return node;
}

function readProcessor(r: ElementReader): ProcessorModel {
  const p: ProcessorModel = { name: r.requireAttr('Name'), computingUnits: r.reqInt('ComputingUnits') };
  setIf(p, 'architecture', r.optText('Architecture'));
  setIf(p, 'speedGHz', r.optFloat('Speed'));
  const type = r.optText('Type');
  if (type !== undefined) p.type = checkKind<ProcessorKind>(type, PROCESSOR_KINDS, `${r.path}/Type`);
  setIf(p, 'internalMemorySizeGB', r.optFloat('InternalMemorySize'));
  const prop = r.optional('ProcessorProperty');
  if (prop !== undefined) {
    p.property = { key: prop.reqText('Key'), value: prop.reqText('Value') };
    prop.done();
  }
  r.done();
  return p;
}
