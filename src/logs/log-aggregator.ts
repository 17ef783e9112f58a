/**
 * Collects the lines of every job from every source (stdout, stderr, GRM's own notes,
 * COMPSs logs...), stamps them, numbers them per job, and stores them in batches.
 *
 * Why batches: the store writes one SQLite transaction per flush, containing the lines and
 * the tail offsets they came from. Lines and offsets therefore commit together, and a
 * restarted daemon resumes each tail exactly after the last stored line: no loss, no
 * duplicate. An offset is only handed to the sink in the flush that also holds the last
 * line of its batch, and a batch is never split across flushes: the stored offset is always
 * exactly the end of the stored lines.
 *
 * Why the sequence comes from the sink: a restart continues the per-job numbering, so a
 * viewer that resumes "after seq N" stays correct across daemon restarts.
 */
import path from 'node:path';
import { FileTailer, type FileTailerOptions, type StopOptions } from './file-tailer.js';

export interface LogBatch {
  jobId: number;
  /** 'stdout' | 'stderr' | 'grm' | 'compss:runtime.log' ... */
  source: string;
  lines: string[];
  /** Offset in `path` just past the last line of this batch, stored with it. */
  endOffset?: number;
  path?: string;
}

export interface StoredLogLine {
  jobId: number;
  /** 1, 2, 3... per job, across all sources, in ingest order. */
  seq: number;
  /** ms since epoch, at ingest */
  ts: number;
  source: string;
  line: string;
  /** The job's run (its restart count), set when stored. */
  run?: number;
}

export interface LogOffset {
  jobId: number;
  source: string;
  path: string;
  offset: number;
}

export interface LogSink {
  /** Highest stored seq of the job, 0 when none. */
  lastSeq(jobId: number): number;
  /** Stores lines and offsets atomically (one transaction); throws when it could not. */
  append(lines: StoredLogLine[], offsets: LogOffset[]): void;
}

export type LogSubscriber = (lines: StoredLogLine[]) => void;

export interface LogAggregatorOptions {
  /** Flush once this many lines are buffered (default 1000), after the batch that reached it. */
  flushLines?: number;
  /** Flush at most this long after the first buffered line (default 250 ms). */
  flushIntervalMs?: number;
  /** Lines stored per job before the rest is dropped; 0 = unlimited (default). */
  maxLinesPerJob?: number;
  now?: () => number;
  /** Sink failures of automatic flushes (once per fault, not at every retry) and subscriber exceptions. */
  onError?: (error: Error) => void;
  /** The sink took lines again after a fault: how long it refused them, and whose lines waited. */
  onRecovered?: (fault: IngestFault, jobIds: number[], pausedMs: number) => void;
}

/** The sink refuses lines (disk full, store read-only): lines wait, tails pause, retried at each flush interval. */
export interface IngestFault {
  /** ms since epoch of the first refused flush */
  since: number;
  message: string;
  /** Lines waiting in memory (the rest waits in the job's files, where the tails stopped). */
  waitingLines: number;
}

export const GRM_SOURCE = 'grm';

export function capNotice(maxLines: number): string {
  return `GRM: output cap of ${maxLines} lines reached; further output is not stored`;
}

interface JobState {
  nextSeq: number;
  capped: boolean;
}

/**
 * Jobs whose numbering stays cached between flushes. Every job gets a line when submitted, so
 * a map of every job grew with the queue (100,000 queued jobs: 100,000 entries, about 10 MiB);
 * a job not cached costs one indexed lookup (`lastSeq`) when it next logs.
 */
export const CACHED_JOBS = 1024;

const offsetKey = (o: { jobId: number; source: string; path: string }): string =>
  `${o.jobId}\0${o.source}\0${o.path}`;

export class LogAggregator {
  private readonly sink: LogSink;
  private readonly flushLines: number;
  private readonly flushIntervalMs: number;
  private readonly maxLinesPerJob: number;
  private readonly now: () => number;
  private readonly onError: (error: Error) => void;
  private buffer: StoredLogLine[] = [];
  private offsets = new Map<string, LogOffset>();
  /** Numbering per job, most recently logging last: bounded by CACHED_JOBS after each flush. */
  private readonly jobs = new Map<number, JobState>();
  private readonly subscribers = new Map<number, Set<LogSubscriber>>();
  private timer: NodeJS.Timeout | null = null;
  /** After a sink failure, size-triggered flushes wait for the timer (no retry per line). */
  private sinkFailing = false;
  private fault: { since: number; message: string } | null = null;
  private writableWaiters: (() => void)[] = [];
  private closed = false;

  constructor(sink: LogSink, private readonly options: LogAggregatorOptions = {}) {
    this.sink = sink;
    this.flushLines = Math.max(1, options.flushLines ?? 1000);
    this.flushIntervalMs = Math.max(0, options.flushIntervalMs ?? 250);
    this.maxLinesPerJob = Math.max(0, options.maxLinesPerJob ?? 0);
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? ((e) => process.emitWarning(`log aggregator: ${e.message}`));
  }

  /** Lines waiting for the next flush. */
  get bufferedLines(): number {
    return this.buffer.length;
  }

  /** Why lines are not being stored now; null while the sink takes them. */
  get ingestFault(): IngestFault | null {
    return this.fault && { ...this.fault, waitingLines: this.buffer.length };
  }

  /** Resolves once the sink takes lines again (at once when it does now), or on close. */
  whenWritable(): Promise<void> {
    if (this.fault === null || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.writableWaiters.push(resolve));
  }

  ingest(batch: LogBatch): void {
    if (this.closed) throw new Error('LogAggregator is closed');
    const state = this.jobState(batch.jobId);
    const ts = this.now();
    for (const line of batch.lines) {
      if (state.capped) continue;
      if (this.maxLinesPerJob > 0 && state.nextSeq > this.maxLinesPerJob) {
        state.capped = true;
        this.push({ jobId: batch.jobId, seq: state.nextSeq++, ts, source: GRM_SOURCE, line: capNotice(this.maxLinesPerJob) });
        continue;
      }
      this.push({ jobId: batch.jobId, seq: state.nextSeq++, ts, source: batch.source, line });
    }
    // only now, with every line of the batch buffered (dropped lines count as consumed)
    if (batch.endOffset !== undefined && batch.path !== undefined) {
      const o: LogOffset = { jobId: batch.jobId, source: batch.source, path: batch.path, offset: batch.endOffset };
      this.offsets.set(offsetKey(o), o);
    }
    // size check after the whole batch: a flush never splits a batch, so the stored offset
    // is always exactly the end of the stored lines (a split batch would be re-read twice)
    if (this.buffer.length >= this.flushLines && !this.sinkFailing) this.autoFlush();
    else this.schedule();
  }

  /** A line from GRM itself ("job cancelled", "node lost"...). */
  note(jobId: number, line: string): void {
    this.ingest({ jobId, source: GRM_SOURCE, lines: [line] });
  }

  /** Live lines of one job, delivered after they are stored. Returns the unsubscribe function. */
  subscribe(jobId: number, fn: LogSubscriber): () => void {
    let set = this.subscribers.get(jobId);
    if (set === undefined) this.subscribers.set(jobId, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0 && this.subscribers.get(jobId) === set) this.subscribers.delete(jobId);
    };
  }

  /** Stores everything buffered now. Throws the sink's error (the data stays buffered). */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.buffer.length === 0 && this.offsets.size === 0) return;
    const lines = this.buffer;
    const offsets = this.offsets;
    this.buffer = [];
    this.offsets = new Map();
    try {
      this.sink.append(lines, [...offsets.values()]);
    } catch (e) {
      // nothing was ingested meanwhile (append is synchronous): put it all back
      this.buffer = lines;
      this.offsets = offsets;
      this.sinkFailing = true;
      this.fault ??= { since: this.now(), message: e instanceof Error ? e.message : String(e) };
      this.schedule();
      throw e;
    }
    this.sinkFailing = false;
    if (this.fault !== null) this.recovered(lines);
    this.trimJobs();
    this.notify(lines);
  }

  private recovered(stored: StoredLogLine[]): void {
    const fault = { ...this.fault!, waitingLines: stored.length };
    this.fault = null;
    this.writableWaiters.splice(0).forEach((resolve) => resolve());
    try {
      this.options.onRecovered?.(fault, [...new Set(stored.map((l) => l.jobId))], this.now() - fault.since);
    } catch (e) {
      this.onError(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** Drops the cached numbering of a finished job (after its last lines were ingested). */
  forgetJob(jobId: number): void {
    this.jobs.delete(jobId);
  }

  /** Flushes and stops; later ingest() calls throw. */
  close(): void {
    if (this.closed) return;
    try {
      this.flush();
    } finally {
      this.closed = true;
      this.writableWaiters.splice(0).forEach((resolve) => resolve());
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
      this.subscribers.clear();
    }
  }

  private jobState(jobId: number): JobState {
    let s = this.jobs.get(jobId);
    if (s === undefined) {
      const last = this.sink.lastSeq(jobId);
      // beyond the cap only the notice can have been stored: it was already written
      s = { nextSeq: last + 1, capped: this.maxLinesPerJob > 0 && last > this.maxLinesPerJob };
    } else {
      this.jobs.delete(jobId);
    }
    this.jobs.set(jobId, s);
    return s;
  }

  /**
   * Forgets the jobs that logged least recently, past CACHED_JOBS. Only right after a flush:
   * with nothing buffered the sink's last seq of each job is exact, so a job asked again
   * continues its numbering.
   */
  private trimJobs(): void {
    if (this.buffer.length > 0) return;
    for (const jobId of this.jobs.keys()) {
      if (this.jobs.size <= CACHED_JOBS) break;
      this.jobs.delete(jobId);
    }
  }

  private push(line: StoredLogLine): void {
    this.buffer.push(line);
  }

  private schedule(): void {
    if (this.timer !== null || this.closed) return;
    if (this.buffer.length === 0 && this.offsets.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.autoFlush();
    }, this.flushIntervalMs);
  }

  private autoFlush(): void {
    const failing = this.fault !== null;
    try {
      this.flush();
    } catch (e) {
      // reported when the fault begins; its retries (one per flush interval) are not
      if (!failing) this.onError(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private notify(lines: StoredLogLine[]): void {
    if (this.subscribers.size === 0) return;
    const byJob = new Map<number, StoredLogLine[]>();
    for (const l of lines) {
      if (!this.subscribers.has(l.jobId)) continue;
      let list = byJob.get(l.jobId);
      if (list === undefined) byJob.set(l.jobId, (list = []));
      list.push(l);
    }
    for (const [jobId, list] of byJob) {
      for (const fn of [...(this.subscribers.get(jobId) ?? [])]) {
        try {
          fn(list);
        } catch (e) {
          this.onError(e instanceof Error ? e : new Error(String(e)));
        }
      }
    }
  }
}

export interface JobOutputFile {
  /** 'stdout', 'stderr', 'compss:runtime.log'... */
  source: string;
  path: string;
  /** Stored resume offset (LogOffset.offset), default 0. */
  offset?: number;
}

export interface WatchJobOutputOptions {
  aggregator: LogAggregator;
  jobId: number;
  /** Files sharing one path (stdout and stderr to the same file) are followed once, under the first source. */
  files: JobOutputFile[];
  tailer?: Omit<FileTailerOptions, 'path' | 'startOffset' | 'onBatch'>;
}

export interface JobOutputWatch {
  readonly tailers: readonly FileTailer[];
  /** Stops the tailers (drain: read to the end, flush last partial lines), then flushes the aggregator. */
  stop(options?: StopOptions): Promise<void>;
}

/**
 * Follows a job's output files into the aggregator. Once the master has exited, call
 * stop({ drain: true }): every last line is stored before the job may be marked done.
 */
export function watchJobOutput(options: WatchJobOutputOptions): JobOutputWatch {
  const { aggregator, jobId } = options;
  const seen = new Set<string>();
  // a stop must not wait for the store to come back: it ends the tails' wait for it
  let stopped: { drain: boolean } | null = null;
  let onStop: () => void = () => {};
  const stopping = new Promise<void>((resolve) => (onStop = resolve));
  const tailers: FileTailer[] = [];
  for (const file of options.files) {
    const resolved = path.resolve(file.path);
    if (seen.has(resolved)) continue;
    seen.add(resolved);
    const tailer = new FileTailer({
      ...options.tailer,
      path: file.path,
      startOffset: file.offset ?? 0,
      onBatch: async (b) => {
        // the store refuses lines (disk full): this tail stops reading, its lines wait in the file
        if (aggregator.ingestFault !== null) await Promise.race([aggregator.whenWritable(), stopping]);
        // stopped meanwhile without a drain: not stored, so the next daemon reads them from the stored offset
        if (stopped !== null && !stopped.drain && aggregator.ingestFault !== null) return;
        if (b.truncated === true) {
          aggregator.note(jobId, `GRM: ${file.source} file ${file.path} was truncated; following it again from its start`);
        }
        aggregator.ingest({ jobId, source: file.source, path: file.path, lines: b.lines, endOffset: b.endOffset });
      },
    });
    tailers.push(tailer.start());
  }
  return {
    tailers,
    async stop(stopOptions: StopOptions = {}): Promise<void> {
      stopped = { drain: stopOptions.drain === true };
      onStop();
      await Promise.all(tailers.map((t) => t.stop(stopOptions)));
      aggregator.flush();
    },
  };
}
