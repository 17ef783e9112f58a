/**
 * Incremental byte → line splitter for job output. Pure (no I/O).
 *
 * Lines are decoded as UTF-8 only once they are complete, so a multi-byte character split
 * across two chunks is never broken. A line is terminated by '\n'; one trailing '\r' is
 * removed (CRLF output). A line longer than maxLineBytes keeps its first maxLineBytes (cut
 * on a character boundary) plus a marker, and the rest up to the next '\n' is dropped: one
 * runaway line (a progress bar without newlines, a binary dump) cannot fill the store.
 *
 * `offset` is the byte offset in the file just past the last complete line consumed: a
 * tail that restarts there re-reads exactly the unfinished line, nothing more, nothing less.
 */

export type TruncationMarker = string | ((lineBytes: number) => string);

export interface LineSplitterOptions {
  /** Longest stored line in bytes (before the marker); default 64 KiB. */
  maxLineBytes?: number;
  /** Appended to a cut line; in a string, '{bytes}' is replaced by the line's full length. */
  truncationMarker?: TruncationMarker;
  /** File offset of the first byte that will be pushed (when resuming a tail). */
  startOffset?: number;
}

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;
export const DEFAULT_TRUNCATION_MARKER = ' [… line truncated by GRM: {bytes} bytes]';

const NL = 0x0a;
const CR = 0x0d;

export function formatMarker(marker: TruncationMarker, lineBytes: number): string {
  return typeof marker === 'function' ? marker(lineBytes) : marker.split('{bytes}').join(String(lineBytes));
}

/** Length of buf[0..end) without a trailing partial UTF-8 character (at most 3 bytes back). */
function charBoundary(buf: Buffer, end: number): number {
  let i = end;
  let back = 0;
  while (i > 0 && back < 3 && (buf[i - 1]! & 0xc0) === 0x80) {
    i--;
    back++;
  }
  if (i === 0) return end;
  const lead = buf[i - 1]!;
  if (lead < 0xc0) return end; // ASCII or stray continuation bytes: nothing to repair
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
  return end - (i - 1) >= need ? end : i - 1;
}

export class LineSplitter {
  private readonly maxLineBytes: number;
  private readonly marker: TruncationMarker;
  /** Kept bytes of the current unfinished line (copies: callers may reuse their buffers). */
  private parts: Buffer[] = [];
  private keptBytes = 0;
  /** Full length of the current line so far, dropped bytes included. */
  private lineBytes = 0;
  private truncated = false;
  private lineEnd: number;
  private fed: number;

  constructor(options: LineSplitterOptions = {}) {
    this.maxLineBytes = Math.max(4, options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    this.marker = options.truncationMarker ?? DEFAULT_TRUNCATION_MARKER;
    this.lineEnd = options.startOffset ?? 0;
    this.fed = this.lineEnd;
  }

  /** Byte offset just past the last complete line consumed (after flush(): everything fed). */
  get offset(): number {
    return this.lineEnd;
  }

  /** Byte offset just past everything pushed so far. */
  get position(): number {
    return this.fed;
  }

  /** Bytes of an unfinished line held back. */
  get pendingBytes(): number {
    return this.fed - this.lineEnd;
  }

  /** Forgets any unfinished line and restarts at the given file offset (file truncated). */
  reset(offset = 0): void {
    this.clearLine();
    this.lineEnd = offset;
    this.fed = offset;
  }

  /** Feeds a chunk; returns the lines it completed. */
  push(chunk: Uint8Array): string[] {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const base = this.fed;
    this.fed += buf.length;
    const lines: string[] = [];
    let start = 0;
    while (start <= buf.length) {
      const nl = buf.indexOf(NL, start);
      const end = nl === -1 ? buf.length : nl;
      if (nl !== -1 && this.lineBytes === 0 && end - start <= this.maxLineBytes) {
        // fast path: the whole line is inside this chunk
        const stop = end > start && buf[end - 1] === CR ? end - 1 : end;
        lines.push(buf.toString('utf8', start, stop));
      } else {
        this.append(buf, start, end);
        if (nl === -1) break;
        lines.push(this.takeLine());
      }
      this.lineEnd = base + nl + 1;
      start = nl + 1;
    }
    return lines;
  }

  /** Emits the unfinished last line, if any (call only when the writer is finished). */
  flush(): string[] {
    const lines = this.lineBytes > 0 ? [this.takeLine()] : [];
    this.lineEnd = this.fed;
    return lines;
  }

  private append(buf: Buffer, start: number, end: number): void {
    const len = end - start;
    if (len === 0) return;
    this.lineBytes += len;
    const room = this.maxLineBytes - this.keptBytes;
    const take = Math.min(room, len);
    if (take > 0) {
      this.parts.push(Buffer.from(buf.subarray(start, start + take)));
      this.keptBytes += take;
    }
    if (take < len) this.truncated = true;
  }

  private takeLine(): string {
    const buf = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.keptBytes);
    let text: string;
    if (this.truncated) {
      text = buf.toString('utf8', 0, charBoundary(buf, buf.length)) + formatMarker(this.marker, this.lineBytes);
    } else {
      const stop = buf.length > 0 && buf[buf.length - 1] === CR ? buf.length - 1 : buf.length;
      text = buf.toString('utf8', 0, stop);
    }
    this.clearLine();
    return text;
  }

  private clearLine(): void {
    this.parts = [];
    this.keptBytes = 0;
    this.lineBytes = 0;
    this.truncated = false;
  }
}
