/**
 * The figures of a replay (pure), as the scheduling literature reports them: makespan,
 * utilisation, waits (mean, p50, p95) and mean bounded slowdown, max(1, (wait + run) /
 * max(run, τ)) with τ = 10 s, so that very short jobs do not dominate the mean.
 */
import type { JobOutcome } from './replay.js';

export const SLOWDOWN_TAU_S = 10;

export interface ReplayMetrics {
  jobs: number;
  skipped: number;
  makespan_s: number;
  utilization: number;
  mean_wait_s: number;
  p50_wait_s: number;
  p95_wait_s: number;
  mean_bounded_slowdown: number;
  /** Jobs simulated per second of the simulation's own (wall) time. */
  jobs_per_second: number;
}

/** The p-th percentile (nearest rank) of sorted values; 0 for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function replayMetrics(outcomes: readonly JobOutcome[], o: { totalProcs: number; skipped: number; wallSeconds: number }): ReplayMetrics {
  const n = outcomes.length;
  let first = Infinity;
  let last = -Infinity;
  let busy = 0;
  let slowdown = 0;
  const waits: number[] = [];
  for (const j of outcomes) {
    first = Math.min(first, j.submit);
    last = Math.max(last, j.end);
    const run = j.end - j.start;
    const wait = j.start - j.submit;
    busy += j.procs * run;
    waits.push(wait);
    slowdown += Math.max(1, (wait + run) / Math.max(run, SLOWDOWN_TAU_S));
  }
  const makespan = n > 0 ? last - first : 0;
  waits.sort((a, b) => a - b);
  return {
    jobs: n,
    skipped: o.skipped,
    makespan_s: makespan,
    utilization: makespan > 0 ? busy / (o.totalProcs * makespan) : 0,
    mean_wait_s: n > 0 ? waits.reduce((s, w) => s + w, 0) / n : 0,
    p50_wait_s: percentile(waits, 50),
    p95_wait_s: percentile(waits, 95),
    mean_bounded_slowdown: n > 0 ? slowdown / n : 0,
    jobs_per_second: o.wallSeconds > 0 ? n / o.wallSeconds : 0,
  };
}
