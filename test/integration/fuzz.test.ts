/**
 * 10,000 malformed requests on every route and method /openapi.json publishes (wrong types,
 * huge numbers, unicode, NUL, deep nesting, oversize bodies, unknown fields and parameters):
 * not one 5xx, every one refused, the daemon still answers, the store unchanged. The requests
 * come from a fixed seed, so a failure names a request that can be sent again.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import fc from 'fast-check';
import t from 'tap';
import type { Db } from '../../src/store/database.js';
import { SMALL_CLUSTER, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { malformedRequest, operationsOf, type MalformedRequest } from '../helpers/malformed-requests.js';

const REQUESTS = Number(process.env.GRM_FUZZ_REQUESTS ?? 10_000);
const CONCURRENCY = 16;
const SEED = 20261202;
const BODY_LIMIT = 256 * 1024;

/** Every table's rows, hashed: what the requests must not change. Audit rows and a token's last use are meant to. */
function storeChecksum(db: Db): { jobs: number; hash: string } {
  const hash = createHash('sha256');
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'audit' ORDER BY name").pluck().all() as string[];
  for (const table of tables) {
    // in a stable order whatever the table's keys (some tables have no rowid)
    const rows = (db.prepare(`SELECT * FROM "${table}"`).all() as Record<string, unknown>[]).map(({ last_used_time: _used, ...row }) => JSON.stringify(row));
    hash.update(`${table}:${rows.sort().join('\n')}\n`);
  }
  return { jobs: db.prepare('SELECT count(*) FROM jobs').pluck().get() as number, hash: hash.digest('hex') };
}

/** One request over a kept-alive connection (node:http: half the CPU of fetch, which matters ×10,000). */
function send(d: TestDaemon, agent: http.Agent, r: MalformedRequest): Promise<number> {
  const { hostname, port } = new URL(d.url);
  const body = r.body === undefined ? undefined : Buffer.from(r.body);
  const headers = { authorization: `Bearer ${d.token}`, ...r.headers, ...(body ? { 'content-length': String(body.length) } : {}) };
  return new Promise((resolve, reject) => {
    const request = http.request({ host: hostname, port, method: r.method, path: r.url, headers, agent, timeout: 60_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    request.on('timeout', () => request.destroy(new Error('no answer in 60 s')));
    request.on('error', (e: NodeJS.ErrnoException) => {
      // the daemon may close a connection whose body it refused before reading it all
      if (body && body.length > BODY_LIMIT && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) resolve(413);
      else reject(new Error(`${r.method} ${r.url.slice(0, 200)} (${r.defect}): ${e.message}`));
    });
    request.end(body);
  });
}

async function inPool<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: size }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

t.test(`${REQUESTS} malformed requests: no 5xx, every one refused, the daemon alive, the store unchanged`, async (t) => {
  const d = await startDaemon(t, { ...SMALL_CLUSTER, rateLimit: { max: 0 }, limits: { bodyBytes: BODY_LIMIT } });
  // something to refuse changes to: a held job, an ended job with its log, a held array
  const held = await d.api('POST', '/api/v1/jobs', { script: '#!/bin/bash\ntrue\n', hold: true, name: 'held' });
  const ended = await d.api('POST', '/api/v1/jobs', { script: '#!/bin/bash\necho done\n', name: 'ended' });
  await d.api('POST', '/api/v1/jobs', { script: '#!/bin/bash\ntrue\n', hold: true, array: '1-5' });
  await d.waitForState(ended.body.job_id, ['COMPLETED']);
  // an ended job has every line stored but GRM's own last ones, which wait in the aggregator
  d.daemon.logs.flush();
  const before = storeChecksum(d.daemon.db);

  const spec = (await d.api('GET', '/openapi.json')).body;
  const operations = operationsOf(spec);
  t.ok(operations.length >= 20, `${operations.length} routes and methods`);
  const context = { jobId: String(held.body.job_id), oversizeBytes: BODY_LIMIT + 1024 };
  // one arbitrary per route, built once: every route as likely as any other
  const arbitrary = fc.oneof(...operations.map((op) => malformedRequest(op, context)));
  const requests = fc.sample(arbitrary, { numRuns: REQUESTS, seed: SEED });

  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  t.teardown(() => agent.destroy());
  const byStatus = new Map<number, number>();
  const wrong: string[] = [];
  await inPool(requests, CONCURRENCY, async (r) => {
    const status = await send(d, agent, r);
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    if ((status < 400 || status >= 500) && wrong.length < 20) wrong.push(`${status} ${r.method} ${r.url.slice(0, 160)} (${r.defect})`);
  });
  t.comment(`statuses: ${[...byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ')}`);
  t.same(wrong, [], 'every request refused with a 4xx');
  t.equal([...byStatus.keys()].filter((s) => s >= 500).length, 0, 'no 5xx');
  t.equal((await d.api('GET', '/api/v1/health')).body.status, 'ok', 'the daemon still answers');
  t.same(storeChecksum(d.daemon.db), before, 'the store is unchanged: the same jobs, events, users and tokens');
  t.equal((await d.api('GET', `/api/v1/jobs/${held.body.job_id}`)).body.state_reason, 'JobHeldUser');
});

/** Where a request schema leaves a value unbounded, in words; empty when everything is bounded. */
function unbounded(schema: any, at: string): string[] {
  if (!schema || typeof schema !== 'object') return [];
  if (Array.isArray(schema.anyOf)) return schema.anyOf.flatMap((s: unknown, i: number) => unbounded(s, `${at}|${i}`));
  const found: string[] = [];
  if (schema.type === 'integer' && (schema.maximum === undefined || schema.minimum === undefined)) found.push(`${at}: integer without bounds`);
  if (schema.type === 'string' && schema.maxLength === undefined && schema.enum === undefined && schema.const === undefined) found.push(`${at}: string without maxLength`);
  if (schema.type === 'array') found.push(...(schema.maxItems === undefined ? [`${at}: array without maxItems`] : []), ...unbounded(schema.items, `${at}[]`));
  if (schema.type === 'object') {
    // a map (OpenAPI 3.0 writes patternProperties as an additionalProperties schema) needs a size
    const map = typeof schema.additionalProperties === 'object' || schema.patternProperties !== undefined;
    if (!map && schema.additionalProperties !== false) found.push(`${at}: object taking any property`);
    if (map && schema.maxProperties === undefined) found.push(`${at}: map without maxProperties`);
    for (const [k, v] of Object.entries(schema.properties ?? {})) found.push(...unbounded(v, `${at}.${k}`));
    for (const v of [...Object.values(schema.patternProperties ?? {}), ...(map ? [schema.additionalProperties] : [])]) found.push(...unbounded(v, `${at}.*`));
  }
  return found;
}

t.test('every parameter and body field of every route is bounded', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const spec = (await d.api('GET', '/openapi.json')).body;
  const found: string[] = [];
  for (const [path, methods] of Object.entries(spec.paths as Record<string, Record<string, any>>)) {
    for (const [method, op] of Object.entries(methods)) {
      for (const p of op.parameters ?? []) found.push(...unbounded(p.schema, `${method.toUpperCase()} ${path} ${p.in} ${p.name}`));
      found.push(...unbounded(op.requestBody?.content?.['application/json']?.schema, `${method.toUpperCase()} ${path} body`));
    }
  }
  t.same(found, [], 'integers, strings, lists and objects all have bounds');
});
