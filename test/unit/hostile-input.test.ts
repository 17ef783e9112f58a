import t from 'tap';
import { boundIntegers, integerFields, isDecimalInteger } from '../../src/api/strict-input.js';
import { describeSchemaErrors, fieldOf, shown } from '../../src/api/validation-messages.js';
import { boundUrl, checkBinding, isLoopbackHost, readTls } from '../../src/config/binding.js';
import { escapeControls, safeMessage, terminalSafe } from '../../src/cli/terminal-safe.js';

t.test('control characters are shown, not obeyed', async (t) => {
  t.equal(escapeControls('a\nb\x1b[2J\rc\td'), 'a\\nb\\x1b[2J\\rc\\td');
  t.equal(escapeControls('del\x7f nul\0 bell\x07 csi\u009b1m'), 'del\\x7f nul\\0 bell\\x07 csi\\x9b1m');
  t.equal(escapeControls('rtl\u202eexe.txt line\u2028sep'), 'rtl\\u202eexe.txt line\\u2028sep');
  t.equal(escapeControls('tab\tkept', '\t'), 'tab\tkept', 'a log line keeps its tabs');
  t.equal(escapeControls('C:\\path é 日本 😀'), 'C:\\path é 日本 😀', 'backslashes and printable unicode as they are');
  t.equal(escapeControls(escapeControls('x\x1by')), 'x\\x1by', 'escaping twice changes nothing more');
  t.same(terminalSafe({ name: 'a\nb', n: 3, list: ['\x1b'], nested: { reason: '\r' }, none: null }), {
    name: 'a\\nb',
    n: 3,
    list: ['\\x1b'],
    nested: { reason: '\\r' },
    none: null,
  });
  t.equal(safeMessage('error:\n  line two \x1b[31m\tx'), 'error:\n  line two \\x1b[31m\tx');
});

t.test('decimal integers: digits only, at most Number.MAX_SAFE_INTEGER', async (t) => {
  for (const ok of ['0', '1', '42', '007', String(Number.MAX_SAFE_INTEGER)]) t.ok(isDecimalInteger(ok), ok);
  for (const bad of ['', '0x1', '1e1', '+1', '-1', ' 1', '1 ', '1.0', '１', '9007199254740992', '1'.repeat(17), 'NaN', 'Infinity']) {
    t.notOk(isDecimalInteger(bad), JSON.stringify(bad));
  }
});

t.test('every integer in a request schema gets safe bounds; given ones are kept', async (t) => {
  const schema = {
    type: 'object',
    properties: {
      a: { type: 'integer' },
      b: { type: 'integer', minimum: 1, maximum: 5 },
      c: { anyOf: [{ type: 'integer' }, { const: 'UNLIMITED' }] },
      d: { type: 'array', items: { type: 'integer', minimum: 0 } },
      e: { type: 'object', patternProperties: { '^x$': { type: 'integer' } } },
    },
  };
  boundIntegers(schema);
  const max = Number.MAX_SAFE_INTEGER;
  t.match(schema.properties, {
    a: { minimum: -max, maximum: max },
    b: { minimum: 1, maximum: 5 },
    c: { anyOf: [{ minimum: -max, maximum: max }] },
    d: { items: { minimum: 0, maximum: max } },
    e: { patternProperties: { '^x$': { maximum: max } } },
  });
  t.same(integerFields(schema), ['a', 'b', 'c']);
});

t.test('schema failures in words: the field, what it takes, what came', async (t) => {
  const err = (keyword: string, instancePath: string, params: Record<string, unknown>, data: unknown, parentSchema: Record<string, unknown> = {}) => ({
    keyword,
    instancePath,
    schemaPath: '#',
    params,
    data,
    parentSchema,
  });
  const say = (e: ReturnType<typeof err>, part: 'body' | 'querystring' | 'params' = 'body') => describeSchemaErrors([e], part, 'GET /api/v1/jobs/:id').message;
  t.equal(say(err('maxLength', '/name', { limit: 10 }, 'x'.repeat(11))), '"name": must be at most 10 characters long, got 11');
  t.equal(say(err('pattern', '/partition', { pattern: '^[a-z]+$' }, 'A B', { description: 'letters' })), '"partition": "A B" is not valid (letters)');
  t.equal(say(err('type', '/limit', { type: 'integer' }, ['1', '2']), 'querystring'), 'query parameter "limit": given 2 times; give it once');
  t.equal(say(err('maximum', '/id', { limit: 4294967293 }, 4294967294, { minimum: 1, maximum: 4294967293 }), 'params'), 'Invalid job id specified: 4294967294 (job ids run from 1 to 4294967293)');
  t.equal(say(err('required', '/signal', { missingProperty: 'seconds' }, {})), '"signal.seconds" is required');
  t.equal(say(err('additionalProperties', '', { additionalProperty: 'x' }, {}, { properties: {} })), 'the request body takes no fields, got "x"');
  t.equal(fieldOf('/argv/3'), 'argv[3]');
  t.equal(fieldOf('/signal/name'), 'signal.name');
  t.equal(shown('a\u0000'.repeat(40)), `${JSON.stringify(`${'a\u0000'.repeat(30)}…`)} (80 characters)`);
});

t.test('binding: loopback only, unless TLS (and authentication) are set', async (t) => {
  for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) t.ok(isLoopbackHost(host), host);
  for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.org', '128.0.0.1', '::ffff:10.0.0.1']) t.notOk(isLoopbackHost(host), host);
  const none = { key: '', cert: '' };
  t.doesNotThrow(() => checkBinding({ host: '127.0.0.1', tls: none }));
  t.throws(() => checkBinding({ host: '0.0.0.0', tls: none }), {
    code: 'E_CONFIG_INVALID',
    message: /^refusing to listen on 0\.0\.0\.0: it is not a loopback address, .*without TLS \(set tls\.key and tls\.cert, or GRM_TLS_KEY and GRM_TLS_CERT/,
  });
  t.doesNotThrow(() => checkBinding({ host: '0.0.0.0', tls: { key: '/k', cert: '/c' } }));
  t.throws(() => checkBinding({ host: '0.0.0.0', tls: { key: '/k', cert: '/c' }, auth: { enabled: false } } as never), {
    message: /without authentication \(remove auth\.enabled: false\)/,
  });
  t.throws(() => readTls({ tls: { key: '/k', cert: '' } }), { message: /TLS needs both a key and a certificate; set tls\.cert \(GRM_TLS_CERT\) too/ });
  t.throws(() => readTls({ tls: { key: '/nonexistent/k', cert: '/nonexistent/c' } }), { message: /cannot read tls\.key \/nonexistent\/k: ENOENT/ });
  t.equal(readTls({ tls: none }), undefined);
  t.equal(boundUrl({ address: '0.0.0.0', family: 'IPv4', port: 8443 }, true), 'https://0.0.0.0:8443 (every interface)');
  t.equal(boundUrl({ address: '::1', family: 'IPv6', port: 8080 }, false), 'http://[::1]:8080');
});
