/**
 * When will each waiting job start? (pure) The queue as it is now, replayed on a virtual clock
 * by the live scheduling pass: running jobs end at their time limits (what the scheduler knows;
 * they may end sooner, so a forecast is a latest start, as SLURM's `squeue --start`), nothing
 * new arrives, and every job that starts runs to its own limit. A job behind one that never
 * ends (no time limit) or that cannot start at all gets no forecast (null).
 *
 * Bounded: at most `maxJobs` of the queue's head are forecast (the others get none), and at most
 * `maxEvents` virtual instants are stepped through.
 */
import TinyQueue from 'tinyqueue';
import type { RunningAllocation } from '../backends/simulator/placement.js';
import { schedule, type QueuedRequest, type ScheduleOptions, type SchedulerInput } from '../backends/simulator/scheduler.js';

/** Waiting jobs the live backends forecast (the others get none; squeue --start shows N/A). */
export const FORECAST_JOBS = 1000;

export interface ForecastInput extends Omit<SchedulerInput, 'queue'> {
  /** In priority order. */
  queue: readonly QueuedRequest[];
}

export interface ForecastOptions extends ScheduleOptions {
  /** Jobs of the queue's head forecast (default 1,000). */
  maxJobs?: number;
  /** Virtual instants stepped through at most (default 10,000). */
  maxEvents?: number;
}

/** Expected start (ms) of each of the first maxJobs queued jobs, by id; null = none can be given. */
export function forecastStarts(input: ForecastInput, o: ForecastOptions = {}): Map<string, number | null> {
  const maxJobs = o.maxJobs ?? 1000;
  let queue = input.queue.slice(0, maxJobs);
  const out = new Map<string, number | null>(queue.map((q) => [q.id, null]));
  const running = new Map<string, RunningAllocation>(input.running.map((r) => [r.id, r]));
  const ends = new TinyQueue<{ at: number; id: string }>(
    input.running.filter((r) => r.endTime !== null).map((r) => ({ at: Math.max(r.endTime!, input.now), id: r.id })),
    (a, b) => a.at - b.at,
  );
  let now = input.now;
  for (let events = 0; queue.length > 0 && events < (o.maxEvents ?? 10_000); events++) {
    for (;;) {
      const { placements } = schedule({ ...input, running: [...running.values()], queue, now }, o);
      if (placements.length === 0) break;
      const started = new Set<string>();
      for (const p of placements) {
        out.set(p.id, now);
        started.add(p.id);
        running.set(p.id, { id: p.id, exclusive: p.exclusive, nodes: p.nodes, endTime: p.endTime });
        if (p.endTime !== null) ends.push({ at: p.endTime, id: p.id });
      }
      queue = queue.filter((q) => !started.has(q.id));
    }
    const next = ends.peek();
    if (!next || queue.length === 0) break;
    // one instant frees everything that ends in it
    now = next.at;
    for (let e = ends.peek(); e && e.at <= now; e = ends.peek()) running.delete(ends.pop()!.id);
  }
  return out;
}
