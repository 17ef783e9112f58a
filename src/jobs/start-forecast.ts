/**
 * The live queue's start forecast (`squeue --start`, the REST job's `expected_start`): the
 * backend replays what waits (its own waiting jobs, then the head of GRM's eligible queue, in
 * GRM's order) on a virtual clock from the running jobs' time limits (simulate/forecast.ts).
 * Computed when asked, kept until the queue changes (any job event) or `ttlMs` passes, so a
 * page of squeue costs one replay, not one per job. Held, begin-time and dependent jobs are not
 * in the eligible queue: they get none, as a backend without a forecast gives none.
 * A forecast never holds a listing up nor fails it: one that takes longer than `waitMs`
 * (slurmctld slow or down) or fails leaves the jobs without one, and the next ask tries again.
 */
import type { Clock } from '../backends/simulator/clock.js';
import type { ResourceBackend } from '../backends/resource-backend.js';
import type { JobStore } from '../store/job-store.js';
import type { QueueStore } from '../store/queue-store.js';
import { choosePartition, toResourceRequest } from './resource-request.js';

export interface StartForecastOptions {
  store: JobStore;
  queue: QueueStore;
  backend: Pick<ResourceBackend, 'forecast' | 'partitions'>;
  clock: Clock;
  /** GRM's waiting jobs forecast (default 1,000). */
  maxJobs?: number;
  /** How long a forecast holds when the queue does not change (default 10 s). */
  ttlMs?: number;
  /** How long a listing waits for a forecast being computed (default 2 s). */
  waitMs?: number;
  onError?: (error: unknown) => void;
}

type Starts = Map<number, number | null>;

export class StartForecast {
  private cached: { at: number; starts: Promise<Starts> } | undefined;

  constructor(private readonly o: StartForecastOptions) {
    o.store.onEvent(() => (this.cached = undefined));
  }

  /** Expected start by job id (ms since epoch; null: none can be given; absent: not forecast). */
  async starts(): Promise<Starts> {
    const now = this.o.clock.now();
    if (!this.cached || now - this.cached.at >= (this.o.ttlMs ?? 10_000)) {
      const cached = {
        at: now,
        starts: this.compute().catch((e: unknown) => {
          this.o.onError?.(e);
          if (this.cached === cached) this.cached = undefined;
          return new Map() as Starts;
        }),
      };
      this.cached = cached;
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Starts>((resolve) => (timer = setTimeout(() => resolve(new Map()), this.o.waitMs ?? 2000)));
    try {
      return await Promise.race([this.cached.starts, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async compute(): Promise<Starts> {
    const { backend, store, queue } = this.o;
    if (!backend.forecast) return new Map();
    const partitions = await backend.partitions();
    const waiting = [];
    for (const entry of queue.head(this.o.maxJobs ?? 1000)) {
      const job = store.get(entry.id);
      if (job?.state !== 'PENDING') continue;
      try {
        waiting.push({ ...toResourceRequest(job.id, job.user, job.description, choosePartition(job.partition || undefined, partitions), job.submitTime), priority: job.priority });
      } catch {
        // a partition gone since the submission: it cannot start, so it has no forecast
      }
    }
    return backend.forecast(waiting);
  }
}
