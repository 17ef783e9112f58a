/**
 * Malformed requests for every route and method /openapi.json publishes, as fast-check
 * arbitraries. Each request has at least one defect that must refuse it (a path parameter
 * that is no id, an unknown query parameter, a query value of the wrong form, a body of the
 * wrong shape, too large, not JSON, of another content type), so no request may change the
 * store, whatever else in it happens to be valid.
 */
import fc from 'fast-check';

type Schema = Record<string, any>;

export interface Operation {
  method: string;
  path: string;
  query: Record<string, Schema>;
  body: Schema | undefined;
}

export interface MalformedRequest {
  method: string;
  /** path and query string, encoded */
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** the defect that must refuse it, for the failure message */
  defect: string;
}

/** Every operation of an OpenAPI document, with its query parameters' and body's schemas. */
export function operationsOf(spec: { paths: Record<string, Record<string, any>> }): Operation[] {
  return Object.entries(spec.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      query: Object.fromEntries(((op.parameters ?? []) as Schema[]).filter((p) => p.in === 'query').map((p) => [p.name, p.schema ?? {}])),
      body: op.requestBody?.content?.['application/json']?.schema,
    })),
  );
}

const HOSTILE_WORDS = [
  '0x1', '1e1', '+1', '-1', '1e308', '-1e308', '9223372036854775808', '18446744073709551616', '1.5', ' 1', '1 ', '１', '0b1',
  'NaN', 'Infinity', 'null', 'true', '[]', '{}', '\u0000', 'a\u0000b', '%00', '%', '../../etc/passwd', '\u202e', '\ud83d\ude00',
  '\x1b[2J', 'a\nb', "'; DROP TABLE jobs; --", '__proto__', 'constructor', '1_[', '1_[1-', '12_[1e1]', '',
];

/** Text meant to be refused where a number, an id or a known word belongs. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_WORDS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 500 }).map((n) => 'x'.repeat(n * 10)) },
);

/** No integer at all: not digits, or digits past Number.MAX_SAFE_INTEGER. */
const notAnInteger = fc.oneof(
  hostileText.filter((s) => s !== '' && !/^\d+$/.test(s)),
  fc.constantFrom('99999999999999999999', '9007199254740993'),
);

/** A path segment that is no job id (nor a valid id spec): not an integer, or out of a job id's range. */
const badIdSegment = fc.oneof(notAnInteger, fc.constantFrom('0', '4294967294'));

const nested = (depth: number, leaf = '1') => '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);

/** JSON values of every kind, some huge, some deep. */
const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(1e308, -1e308, 2 ** 63, 2 ** 53 + 1, -0, 0.5, 4294967294, -2147483649, null, true, false, [], {}),
  fc.integer(),
  fc.double({ noNaN: true }),
  hostileText,
  fc.array(hostileText, { maxLength: 5 }),
  fc.dictionary(hostileText, hostileText, { maxKeys: 3 }),
);

/** The JSON types a schema allows ("integer" also allows "number" values that are whole). */
function typesOf(schema: Schema): Set<string> {
  if (Array.isArray(schema.anyOf)) return new Set(schema.anyOf.flatMap((s: Schema) => [...typesOf(s)]));
  if ('const' in schema) return new Set([typeof schema.const === 'string' ? 'string' : typeof schema.const]);
  const type = schema.type;
  const types = Array.isArray(type) ? type : type ? [type] : ['string', 'number', 'integer', 'boolean', 'object', 'array', 'null'];
  return new Set([...types, ...(schema.nullable ? ['null'] : [])]);
}

/** A value of a JSON type the schema does not allow; undefined when it allows every type. */
function wrongTypeFor(schema: Schema): fc.Arbitrary<unknown> | undefined {
  const allowed = typesOf(schema);
  const candidates: [string, fc.Arbitrary<unknown>][] = [
    ['string', hostileText],
    ['integer', fc.constantFrom(7, 1e308, -1)],
    ['number', fc.constantFrom(0.5, -1.25, 1e-300)],
    ['boolean', fc.boolean()],
    ['object', fc.constantFrom({}, { nested: { deep: [1] } })],
    ['array', fc.constantFrom([], [1, 'a', null])],
    ['null', fc.constant(null)],
  ];
  // a whole number is also a "number"; a fraction is no "integer"
  const wrong = candidates.filter(([type]) => !allowed.has(type) && !(type === 'integer' && allowed.has('number')));
  return wrong.length ? fc.oneof(...wrong.map(([, arb]) => arb)) : undefined;
}

/** A body that its route must refuse: the right fields plus one defect. */
function badBody(op: Operation): fc.Arbitrary<{ body: string; type: string; defect: string }> {
  const props = (op.body?.properties ?? {}) as Record<string, Schema>;
  const names = Object.keys(props);
  const json = (value: unknown, defect: string) => ({ body: JSON.stringify(value), type: 'application/json', defect });
  const options: fc.Arbitrary<{ body: string; type: string; defect: string }>[] = [
    fc.tuple(fc.string({ minLength: 1, maxLength: 30 }).filter((k) => !names.includes(k) && k !== '__proto__'), anyJson, fc.dictionary(fc.constantFrom(...names, 'x'), anyJson, { maxKeys: 3 }))
      .map(([key, value, rest]) => json({ ...rest, [key]: value }, `unknown field ${JSON.stringify(key)}`)),
    fc.oneof(fc.constantFrom([], [1], 'text', 42, null, true), fc.array(anyJson, { maxLength: 3 }))
      .filter((v) => v !== null || op.body?.nullable !== true)
      .map((v) => json(v, 'not an object')),
    fc.constantFrom('{', '{"a":', '[1,', 'nul', '{"a":1}}', '\u0000', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}')
      .map((body) => ({ body, type: 'application/json', defect: 'not JSON' })),
    // deeper than any recursive walk survives (Node's stack holds ~10,000 frames), yet cheap to send
    fc.integer({ min: 1000, max: 20_000 }).map((depth) => ({ body: nested(depth), type: 'application/json', defect: `nested ${depth} deep` })),
    fc.integer({ min: 1000, max: 20_000 }).map((depth) => ({ body: `${'['.repeat(depth)}${']'.repeat(depth)}`, type: 'application/json', defect: `array nested ${depth} deep` })),
    fc.constantFrom('application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'image/png')
      .map((type) => ({ body: 'a=1', type, defect: `content type ${type}` })),
  ];
  if (names.length > 0) {
    options.push(
      fc.tuple(fc.constantFrom(...names), fc.integer({ min: 1000, max: 20_000 })).map(([name, depth]) => ({
        body: `{${JSON.stringify(name)}:${nested(depth, '[1]')}}`,
        type: 'application/json',
        defect: `${name} nested ${depth} deep`,
      })),
    );
  }
  for (const name of names) {
    const wrong = wrongTypeFor(props[name]!);
    if (wrong) options.push(wrong.map((value) => json({ [name]: value }, `${name} of the wrong type`)));
  }
  return fc.oneof(...options);
}

/** Every request of `op` has a defect; some have two. */
export function malformedRequest(op: Operation, context: { jobId: string; oversizeBytes: number }): fc.Arbitrary<MalformedRequest> {
  const hasId = op.path.includes('{id}');
  const takesBody = op.method !== 'GET' && op.method !== 'HEAD';
  const integerQuery = Object.entries(op.query).filter(([, s]) => s.type === 'integer').map(([n]) => n);
  const defects: fc.Arbitrary<{ defect: string; id?: string; query?: [string, string][]; body?: { body: string; type: string; defect: string } }>[] = [
    fc.tuple(fc.string({ minLength: 1, maxLength: 20 }).filter((k) => !(k in op.query)), hostileText)
      .map(([k, v]) => ({ defect: `unknown query parameter ${JSON.stringify(k)}`, query: [[k, v]] as [string, string][] })),
  ];
  if (hasId) defects.push(badIdSegment.map((id) => ({ defect: `job id ${JSON.stringify(id)}`, id })));
  if (integerQuery.length > 0) {
    defects.push(
      fc.tuple(fc.constantFrom(...integerQuery), notAnInteger).map(([k, v]) => ({ defect: `${k}=${JSON.stringify(v)}`, query: [[k, v]] as [string, string][] })),
    );
  }
  if (takesBody) {
    defects.push(badBody(op).map((body) => ({ defect: body.defect, body })));
    defects.push(fc.constant({ defect: 'oversize body', body: { body: JSON.stringify({ script: 'x'.repeat(context.oversizeBytes) }), type: 'application/json', defect: 'oversize' } }));
  }
  return fc
    .record({
      // an oversize body is one request in a few hundred: each is bodyLimit bytes sent
      main: fc.oneof(...defects.map((d, i) => ({ weight: takesBody && i === defects.length - 1 ? 1 : 40, arbitrary: d }))),
      extraQuery: fc.array(fc.tuple(fc.constantFrom(...Object.keys(op.query), 'x'), hostileText), { maxLength: 2 }),
      badAuth: fc.integer({ min: 0, max: 49 }).map((n) => n === 0),
      name: hostileText.filter((s) => s !== ''),
    })
    .map(({ main, extraQuery, badAuth, name }) => {
      const path = op.path
        .replace('{id}', encodeURIComponent(main.id ?? context.jobId))
        .replace('{file}', 'project.xml')
        .replace('{name}', encodeURIComponent(name));
      const query = new URLSearchParams([...(main.query ?? []), ...extraQuery]).toString();
      const headers: Record<string, string> = badAuth ? { authorization: 'Bearer not-a-token' } : {};
      if (main.body) headers['content-type'] = main.body.type;
      return {
        method: op.method,
        url: `${path}${query ? `?${query}` : ''}`,
        headers,
        ...(main.body && takesBody ? { body: main.body.body } : {}),
        defect: `${main.defect}${badAuth ? ' (and a bad token)' : ''}`,
      };
    });
}
