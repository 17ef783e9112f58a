/**
 * Feeds the latency histograms and error counters from the parts' typed events: job state
 * changes (the store's), dispatch passes (the dispatcher's), backend commands (SLURM's
 * client commands). Nothing here is called from the parts themselves.
 */
import type { JobEvent } from '../jobs/job-types.js';
import type { GrmMetrics } from './grm-metrics.js';

type Subscribe<E> = (listener: (event: E) => void) => void;

export interface MetricEventSources {
  jobEvents: Subscribe<JobEvent>;
  passes: Subscribe<{ durationMs: number }>;
  /** Absent: a backend without commands (the simulator); its series stay without samples. */
  commands?: Subscribe<{ command: string; durationMs: number; ok: boolean }>;
}

export function followMetricEvents(metrics: GrmMetrics, sources: MetricEventSources): void {
  sources.passes((e) => metrics.observeSchedulingPass(e.durationMs / 1000));
  sources.commands?.((e) => metrics.observeCommand(e.command, e.durationMs / 1000, e.ok));
  const dispatch = new DispatchTimer((seconds) => metrics.observeDispatch(seconds));
  sources.jobEvents((e) => dispatch.onJobEvent(e));
}

/**
 * Dispatch time: from a job's move to ALLOCATING to its move to RUNNING, in the store's event
 * times. Only jobs this daemon saw go to ALLOCATING are timed (one restarted in between is
 * not: its start is unknown here), and a job leaves the map on any other state.
 */
export class DispatchTimer {
  private readonly sentAt = new Map<number, number>();

  constructor(private readonly observe: (seconds: number) => void) {}

  onJobEvent(e: Pick<JobEvent, 'jobId' | 'time' | 'toState'>): void {
    if (e.toState === null) return;
    if (e.toState === 'ALLOCATING') {
      this.sentAt.set(e.jobId, e.time);
      return;
    }
    const sent = this.sentAt.get(e.jobId);
    this.sentAt.delete(e.jobId);
    if (e.toState === 'RUNNING' && sent !== undefined) this.observe((e.time - sent) / 1000);
  }

  /** Jobs being timed now. */
  get size(): number {
    return this.sentAt.size;
  }
}
