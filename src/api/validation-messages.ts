/**
 * Schema failures in plain words naming the field: what was expected and what came, never a
 * schema path or a regular expression. Ajv runs with `verbose` so each error carries the value
 * (`data`) and the schema it failed (`parentSchema`). Pure: errors in, one sentence out.
 */

/** The part of an ajv ErrorObject this module reads (verbose mode). */
export interface SchemaError {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  params: Record<string, unknown>;
  message?: string;
  data?: unknown;
  parentSchema?: Record<string, unknown>;
}

export type RequestPart = 'body' | 'querystring' | 'params' | 'headers';

export interface Described {
  message: string;
  field: string | undefined;
}

const MAX_SHOWN = 60;

/** A value as a message shows it: JSON (so control characters arrive escaped), cut when long. */
export function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') {
    const cut = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value;
    return `${JSON.stringify(cut)}${value.length > MAX_SHOWN ? ` (${value.length} characters)` : ''}`;
  }
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** "a string", "an integer"...: what a JSON value is, in words. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number') return Number.isInteger(value) ? `the number ${value}` : `the number ${value} (not whole)`;
  if (typeof value === 'string') return `the text ${shown(value)}`;
  if (typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'an object' : typeof value;
}

const TYPE_WORDS: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  null: 'null',
};

/** "/signal/name" → "signal.name", "/argv/3" → "argv[3]". */
export function fieldOf(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  return parts.reduce((path, p) => (/^\d+$/.test(p) ? `${path}[${p}]` : path ? `${path}.${p}` : p), '');
}

/** One alternative of a union, in words: "UNLIMITED" or "an integer from 1 to 5256000". */
function alternative(schema: Record<string, unknown>): string {
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(', ');
  const type = typeof schema.type === 'string' ? schema.type : 'value';
  const words = TYPE_WORDS[type] ?? type;
  if (schema.minimum !== undefined && schema.maximum !== undefined) return `${words} from ${schema.minimum} to ${schema.maximum}`;
  return words;
}

function whereOf(part: RequestPart, field: string): string {
  if (part === 'querystring') return `query parameter "${field}"`;
  if (part === 'params') return `"${field}" in the path`;
  if (part === 'headers') return `header ${field}`;
  return `"${field}"`;
}

/** The error to tell: a failed union says what it takes, rather than how its first branch failed. */
function pick(errors: SchemaError[]): SchemaError {
  return errors.find((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf') ?? errors[0]!;
}

function unknownProperty(e: SchemaError, part: RequestPart, route: string): Described {
  const name = String(e.params.additionalProperty);
  const parent = e.parentSchema ?? {};
  const known = Object.keys((parent.properties as Record<string, unknown> | undefined) ?? {});
  const at = fieldOf(e.instancePath);
  if (part === 'querystring') {
    const takes = known.length ? `${route} takes ${known.join(', ')}` : `${route} takes no query parameters`;
    return { field: name, message: `unknown query parameter "${name}": ${takes}` };
  }
  if (parent.patternProperties) {
    const hint = typeof parent.description === 'string' ? ` (${parent.description})` : '';
    return { field: at, message: `"${at}": ${shown(name)} is not an allowed name${hint}` };
  }
  if (known.length === 0) return { field: name, message: `${at ? `"${at}"` : 'the request body'} takes no fields, got "${name}"` };
  const list = known.length <= 12 ? ` (known: ${known.join(', ')})` : ' (see /openapi.json for the fields)';
  return { field: fieldOf(e.instancePath, name), message: `unknown field "${fieldOf(e.instancePath, name)}"${at ? '' : ' in the request body'}${list}` };
}

/**
 * The sentence for a failed schema: `route` is "GET /api/v1/jobs" (named when a query
 * parameter is unknown); `part` is where the value came from.
 */
export function describeSchemaErrors(errors: SchemaError[], part: RequestPart, route: string): Described {
  const e = pick(errors);
  if (e.keyword === 'additionalProperties') return unknownProperty(e, part, route);
  const field = fieldOf(e.instancePath);
  if (field === '' && part === 'body') {
    if (e.keyword === 'required') return { field: String(e.params.missingProperty), message: `the request body needs "${e.params.missingProperty}"` };
    return { field: undefined, message: `the request body must be a JSON object, got ${kindOf(e.data)}` };
  }
  if (e.keyword === 'required') {
    const missing = fieldOf(e.instancePath, String(e.params.missingProperty));
    return { field: missing, message: `${whereOf(part, missing)} is required` };
  }
  if (part === 'params' && field === 'id' && route.includes('/jobs/:id') && (e.keyword === 'minimum' || e.keyword === 'maximum')) {
    // as scontrol says it (the bounds are SLURM's: 0xfffffffe and up are its markers)
    const bounds = e.parentSchema ?? {};
    return { field, message: `Invalid job id specified: ${shown(e.data)} (job ids run from ${bounds.minimum} to ${bounds.maximum})` };
  }
  return { field, message: `${whereOf(part, field)}: ${expectation(e, part)}` };
}

/** What the schema wanted, and what came. */
function expectation(e: SchemaError, part: RequestPart): string {
  const p = e.params;
  const s = e.parentSchema ?? {};
  const hint = typeof s.description === 'string' ? ` (${s.description})` : '';
  const length = (v: unknown) => (typeof v === 'string' ? [...v].length : Array.isArray(v) ? v.length : 0);
  switch (e.keyword) {
    case 'type':
      if (part === 'querystring' && Array.isArray(e.data)) return `given ${e.data.length} times; give it once`;
      return `must be ${TYPE_WORDS[String(p.type)] ?? p.type}, got ${kindOf(e.data)}`;
    case 'minimum':
    case 'exclusiveMinimum':
      return `must be at least ${p.limit}${e.keyword === 'exclusiveMinimum' ? ' (exclusive)' : ''}, got ${shown(e.data)}`;
    case 'maximum':
    case 'exclusiveMaximum':
      return `must be at most ${p.limit}${e.keyword === 'exclusiveMaximum' ? ' (exclusive)' : ''}, got ${shown(e.data)}`;
    case 'minLength':
      return p.limit === 1 ? 'must not be empty' : `must be at least ${p.limit} characters long, got ${length(e.data)}`;
    case 'maxLength':
      return `must be at most ${p.limit} characters long, got ${length(e.data)}`;
    case 'minItems':
      return `needs at least ${p.limit} items, got ${length(e.data)}`;
    case 'maxItems':
      return `takes at most ${p.limit} items, got ${length(e.data)}`;
    case 'maxProperties':
      return `takes at most ${p.limit} entries, got ${Object.keys((e.data as object | null) ?? {}).length}`;
    case 'pattern':
      return `${shown(e.data)} is not valid${hint}`;
    case 'format':
      return p.format === 'date-time'
        ? `${shown(e.data)} is not an ISO 8601 date and time with a zone, e.g. 2026-01-31T09:00:00Z`
        : `${shown(e.data)} is not a valid ${p.format}`;
    case 'const':
      return `must be ${JSON.stringify(p.allowedValue)}, got ${shown(e.data)}`;
    case 'enum':
      return `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, got ${shown(e.data)}`;
    case 'anyOf':
    case 'oneOf': {
      const options = ((s.anyOf ?? s.oneOf ?? []) as Record<string, unknown>[]).map(alternative);
      return `must be ${options.join(' or ')}, got ${kindOf(e.data)}`;
    }
    default:
      return `${shown(e.data)} is not valid here${hint}`;
  }
}
