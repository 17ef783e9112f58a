/**
 * Rules every /api route gets, whatever its author wrote, so a new route cannot slip through:
 *  - a query string takes only the parameters the route declares (a misspelt or retired one,
 *    like the old `offset`, is a 400 naming it, not silently ignored);
 *  - a route that declares no body takes none (an empty object at most);
 *  - integers in paths and query strings are plain decimal numbers: ajv's coercion reads
 *    `0x1`, `1e1`, `+1`, ` 1` and `1e308` as numbers, so the raw text is checked first;
 *  - bodies are validated without coercion: in JSON, "5" is a string, not an integer;
 *  - every integer a request carries is a safe integer: ajv counts 1e308 as an integer, so an
 *    integer without bounds gets ±Number.MAX_SAFE_INTEGER (SQLite and JS both hold those exactly).
 * Leading zeros are accepted (`007` is 7), as SLURM and GRM's own job id specs (scancel 007,
 * ?ids=007) read them; the two must agree.
 */
import AjvCompiler from '@fastify/ajv-compiler';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { GrmError } from '../errors.js';
import { shown } from './validation-messages.js';

type JsonSchema = Record<string, unknown>;

/** The largest integer a path or query parameter may spell: beyond it a JS number is not exact. */
const MAX_SAFE_DIGITS = String(Number.MAX_SAFE_INTEGER).length;

const BASE_OPTIONS = { removeAdditional: false, allErrors: false, useDefaults: true, verbose: true } as const;

/** Validator compilers: bodies strict, everything that arrives as text (path, query, headers) coerced. */
export function installValidators(app: FastifyInstance): void {
  const factory = AjvCompiler();
  const strict = factory({}, { customOptions: { ...BASE_OPTIONS, coerceTypes: false } });
  const coercing = factory({}, { customOptions: { ...BASE_OPTIONS, coerceTypes: true } });
  app.setValidatorCompiler((route) => (route.httpPart === 'body' ? strict(route) : coercing(route)));
}

const NO_QUERY: JsonSchema = { type: 'object', properties: {}, additionalProperties: false };
// no body (null to the validator) or {}: nothing else
const NO_BODY: JsonSchema = { type: 'object', nullable: true, properties: {}, additionalProperties: false };
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Names of the properties of an object schema whose values are integers (or unions holding one). */
export function integerFields(schema: JsonSchema | undefined): string[] {
  const properties = (schema?.properties ?? {}) as Record<string, JsonSchema>;
  const isInteger = (s: JsonSchema): boolean => s.type === 'integer' || ((s.anyOf as JsonSchema[] | undefined) ?? []).some(isInteger);
  return Object.keys(properties).filter((name) => isInteger(properties[name]!));
}

/** Bounds every integer in a request schema that has none (in place: schemas are plain objects). */
export function boundIntegers(schema: unknown): void {
  if (schema === null || typeof schema !== 'object') return;
  if (Array.isArray(schema)) return schema.forEach(boundIntegers);
  const s = schema as JsonSchema;
  if (s.type === 'integer') {
    if (s.maximum === undefined && s.exclusiveMaximum === undefined) s.maximum = Number.MAX_SAFE_INTEGER;
    if (s.minimum === undefined && s.exclusiveMinimum === undefined) s.minimum = -Number.MAX_SAFE_INTEGER;
  }
  for (const key of ['properties', 'patternProperties']) {
    if (s[key] && typeof s[key] === 'object') Object.values(s[key] as object).forEach(boundIntegers);
  }
  for (const key of ['items', 'additionalProperties', 'anyOf', 'oneOf', 'allOf']) boundIntegers(s[key]);
}

/** The rules above, as an onRoute hook for every route under `prefix`. */
export function installStrictInput(app: FastifyInstance, prefix = '/api/'): void {
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith(prefix)) return;
    const schema = (route.schema ?? {}) as Record<string, unknown>;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const query = schema.querystring as JsonSchema | undefined;
    if (query && query.additionalProperties === undefined) query.additionalProperties = false;
    for (const part of [schema.params, query, schema.body]) boundIntegers(part);
    route.schema = {
      ...schema,
      querystring: query ?? NO_QUERY,
      ...(schema.body === undefined && methods.some((m) => BODY_METHODS.has(m)) ? { body: NO_BODY } : {}),
    };
    const checks = [
      ...integerFields(schema.params as JsonSchema | undefined).map((name) => ({ part: 'params' as const, name })),
      ...integerFields(query).map((name) => ({ part: 'query' as const, name })),
    ];
    // a job's id is refused in scontrol's words; other ids (a token's) plainly
    if (checks.length > 0) addPreValidation(route, decimalCheck(checks, route.url.includes('/jobs/:id')));
  });
}

function addPreValidation(route: RouteOptions, hook: (request: FastifyRequest, reply: FastifyReply) => Promise<void>): void {
  const existing = route.preValidation;
  route.preValidation = existing === undefined ? [hook] : Array.isArray(existing) ? [...existing, hook] : [existing, hook];
}

/** True for "0", "42", "007"; false for "0x1", "1e1", "+1", " 1", "1.0", "" and 17+ digits. */
export function isDecimalInteger(text: string): boolean {
  return text.length <= MAX_SAFE_DIGITS && /^[0-9]+$/.test(text) && Number(text) <= Number.MAX_SAFE_INTEGER;
}

function decimalCheck(checks: { part: 'params' | 'query'; name: string }[], jobRoute: boolean) {
  return async (request: FastifyRequest): Promise<void> => {
    for (const { part, name } of checks) {
      const value = (request[part] as Record<string, unknown> | undefined)?.[name];
      if (value === undefined || (typeof value === 'string' && isDecimalInteger(value))) continue;
      throw notDecimal(part, name, value, jobRoute);
    }
  };
}

function notDecimal(part: 'params' | 'query', name: string, value: unknown, jobRoute: boolean): GrmError {
  if (Array.isArray(value)) {
    return new GrmError('E_REQUEST_INVALID', `query parameter "${name}": given ${value.length} times; give it once`, { field: name });
  }
  const text = String(value);
  if (part === 'params' && name === 'id' && jobRoute) {
    return new GrmError('E_REQUEST_INVALID', `Invalid job id specified: ${shown(text)} (use a decimal job id, e.g. 12)`, { field: 'id' });
  }
  const where = part === 'params' ? `"${name}" in the path` : `query parameter "${name}"`;
  return new GrmError('E_REQUEST_INVALID', `${where}: must be a decimal integer (digits only, e.g. 100), got ${shown(text)}`, { field: name });
}
