/**
 * The daemon's log pipeline: one aggregator over the store, tails of each job's output files
 * resumed from the offsets stored with the lines, and the GRM's own lines per job.
 */
import { LogAggregator, watchJobOutput, type IngestFault, type LogSink, type LogSubscriber } from './log-aggregator.js';

export type JobEndListener = (state: string) => void;

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
  private readonly endListeners = new Map<number, Set<JobEndListener>>();

  constructor(private readonly o: LogPipelineOptions) {
    this.aggregator = new LogAggregator(o.store, {
      flushLines: o.config.batchLines,
      flushIntervalMs: o.config.flushIntervalMs,
      maxLinesPerJob: o.config.maxLinesPerJob,
      onError: (e) => o.onError(e, 'log aggregation: lines wait (output tails paused) until the store takes them again'),
      onRecovered: (fault, jobIds, pausedMs) => {
        // every job whose lines waited says so in its own log, once they are stored
        const text = `GRM: storing log lines was paused for ${Math.round(pausedMs / 1000)} s (${fault.message}); they were kept and are stored now`;
        for (const jobId of jobIds) this.aggregator.note(jobId, text);
      },
    });
  }

  /** Why lines are not stored now (disk full, store read-only); null while all is well. */
  get ingestFault(): IngestFault | null {
    return this.aggregator.ingestFault;
  }

  /** The fault in words, for the health endpoint. */
  problems(): string[] {
    const f = this.aggregator.ingestFault;
    if (f === null) return [];
    return [`log storage paused since ${new Date(f.since).toISOString()}: ${f.message}; ${f.waitingLines} lines wait in memory and the rest in the jobs' files (output tails paused); it resumes by itself once the store can be written (free space in the data dir)`];
  }

  /** Follows a job's output files from where the store says they were read up to (owned by `owner`, when given). */
  watch(jobId: number, files: { source: string; path: string }[], options: { owner?: number } = {}) {
    const stored = this.o.store.offsets(jobId);
    return watchJobOutput({
      aggregator: this.aggregator,
      jobId,
      files: files.map((f) => ({ ...f, offset: stored.find((s) => s.source === f.source && s.path === f.path)?.offset ?? 0 })),
      tailer: {
        pollIntervalMs: this.o.config.pollIntervalMs,
        maxLineBytes: this.o.config.maxLineBytes,
        ...(options.owner !== undefined ? { owner: options.owner } : {}),
        onError: (e) => this.o.onError(e, `tailing the output of job ${jobId}`),
      },
    });
  }

  /** A line of the GRM's own about a job (state changes, allocation, errors). */
  grmLine(jobId: number, text: string): void {
    this.aggregator.note(jobId, text);
  }

  /** Live lines of a job, delivered right after they are stored (SSE). Returns the unsubscribe function. */
  subscribe(jobId: number, fn: LogSubscriber): () => void {
    return this.aggregator.subscribe(jobId, fn);
  }

  /** Stores what is buffered now (a reader about to finish a job's log wants its last GRM lines). */
  flush(): void {
    this.aggregator.flush();
  }

  /** Called once a job has reached a terminal state (its output was drained before that). */
  onJobEnded(jobId: number, fn: JobEndListener): () => void {
    let set = this.endListeners.get(jobId);
    if (set === undefined) this.endListeners.set(jobId, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0 && this.endListeners.get(jobId) === set) this.endListeners.delete(jobId);
    };
  }

  /** The composition root reports terminal transitions here (after the event's GRM line was ingested). */
  jobEnded(jobId: number, state: string): void {
    // Stored now, in the same tick as the terminal state: whoever sees the job ended finds
    // every line of it, the GRM's last one included.
    try {
      this.aggregator.flush();
    } catch (e) {
      this.o.onError(e, `storing the last lines of job ${jobId}`);
    }
    const set = this.endListeners.get(jobId);
    if (set === undefined) return;
    // deferred: listeners write to sockets, which the store's commit callback should not wait for
    setImmediate(() => {
      for (const fn of [...set]) {
        try {
          fn(state);
        } catch (e) {
          this.o.onError(e, `log listeners of job ${jobId}`);
        }
      }
    });
  }

  async close(): Promise<void> {
    this.aggregator.close();
    this.endListeners.clear();
  }
}
