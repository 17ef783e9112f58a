/**
 * Follows one output file from a byte offset, like `tail -F` but resumable: every batch
 * carries the offset just past its last line, so whoever stores the lines can store that
 * offset with them and a restarted daemon resumes exactly there.
 *
 * Wake-ups come from fs.watch on the parent directory (which also reports a file that does
 * not exist yet) plus a polling interval, because fs.watch misses events on NFS, Lustre,
 * GPFS and some container filesystems. Only one read loop runs at a time, and it awaits
 * the batch callback before reading on: a slow consumer slows the tail, not the memory.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { openForReading } from '../runtime/safe-files.js';
import { LineSplitter, type TruncationMarker } from './line-splitter.js';

export interface TailBatch {
  lines: string[];
  /** File offset just past the last line of this batch (resume point). */
  endOffset: number;
  /** The file shrank or was replaced: reading restarted at offset 0 (lines is empty). */
  truncated?: boolean;
}

export interface FileTailerOptions {
  path: string;
  /** Offset to resume from (a stored endOffset); default 0. */
  startOffset?: number;
  onBatch: (batch: TailBatch) => void | Promise<void>;
  /** Read errors (other than the file not existing yet) and batch-callback failures. */
  onError?: (error: Error) => void;
  /** default 256 KiB */
  chunkBytes?: number;
  /** default 1000 ms */
  pollIntervalMs?: number;
  /** default true; false leaves only polling (tests, or filesystems where inotify is costly) */
  watch?: boolean;
  maxLineBytes?: number;
  truncationMarker?: TruncationMarker;
  /**
   * The uid the file must belong to. The file is the job's to replace: opened without
   * following a final symlink and without waiting on a FIFO, a file that is not a regular one
   * (or not the job's) is not read, as if it were not there (reported once).
   */
  owner?: number;
}

export interface StopOptions {
  /** Read everything up to the current end of the file before stopping. */
  drain?: boolean;
  /** With drain: also emit an unfinished last line (default true: the writer is finished). */
  flushPartial?: boolean;
}

const DEFAULT_CHUNK_BYTES = 256 * 1024;
const DEFAULT_POLL_MS = 1000;

function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** Opens that refuse the file (a link, a FIFO, someone else's): it is skipped like a missing one. */
function isRefused(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'E_UNSAFE_FILE' || code === 'ELOOP';
}

export class FileTailer {
  readonly path: string;
  private readonly opts: FileTailerOptions;
  private readonly splitter: LineSplitter;
  private readonly chunkBytes: number;
  private fh: fsp.FileHandle | null = null;
  private ino = -1;
  private watcher: fs.FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private pumping: Promise<void> | null = null;
  private again = false;
  /** No more wake-ups (stop called). */
  private stopped = false;
  /** Stop reading even in the middle of the file (stop without drain). */
  private aborted = false;
  private stopping: Promise<void> | null = null;
  /** Tells a re-entrant stop() (from inside onBatch) from a concurrent one. */
  private readonly inCallback = new AsyncLocalStorage<FileTailer>();
  /** Why the file was last refused: reported when it changes, not at every poll. */
  private refused: string | null = null;

  constructor(options: FileTailerOptions) {
    this.opts = options;
    this.path = options.path;
    this.splitter = new LineSplitter({
      startOffset: options.startOffset ?? 0,
      ...(options.maxLineBytes !== undefined && { maxLineBytes: options.maxLineBytes }),
      ...(options.truncationMarker !== undefined && { truncationMarker: options.truncationMarker }),
    });
    this.chunkBytes = Math.max(4096, options.chunkBytes ?? DEFAULT_CHUNK_BYTES);
  }

  /** Offset just past the last line delivered (or about to be delivered). */
  get offset(): number {
    return this.splitter.offset;
  }

  start(): this {
    if (this.stopped || this.timer !== null) return this;
    if (this.opts.watch !== false) this.startWatch();
    this.timer = setInterval(() => {
      // the directory may appear later, or a broken watcher may work again
      if (this.watcher === null && this.opts.watch !== false) this.startWatch();
      this.wake();
    }, this.opts.pollIntervalMs ?? DEFAULT_POLL_MS);
    this.wake();
    return this;
  }

  /** Reads now instead of at the next event or poll. */
  wake(): void {
    if (this.stopped) return;
    if (this.pumping !== null) {
      this.again = true;
      return;
    }
    this.pumping = this.pump();
  }

  /**
   * Stops following the file. Later calls return the first call's promise. Called from
   * inside onBatch (re-entrant), it cannot wait for that very callback: it stops without
   * draining and returns at once; the file is closed when the callback returns.
   */
  stop(options: StopOptions = {}): Promise<void> {
    if (this.stopping !== null) return this.stopping;
    this.stopped = true;
    this.watcher?.close();
    this.watcher = null;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.inCallback.getStore() === this) {
      this.aborted = true;
      return Promise.resolve();
    }
    this.aborted = options.drain !== true;
    this.stopping = this.finish(options);
    return this.stopping;
  }

  private async finish(options: StopOptions): Promise<void> {
    await this.pumping;
    try {
      if (options.drain === true) {
        await this.readAvailable();
        if (options.flushPartial !== false) {
          const lines = this.splitter.flush();
          if (lines.length > 0) await this.deliver({ lines, endOffset: this.splitter.offset });
        }
      }
    } catch (e) {
      this.report(e);
    } finally {
      await this.closeFile();
    }
  }

  private async closeFile(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    await fh?.close().catch(() => {});
  }

  private startWatch(): void {
    const base = path.basename(this.path);
    try {
      const watcher = fs.watch(path.dirname(this.path), { persistent: true }, (_event, name) => {
        if (name === null || name === base) this.wake();
      });
      // a failing watcher only costs latency: polling still runs (and retries the watch)
      watcher.on('error', () => {
        watcher.close();
        if (this.watcher === watcher) this.watcher = null;
      });
      this.watcher = watcher;
    } catch {
      this.watcher = null; // directory missing or no inotify slots: polling alone
    }
  }

  private async pump(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.readAvailable();
      } while (this.again && !this.stopped);
    } catch (e) {
      this.report(e);
    } finally {
      this.pumping = null;
      // stopped from inside a callback: nobody else will close the file
      if (this.stopped && this.stopping === null) await this.closeFile();
    }
  }

  /** Opens the file when it appears, notices truncation/replacement, reads to its end. */
  private async readAvailable(): Promise<void> {
    if (this.fh === null) {
      try {
        this.fh = await openForReading(this.path, this.opts.owner);
        this.refused = null;
      } catch (e) {
        if (isNotFound(e)) return; // not created yet
        if (!isRefused(e)) throw e;
        const why = (e as Error).message;
        if (why !== this.refused) this.report(new Error(`not following ${this.path}: ${why}`));
        this.refused = why;
        return;
      }
      this.ino = (await this.fh.stat()).ino;
    } else {
      const current = await fsp.stat(this.path).catch((e: unknown) => (isNotFound(e) ? null : Promise.reject(e)));
      if (current !== null && current.ino !== this.ino) {
        // replaced: finish the old file, then follow the new one from its start
        await this.readLoop();
        await this.fh.close();
        this.fh = null;
        if (this.aborted) return;
        await this.restartAtZero();
        return this.readAvailable();
      }
    }
    const size = (await this.fh.stat()).size;
    if (size < this.splitter.position) await this.restartAtZero();
    await this.readLoop();
  }

  private async restartAtZero(): Promise<void> {
    this.splitter.reset(0);
    await this.deliver({ lines: [], endOffset: 0, truncated: true });
  }

  private async readLoop(): Promise<void> {
    const fh = this.fh;
    if (fh === null) return;
    const available = (await fh.stat()).size - this.splitter.position;
    if (available <= 0) return;
    // sized to what is there (a quiet job does not hold a full chunk per tailer); the
    // splitter copies what it keeps, so one buffer serves the whole loop
    const buf = Buffer.allocUnsafe(Math.min(this.chunkBytes, Math.max(4096, available)));
    while (!this.aborted) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, this.splitter.position);
      if (bytesRead === 0) return;
      const lines = this.splitter.push(buf.subarray(0, bytesRead));
      if (lines.length > 0) await this.deliver({ lines, endOffset: this.splitter.offset });
    }
  }

  private async deliver(batch: TailBatch): Promise<void> {
    try {
      await this.inCallback.run(this, () => this.opts.onBatch(batch));
    } catch (e) {
      this.report(e);
    }
  }

  private report(e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    if (this.opts.onError) this.opts.onError(err);
    else process.emitWarning(`log tail of ${this.path}: ${err.message}`);
  }
}
