/**
 * deploy/grafana/grm-dashboard.json: a Grafana dashboard that imports (the fields Grafana
 * requires, unique ids and refIds, variables that exist) and that queries only series the
 * daemon exposes, every one of them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { GrmMetrics } from '../../src/metrics/grm-metrics.js';

const FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../deploy/grafana/grm-dashboard.json');

interface Target {
  refId: string;
  expr: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}
interface Variable {
  name: string;
  type: string;
  query?: string | { query: string };
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

const dashboard = JSON.parse(fs.readFileSync(FILE, 'utf8')) as Dashboard;
const targets = dashboard.panels.flatMap((p) => p.targets ?? []);
const variables = dashboard.templating.list;
const queries = [...targets.map((x) => x.expr), ...variables.flatMap((v) => (typeof v.query === 'object' ? [v.query.query] : []))];

/** The series names a PromQL expression reads: identifiers with the grm_ prefix (no other metric is queried). */
const namesIn = (expr: string) => [...expr.matchAll(/\bgrm_[a-z0-9_]+\b/g)].map((m) => m[0]);

t.test('the dashboard has what Grafana needs to import it', async (t) => {
  t.ok(Number.isInteger(dashboard.schemaVersion) && dashboard.schemaVersion >= 36, `schemaVersion ${dashboard.schemaVersion}`);
  t.match(dashboard.uid, /^[A-Za-z0-9_-]{1,40}$/, 'a uid Grafana accepts');
  t.ok(dashboard.title.length > 0);
  const ids = dashboard.panels.map((p) => p.id);
  t.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  for (const p of dashboard.panels) {
    t.ok(p.gridPos.w > 0 && p.gridPos.h > 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title}: on the 24-column grid`);
    if (p.type === 'row') continue;
    t.ok(['stat', 'timeseries'].includes(p.type), `${p.title}: a known panel type`);
    t.ok((p.targets ?? []).length > 0, `${p.title}: has queries`);
    const refIds = (p.targets ?? []).map((x) => x.refId);
    t.equal(new Set(refIds).size, refIds.length, `${p.title}: refIds are unique`);
    t.equal(p.datasource?.uid, '${datasource}', `${p.title}: reads the chosen data source`);
  }
  const names = new Set(variables.map((v) => v.name));
  t.ok(variables.some((v) => v.name === 'datasource' && v.type === 'datasource'), 'a data source variable');
  for (const q of queries) {
    for (const [, v] of q.matchAll(/\$(\w+)/g)) t.ok(names.has(v!), `$${v} is a variable of the dashboard`);
  }
});

t.test('every series the dashboard queries exists, and every series is on it', async (t) => {
  const metrics = new GrmMetrics({
    version: 'test',
    backend: 'slurm',
    processMetrics: false,
    sources: {
      jobCounts: () => [],
      pendingByReason: () => [],
      queueLength: () => 0,
      runningByUser: () => [],
      nodes: async () => [],
      mastersRunning: () => 0,
      logLines: () => ({ ingested: 0, unindexed: 0, oldestUnindexedTime: null }),
      storeFiles: () => [],
      wallNow: () => 0,
    },
  });
  const registered = new Map(metrics.registry.getMetricsAsArray().map((m) => [m.name, (m as unknown as { type: string }).type]));
  // a histogram's series are its _bucket, _sum and _count
  const baseOf = (name: string) => {
    const base = name.replace(/_(bucket|sum|count)$/, '');
    return base !== name && registered.get(base) === 'histogram' ? base : name;
  };
  const used = new Set(queries.flatMap(namesIn).map(baseOf));
  t.ok(used.size > 0, 'the dashboard queries grm_ series');
  for (const name of used) t.ok(registered.has(name), `${name} is a metric of the daemon`);
  for (const name of registered.keys()) t.ok(used.has(name), `${name} is on the dashboard`);
});
