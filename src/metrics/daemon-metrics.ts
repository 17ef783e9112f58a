/**
 * The daemon's metrics bound to its parts: what a scrape reads (store counts, the backend's
 * nodes, the runner's masters, the search index's high-water mark, the database files) and
 * the events that feed the histograms. Called once by the composition root.
 */
import type { NodeInfo } from '../backends/resource-backend.js';
import type { JobEvent } from '../jobs/job-types.js';
import type { Db } from '../store/database.js';
import { StatsStore } from '../store/stats-store.js';
import { GrmMetrics } from './grm-metrics.js';
import { followMetricEvents, type MetricEventSources } from './metric-events.js';

export interface DaemonMetricsParts {
  db: Db;
  /** The database files whose size (and WAL's) is reported. */
  files: string[];
  version: string;
  backend: { kind: string; nodes(): Promise<NodeInfo[]> };
  /** The backend's commands (SLURM's), when it runs any. */
  commands?: { names: readonly string[]; onCommand: NonNullable<MetricEventSources['commands']> };
  store: { onEvent(listener: (event: JobEvent) => void): void };
  dispatcher: { onPass(listener: (event: { durationMs: number }) => void): void };
  runner: { runningJobIds(): number[] };
  search: { readonly indexedTo: number };
  onError: (error: unknown, context: string) => void;
}

export function createDaemonMetrics(p: DaemonMetricsParts): GrmMetrics {
  const stats = new StatsStore(p.db);
  const metrics = new GrmMetrics({
    version: p.version,
    backend: p.backend.kind,
    onError: p.onError,
    ...(p.commands ? { commands: p.commands.names } : {}),
    sources: {
      jobCounts: () => stats.jobCounts(),
      pendingByReason: () => stats.pendingByReason(),
      queueLength: () => stats.queueLength(),
      runningByUser: () => stats.runningByUser(),
      nodes: () => p.backend.nodes(),
      mastersRunning: () => p.runner.runningJobIds().length,
      logLines: () => stats.logLines(p.search.indexedTo),
      storeFiles: () => stats.fileSizes(p.files).map((f) => ({ file: baseName(f.file), bytes: f.bytes })),
      wallNow: Date.now,
    },
  });
  followMetricEvents(metrics, {
    jobEvents: (l) => p.store.onEvent(l),
    passes: (l) => p.dispatcher.onPass(l),
    ...(p.commands ? { commands: p.commands.onCommand } : {}),
  });
  return metrics;
}

/** A file's label is its name: the data dir's path says nothing an operator's query needs. */
function baseName(file: string): string {
  return file.slice(file.lastIndexOf('/') + 1);
}
