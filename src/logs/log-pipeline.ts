/**
 * The daemon's log pipeline: one aggregator over the store, tails of each job's output files
 * resumed from the offsets stored with the lines, and the GRM's own lines per job.
 */
import { LogAggregator, watchJobOutput, type LogSink } from './log-aggregator.js';

export interface LogPipelineConfig {
  batchLines: number;
  flushIntervalMs: number;
  maxLineBytes: number;
  maxLinesPerJob: number;
  pollIntervalMs: number;
}

/** The store side: the aggregator's sink plus the stored tail offsets. */
export interface LogStorePort extends LogSink {
  offsets(jobId: number): { source: string; path: string; offset: number }[];
}

export interface LogPipelineOptions {
  store: LogStorePort;
  config: LogPipelineConfig;
  onError: (error: unknown, context: string) => void;
}

export class LogPipeline {
  readonly aggregator: LogAggregator;

  constructor(private readonly o: LogPipelineOptions) {
    this.aggregator = new LogAggregator(o.store, {
      flushLines: o.config.batchLines,
      flushIntervalMs: o.config.flushIntervalMs,
      maxLinesPerJob: o.config.maxLinesPerJob,
      onError: (e) => o.onError(e, 'log aggregation'),
    });
  }

  /** Follows a job's output files from where the store says they were read up to. */
  watch(jobId: number, files: { source: string; path: string }[]) {
    const stored = this.o.store.offsets(jobId);
    return watchJobOutput({
      aggregator: this.aggregator,
      jobId,
      files: files.map((f) => ({ ...f, offset: stored.find((s) => s.source === f.source && s.path === f.path)?.offset ?? 0 })),
      tailer: {
        pollIntervalMs: this.o.config.pollIntervalMs,
        maxLineBytes: this.o.config.maxLineBytes,
        onError: (e) => this.o.onError(e, `tailing the output of job ${jobId}`),
      },
    });
  }

  /** A line of the GRM's own about a job (state changes, allocation, errors). */
  grmLine(jobId: number, text: string): void {
    this.aggregator.note(jobId, text);
  }

  async close(): Promise<void> {
    this.aggregator.close();
  }
}
