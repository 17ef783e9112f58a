/**
 * Hostile and careless input at the API (issue 14, item 7): numbers that are not decimal
 * integers, parameters and fields no route declares, values past their bounds. Each is a 400
 * (or 413) in words naming the field, never a 5xx, never accepted as something else.
 */
import t from 'tap';
import { SMALL_CLUSTER, startDaemon, type TestDaemon } from '../helpers/daemon.js';

const BAD_INTEGERS = ['1e308', '9223372036854775808', '0x1', '1e1', '+1', '-1', ' 1', '1.0', '１'];
const SCRIPT = '#!/bin/bash\ntrue\n';

interface Operation {
  method: string;
  path: string;
  parameters?: { name: string; in: string; schema?: { type?: string } }[];
}

/** Every route and method the API publishes, from its own /openapi.json: a new route is covered. */
async function operations(d: TestDaemon): Promise<Operation[]> {
  const spec = (await d.api('GET', '/openapi.json')).body as { paths: Record<string, Record<string, Omit<Operation, 'method' | 'path'>>> };
  return Object.entries(spec.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ method: method.toUpperCase(), path, ...op })),
  );
}

/** A path with its parameters filled: the job id given, every other one a plain valid word. */
function fill(path: string, id: string): string {
  return path.replace('{id}', encodeURIComponent(id)).replace('{file}', 'project.xml').replace('{name}', 'nobody');
}

t.test('a job id that is not a decimal integer is refused on every route that takes one', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  t.equal((await d.api('POST', '/api/v1/jobs', { script: SCRIPT, hold: true })).status, 201);
  const jobRoutes = (await operations(d)).filter((o) => o.path.startsWith('/api/v1/jobs/{id}'));
  t.ok(jobRoutes.length >= 10, `${jobRoutes.length} routes take a job id`);
  for (const op of jobRoutes) {
    for (const id of BAD_INTEGERS) {
      const body = op.method === 'GET' || op.method === 'DELETE' ? undefined : {};
      const res = await d.api(op.method, fill(op.path, id), body);
      t.equal(res.status, 400, `${op.method} ${op.path} with id ${JSON.stringify(id)}: ${JSON.stringify(res.body)}`);
      t.match(res.body.error?.message, /^Invalid job id specified: /, `${op.method} ${op.path} says so in scontrol's words`);
      t.notMatch(res.body.error?.message, /\^|\[0-9\]|\\d/, 'no schema regex in the message');
    }
  }
  t.equal((await d.api('GET', '/api/v1/jobs/1')).body.job_state, 'PENDING', 'job 1 untouched');
  t.equal((await d.api('GET', '/api/v1/jobs/0')).body.error.message, 'Invalid job id specified: 0 (job ids run from 1 to 4294967293)');
  t.equal((await d.api('GET', '/api/v1/jobs/007')).body.job_id ?? null, null, 'leading zeros read as SLURM reads them: 7, no such job');
});

t.test('integer query parameters are decimal digits, bounded; after= is never echoed as something else', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  t.equal((await d.api('POST', '/api/v1/jobs', { script: SCRIPT, hold: true })).status, 201);
  const withIntegers = (await operations(d)).flatMap((op) =>
    (op.parameters ?? []).filter((p) => p.in === 'query' && p.schema?.type === 'integer').map((p) => ({ op, name: p.name })),
  );
  t.ok(withIntegers.length >= 6, `${withIntegers.length} integer query parameters`);
  for (const { op, name } of withIntegers) {
    for (const value of BAD_INTEGERS) {
      const extra = op.path === '/api/v1/logs/search' ? 'q=x&' : '';
      const res = await d.api(op.method, `${fill(op.path, '1')}?${extra}${name}=${encodeURIComponent(value)}`);
      t.equal(res.status, 400, `${op.method} ${op.path}?${name}=${value}: ${JSON.stringify(res.body)}`);
      t.equal(res.body.error?.field, name);
    }
  }
  const huge = await d.api('GET', '/api/v1/jobs/1/logs?after=1e308');
  t.equal(huge.status, 400);
  t.match(huge.body.error.message, /query parameter "after": must be a decimal integer .*got "1e308"/);
  const top = await d.api('GET', `/api/v1/jobs/1/logs?after=${Number.MAX_SAFE_INTEGER}`);
  t.equal(top.body.last_seq, Number.MAX_SAFE_INTEGER, 'the largest exact integer is taken and echoed as itself');
  t.equal((await d.api('GET', '/api/v1/jobs/1/logs?after=9007199254740993')).status, 400, 'one past it is refused, not rounded');
  for (const cursor of ['1e308', '0x1', '-1', '99999999999']) {
    const res = await d.api('GET', `/api/v1/jobs?cursor=${encodeURIComponent(cursor)}`);
    t.equal(res.status, 400, `cursor=${cursor}`);
    t.equal(res.body.error.field, 'cursor');
  }
  for (const ids of ['1e308', '0x1', '+1', '9223372036854775808', '1_[1e1]']) {
    const res = await d.api('GET', `/api/v1/jobs?ids=${encodeURIComponent(ids)}`);
    t.equal(res.status, 400, `ids=${ids}`);
    t.match(res.body.error.message, /^Invalid job id specified/);
  }
});

t.test('unknown query parameters and body fields are refused by name; offset= is no longer silently ignored', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  for (const value of ['1e308', '9223372036854775808', '5']) {
    const res = await d.api('GET', `/api/v1/jobs?offset=${value}`);
    t.equal(res.status, 400);
    t.match(res.body.error.message, /^unknown query parameter "offset": GET \/api\/v1\/jobs takes state, user, .*cursor/);
  }
  const health = await d.api('GET', '/api/v1/health?verbose=1');
  t.equal(health.status, 400);
  t.equal(health.body.error.message, 'unknown query parameter "verbose": GET /api/v1/health takes no query parameters');
  const extra = await d.api('POST', '/api/v1/jobs', { script: SCRIPT, hold: true, priority: 1 });
  t.equal(extra.status, 400);
  t.equal(extra.body.error.field, 'priority');
  const nested = await d.api('POST', '/api/v1/jobs', { script: SCRIPT, signal: { name: 'USR1', seconds: 5, batch_only: false, when: 1 } });
  t.equal(nested.body.error.field, 'signal.when');
  const held = await d.api('POST', '/api/v1/jobs', { script: SCRIPT, hold: true });
  const noBody = await d.api('POST', `/api/v1/jobs/${held.body.job_id}/release`, { force: true });
  t.equal(noBody.status, 400, 'a route without a body takes none');
  t.match(noBody.body.error.message, /takes no fields, got "force"/);
  t.equal((await d.api('GET', '/api/v1/jobs?state=all')).body.total, 1, 'only the valid job was stored');
});

t.test('integers in a body are JSON integers: no strings, no fractions, bounded', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ nice: '5' }, 'nice', /must be an integer, got the text "5"/],
    [{ nice: 1.5 }, 'nice', /must be an integer, got the number 1.5 \(not whole\)/],
    [{ nice: 1e308 }, 'nice', /must be at most 2147483645/],
    [{ memory_per_node: 1e308 }, 'memory_per_node', /must be at most/],
    [{ minimum_nodes: true }, 'minimum_nodes', /must be an integer, got true/],
    [{ time_limit: 'soon' }, 'time_limit', /must be an integer from 1 to \d+ or "UNLIMITED"/],
    [{ hold: 'yes' }, 'hold', /must be true or false/],
    [{ partition: 'a b' }, 'partition', /"a b" is not valid \(a partition name: letters, digits, _ \. -\)/],
    [{ environment: { '1BAD': 'x' } }, 'environment', /"1BAD" is not an allowed name/],
    [{ argv: [1] }, 'argv[0]', /must be a string/],
  ];
  for (const [fields, field, message] of cases) {
    const res = await d.api('POST', '/api/v1/jobs', { script: SCRIPT, hold: true, ...fields });
    t.equal(res.status, 400, JSON.stringify(fields));
    t.equal(res.body.error.field, field, JSON.stringify(fields));
    t.match(res.body.error.message, message, JSON.stringify(fields));
    t.notMatch(res.body.error.message, /\^\[|\$'|instancePath|must match pattern/, 'in words, not the schema');
  }
  const typed = await d.api('POST', '/api/v1/jobs', [SCRIPT]);
  t.equal(typed.body.error.message, 'the request body must be a JSON object, got a list');
  const notJson = await d.api('POST', '/api/v1/jobs', '{"script":');
  t.equal(notJson.status, 400);
  t.match(notJson.body.error.message, /not valid JSON/);
  t.equal((await d.api('GET', '/api/v1/jobs?state=all')).body.total, 0, 'nothing was stored');
});

t.test('size limits: the body, the script, argv and environment, each refused naming the limit and the value', async (t) => {
  const d = await startDaemon(t, { ...SMALL_CLUSTER, limits: { bodyBytes: 65536, scriptBytes: 1000, argvItems: 3, argvBytes: 100, environmentItems: 2, environmentBytes: 50, nameChars: 10 } });
  const cases: [Record<string, unknown>, string, string][] = [
    [{ script: `${SCRIPT}${'#'.repeat(1000)}` }, 'script', `script: ${SCRIPT.length + 1000} bytes; the daemon takes at most 1000 (limits.scriptBytes)`],
    [{ argv: ['a', 'b', 'c', 'd'] }, 'argv', 'argv: 4 arguments; the daemon takes at most 3 (limits.argvItems)'],
    [{ argv: ['x'.repeat(99), 'é'] }, 'argv', 'argv: 103 bytes in 2 arguments; the daemon takes at most 100 (limits.argvBytes)'],
    [{ environment: { A: '1', B: '2', C: '3' } }, 'environment', 'environment: 3 variables; the daemon takes at most 2 (limits.environmentItems)'],
    [{ environment: { A: 'x'.repeat(60) } }, 'environment', 'environment: 63 bytes in 1 variables; the daemon takes at most 50 (limits.environmentBytes)'],
    [{ name: 'eleven-char' }, 'name', 'name: 11 characters; the daemon takes at most 10 (limits.nameChars)'],
  ];
  for (const [fields, field, message] of cases) {
    const res = await d.api('POST', '/api/v1/jobs', { script: SCRIPT, hold: true, ...fields });
    t.equal(res.status, 413, field);
    t.same(res.body.error, { code: 'E_REQUEST_TOO_LARGE', message, field });
  }
  const big = await d.api('POST', '/api/v1/jobs', { script: SCRIPT, comment: 'x'.repeat(70000) });
  t.equal(big.status, 413);
  t.match(big.body.error.message, /^the request body is \d+ bytes; the daemon takes at most 65536 \(limits\.bodyBytes\)$/);
  const ok = await d.api('POST', '/api/v1/jobs', { script: SCRIPT, hold: true, name: 'ten-chars!', argv: ['a', 'b', 'c'] });
  t.equal(ok.status, 201, 'at the limits is fine');
  const renamed = await d.api('PATCH', `/api/v1/jobs/${ok.body.job_id}`, { name: 'eleven-char' });
  t.equal(renamed.status, 413, 'scontrol update Name= is bounded too');
  t.equal((await d.api('GET', '/api/v1/jobs?state=all')).body.total, 1);
});

t.test('the default limits refuse a 7 MB argv, naming the limit', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const argv = Array.from({ length: 70 }, () => 'x'.repeat(100_000));
  const res = await d.api('POST', '/api/v1/jobs', { script: SCRIPT, hold: true, argv });
  t.equal(res.status, 413);
  t.equal(res.body.error.message, 'argv: 7000070 bytes in 70 arguments; the daemon takes at most 1048576 (limits.argvBytes)');
});
