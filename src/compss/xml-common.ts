/**
 * What project-xml.ts and resources-xml.ts share: the fast-xml-parser set-up, checks that turn
 * model values into text the XSD accepts (and that parse back to the same value), a small
 * reader that walks parsed elements while remembering which children it used, and the adaptor
 * and attached-disk parts both schemas have in common.
 */
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { GrmError } from '../errors.js';
import type { AdaptorModel, AttachedDiskModel, NioPortsModel, ParseOptions } from './compss-model.js';

export const XML_DECLARATION = { '@_version': '1.0', '@_encoding': 'UTF-8', '@_standalone': 'no' };

/** Built element: attributes as `@_Name`, children in insertion order (element order matters). */
export type XmlOut = { [key: string]: string | XmlOut | XmlOut[] | string[] };

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  format: true,
  indentBy: '    ',
  // `<Interactive/>` and friends: '' becomes a self-closing element.
  suppressEmptyNode: true,
  // Escapes & < > " ' in text and attributes; no hand-made escaping anywhere.
  processEntities: true,
});

/** `root` is '' for an empty root element. */
export function buildDocument(rootName: string, root: XmlOut | ''): string {
  return builder.build({ '?xml': XML_DECLARATION, [rootName]: root }) as string;
}

export function invalid(message: string): GrmError {
  return new GrmError('E_XML_INVALID', message);
}

// ---------------------------------------------------------------------------------------------
// Values on the way out

/*
 * Control characters are refused outright: most cannot appear in XML 1.0 at all, and tab/CR/LF
 * are rewritten by XML parsers (line-end and attribute normalisation), so they would not come
 * back as written. Leading/trailing blanks are refused because the reader trims text (the
 * fixtures indent values), so they would not round-trip either.
 */
const FORBIDDEN_CHARS = /[\u0000-\u001f\u007f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function outText(value: unknown, where: string): string {
  if (typeof value !== 'string') throw invalid(`${where} must be a string, got ${typeof value}`);
  if (FORBIDDEN_CHARS.test(value)) throw invalid(`${where} contains a control character, which XML cannot carry: ${JSON.stringify(value)}`);
  if (value.trim() !== value) throw invalid(`${where} has leading or trailing whitespace, which would be lost: ${JSON.stringify(value)}`);
  return value;
}

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

/** xsd:int, optionally narrowed. */
export function outInt(value: unknown, where: string, min = INT_MIN, max = INT_MAX): string {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${where} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return String(value);
}

/** xsd:float limited to finite, non-negative numbers (sizes, speeds). */
export function outFloat(value: unknown, where: string): string {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalid(`${where} must be a finite number >= 0, got ${String(value)}`);
  }
  return String(value);
}

export function assertUniqueNames(items: ReadonlyArray<{ name: string }>, where: string): void {
  const seen = new Set<string>();
  for (const { name } of items) {
    if (seen.has(name)) throw invalid(`${where}: the name ${JSON.stringify(name)} appears more than once`);
    seen.add(name);
  }
}

export function nonEmpty<T>(list: T[] | undefined, where: string): T[] {
  if (!Array.isArray(list) || list.length === 0) throw invalid(`${where} needs at least one entry`);
  return list;
}

// ---------------------------------------------------------------------------------------------
// Parsing

type Parsed = string | { [key: string]: Parsed[] | string };

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Keep every value a string: the reader converts with the XSD's own rules.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  // Decodes numeric character references (&#38;) too; the XSD files never define others.
  htmlEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // Every element is a list, so "one or many" never changes the shape the reader sees.
  isArray: (_name: string, _jpath: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute,
});

/** Parses a whole document and returns its root element's name and reader. */
export function readDocument(xml: unknown, what: string, options: ParseOptions): { rootName: string; root: ElementReader } {
  if (typeof xml !== 'string') throw invalid(`${what}: expected XML text, got ${typeof xml}`);
  // COMPSs files never need a DTD; refusing it removes entity-expansion tricks.
  if (/<!DOCTYPE/i.test(xml)) throw invalid(`${what}: DOCTYPE declarations are not accepted`);
  const check = XMLValidator.validate(xml);
  if (check !== true) {
    throw invalid(`${what} is not well-formed XML: ${check.err.msg} (line ${check.err.line}, column ${check.err.col})`);
  }
  const doc = parser.parse(xml) as Record<string, Parsed[]>;
  const roots = Object.keys(doc).filter((k) => !k.startsWith('?'));
  const rootName = roots[0];
  const rootEl = rootName === undefined ? undefined : doc[rootName]?.[0];
  if (roots.length !== 1 || rootName === undefined || rootEl === undefined || doc[rootName]!.length !== 1) {
    throw invalid(`${what}: expected exactly one root element, found ${roots.length === 0 ? 'none' : roots.join(', ')}`);
  }
  return { rootName, root: new ElementReader(rootEl, rootName, options) };
}

const INT_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Walks one parsed element. Each accessor marks what it used; done() reports whatever the
 * model has no place for, so callers can tell a partial read from a complete one.
 */
export class ElementReader {
  private readonly used = new Set<string>();

  constructor(
    private readonly el: Parsed,
    readonly path: string,
    private readonly options: ParseOptions,
  ) {}

  private get obj(): Record<string, Parsed[] | string> {
    return typeof this.el === 'string' ? {} : this.el;
  }

  attr(name: string): string | undefined {
    this.used.add(`@_${name}`);
    const v = this.obj[`@_${name}`];
    return typeof v === 'string' ? v : undefined;
  }

  requireAttr(name: string): string {
    const v = this.attr(name);
    if (v === undefined) throw invalid(`${this.path}: attribute ${name} is required`);
    return v;
  }

  children(name: string): ElementReader[] {
    this.used.add(name);
    const list = this.obj[name];
    if (!Array.isArray(list)) return [];
    return list.map((child) => {
      const label = typeof child === 'object' && typeof child['@_Name'] === 'string' ? `[${child['@_Name']}]` : '';
      return new ElementReader(child, `${this.path}/${name}${label}`, this.options);
    });
  }

  optional(name: string): ElementReader | undefined {
    const list = this.children(name);
    if (list.length > 1) throw invalid(`${this.path}: <${name}> may appear at most once, found ${list.length}`);
    return list[0];
  }

  required(name: string): ElementReader {
    const child = this.optional(name);
    if (child === undefined) throw invalid(`${this.path}: <${name}> is required`);
    return child;
  }

  text(): string {
    if (typeof this.el === 'string') return this.el;
    const elements = Object.keys(this.el).filter((k) => !k.startsWith('@_') && k !== '#text');
    if (elements.length > 0) throw invalid(`${this.path}: expected text, found <${elements[0]}>`);
    const t = this.el['#text'];
    return typeof t === 'string' ? t : '';
  }

  optText(name: string): string | undefined {
    return this.optional(name)?.text();
  }

  reqText(name: string): string {
    return this.required(name).text();
  }

  optInt(name: string): number | undefined {
    const child = this.optional(name);
    if (child === undefined) return undefined;
    const t = child.text();
    const n = Number(t);
    if (!INT_RE.test(t) || n < INT_MIN || n > INT_MAX) throw invalid(`${child.path}: expected an xsd:int, got ${JSON.stringify(t)}`);
    return n;
  }

  reqInt(name: string): number {
    const n = this.optInt(name);
    if (n === undefined) throw invalid(`${this.path}: <${name}> is required`);
    return n;
  }

  optFloat(name: string): number | undefined {
    const child = this.optional(name);
    if (child === undefined) return undefined;
    const t = child.text();
    if (!FLOAT_RE.test(t)) throw invalid(`${child.path}: expected a number, got ${JSON.stringify(t)}`);
    return Number(t);
  }

  reqFloat(name: string): number {
    const n = this.optFloat(name);
    if (n === undefined) throw invalid(`${this.path}: <${name}> is required`);
    return n;
  }

  /** Reports every child element and attribute no accessor asked for. */
  done(): void {
    for (const key of Object.keys(this.obj)) {
      if (this.used.has(key)) continue;
      if (key === '#text') continue; // stray text between elements carries no data for the model
      this.options.onSkipped?.(`${this.path}/${key.startsWith('@_') ? `@${key.slice(2)}` : key}`);
    }
  }
}

/** Adds `key` to `target` only when the value exists, so absent fields stay absent. */
export function setIf<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

// ---------------------------------------------------------------------------------------------
// Adaptors and attached disks (same shape in both schemas)

export type SchemaFlavor = 'project' | 'resources';

export function buildAdaptors(adaptors: AdaptorModel[], where: string, flavor: SchemaFlavor): XmlOut {
  nonEmpty(adaptors, `${where}/Adaptors`);
  return { Adaptor: adaptors.map((a, i) => buildAdaptor(a, `${where}/Adaptor[${i}]`, flavor)) };
}

function buildAdaptor(a: AdaptorModel, where: string, flavor: SchemaFlavor): XmlOut {
  const out: XmlOut = { '@_Name': outText(a.name, `${where} Name`) };
  const sub: XmlOut = {};
  if (a.submissionSystem.batchQueues !== undefined) {
    const queues = nonEmpty(a.submissionSystem.batchQueues, `${where}/SubmissionSystem/Batch`);
    sub.Batch = { Queue: queues.map((q, i) => outText(q, `${where}/SubmissionSystem/Batch/Queue[${i}]`)) };
  }
  if (a.submissionSystem.interactive) sub.Interactive = '';
  if (Object.keys(sub).length === 0) throw invalid(`${where}/SubmissionSystem needs Interactive or Batch`);
  out.SubmissionSystem = sub;
  if (a.ports !== undefined) out.Ports = buildPorts(a.ports, `${where}/Ports`, flavor);
  if (a.brokerAdaptor !== undefined) out.BrokerAdaptor = outText(a.brokerAdaptor, `${where}/BrokerAdaptor`);
  if (a.user !== undefined) out.User = outText(a.user, `${where}/User`);
  if (a.properties !== undefined) {
    out.Properties =
      a.properties.length === 0
        ? ''
        : {
            Property: a.properties.map((p, i) => ({
              Name: outText(p.name, `${where}/Property[${i}]/Name`),
              Value: outText(p.value, `${where}/Property[${i}]/Value`),
            })),
          };
  }
  return out;
}

function buildPorts(p: NioPortsModel, where: string, flavor: SchemaFlavor): XmlOut {
  // xsd:sequence: MinPort, MaxPort, SpawnerPort, RemoteExecutionCommand, in this order.
  const out: XmlOut = { MinPort: outInt(p.minPort, `${where}/MinPort`, 1, 65535), MaxPort: outInt(p.maxPort, `${where}/MaxPort`, 1, 65535) };
  if (p.minPort > p.maxPort) throw invalid(`${where}: MinPort ${p.minPort} is above MaxPort ${p.maxPort}`);
  const extras = p.spawnerPort !== undefined || p.remoteExecutionCommand !== undefined;
  if (extras && flavor === 'project') throw invalid(`${where}: SpawnerPort and RemoteExecutionCommand belong in resources.xml, not project.xml`);
  if (p.spawnerPort !== undefined) out.SpawnerPort = outInt(p.spawnerPort, `${where}/SpawnerPort`, 1, 65535);
  if (p.remoteExecutionCommand !== undefined) out.RemoteExecutionCommand = outText(p.remoteExecutionCommand, `${where}/RemoteExecutionCommand`);
  return out;
}

export function readAdaptors(r: ElementReader): AdaptorModel[] {
  const list = r.children('Adaptor').map(readAdaptor);
  r.done();
  if (list.length === 0) throw invalid(`${r.path}: needs at least one <Adaptor>`);
  return list;
}

function readAdaptor(r: ElementReader): AdaptorModel {
  const name = r.requireAttr('Name');
  // COMPSs 1.x adaptors lived in the integratedtoolkit package; such a file is the old format.
  if (name.startsWith('integratedtoolkit.')) {
    throw invalid(`${r.path}: adaptor ${name} is from COMPSs 1.x, which is not supported: convert the file to the 2.x schema (es.bsc.compss.* adaptors)`);
  }
  const s = r.required('SubmissionSystem');
  const submissionSystem: AdaptorModel['submissionSystem'] = { interactive: s.optional('Interactive') !== undefined };
  const batch = s.optional('Batch');
  if (batch !== undefined) {
    submissionSystem.batchQueues = batch.children('Queue').map((q) => q.text());
    batch.done();
  }
  s.done();
  const a: AdaptorModel = { name, submissionSystem };
  const ports = r.optional('Ports');
  if (ports !== undefined) {
    const p: NioPortsModel = { minPort: ports.reqInt('MinPort'), maxPort: ports.reqInt('MaxPort') };
    setIf(p, 'spawnerPort', ports.optInt('SpawnerPort'));
    setIf(p, 'remoteExecutionCommand', ports.optText('RemoteExecutionCommand'));
    ports.done();
    a.ports = p;
  }
  setIf(a, 'brokerAdaptor', r.optText('BrokerAdaptor'));
  setIf(a, 'user', r.optText('User'));
  const props = r.optional('Properties');
  if (props !== undefined) {
    a.properties = props.children('Property').map((p) => {
      const prop = { name: p.reqText('Name'), value: p.reqText('Value') };
      p.done();
      return prop;
    });
    props.done();
  }
  r.done();
  return a;
}

export function buildAttachedDisks(disks: AttachedDiskModel[], where: string): XmlOut {
  nonEmpty(disks, where);
  return {
    AttachedDisk: disks.map((d, i) => ({
      '@_Name': outText(d.name, `${where}/AttachedDisk[${i}] Name`),
      MountPoint: outText(d.mountPoint, `${where}/AttachedDisk[${i}]/MountPoint`),
    })),
  };
}

export function readAttachedDisks(r: ElementReader): AttachedDiskModel[] {
  const list = r.children('AttachedDisk').map((d) => {
    const disk = { name: d.requireAttr('Name'), mountPoint: d.reqText('MountPoint') };
    d.done();
    return disk;
  });
  r.done();
  if (list.length === 0) throw invalid(`${r.path}: needs at least one <AttachedDisk>`);
  return list;
}
