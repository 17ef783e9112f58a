// A job's log lines kept compactly: columns in typed arrays (seq, time, source index) plus one
// array of strings, and views (a source filter, search matches) as arrays of indices. It holds
// 200,000+ lines without one object per line.

const ERROR_RE = /error|exception|traceback/i;

class GrowableArray {
  constructor(Type, capacity = 4096) { this.Type = Type; this.a = new Type(capacity); this.length = 0; }
  push(v) {
    if (this.length === this.a.length) {
      const b = new this.Type(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.length++] = v;
  }
  get(i) { return this.a[i]; }
  clear() { this.length = 0; }
}

export class LogStore {
  constructor() {
    this.seq = new GrowableArray(Float64Array);
    this.time = new GrowableArray(Float64Array);
    this.src = new GrowableArray(Uint16Array);
    this.rank = new GrowableArray(Int32Array); // -1: no srun --label rank
    this.ranks = []; // the ranks seen, ascending
    this.run = new GrowableArray(Uint16Array); // the job's run: 0 the first, 1 after a requeue...
    this.runs = []; // the runs seen, ascending
    this.text = [];
    this.sources = []; // index -> name
    this.sourceIds = new Map(); // name -> index
    this.counts = []; // index -> lines
    this.lastSeq = 0;
    this.firstError = -1; // store index of the first stderr line or error-looking line
  }

  get length() { return this.text.length; }

  /** Appends lines in seq order; lines already held (a resumed stream) are skipped. Returns how many were new. */
  append(lines) {
    let added = 0;
    for (const l of lines) {
      if (l.seq <= this.lastSeq) continue;
      let s = this.sourceIds.get(l.source);
      if (s === undefined) {
        s = this.sources.length;
        this.sources.push(l.source);
        this.sourceIds.set(l.source, s);
        this.counts.push(0);
      }
      const i = this.text.length;
      this.seq.push(l.seq);
      this.time.push(Date.parse(l.time));
      this.src.push(s);
      const rank = Number.isInteger(l.rank) ? l.rank : -1;
      this.rank.push(rank);
      if (rank >= 0 && !this.ranks.includes(rank)) this.ranks = [...this.ranks, rank].sort((a, b) => a - b);
      const run = Number.isInteger(l.run) ? l.run : 0;
      this.run.push(run);
      if (!this.runs.includes(run)) this.runs = [...this.runs, run].sort((a, b) => a - b);
      this.text.push(l.line);
      this.counts[s]++;
      this.lastSeq = l.seq;
      if (this.firstError < 0 && (l.source === 'stderr' || ERROR_RE.test(l.line))) this.firstError = i;
      added++;
    }
    return added;
  }

  source(i) { return this.sources[this.src.get(i)]; }
}

/**
 * The lines on show: all of them, or one source's, one rank's, one run's, or any mix. `at(k)` is the store
 * index of the k-th row. `sync()` takes in lines appended to the store since the last call.
 */
export class LogView {
  constructor(store) {
    this.store = store;
    this.sourceId = -1; // -1: every source
    this.rank = -1; // -1: every rank
    this.run = -1; // -1: every run
    this.idx = null;
    this.seen = 0;
  }

  setSource(name) {
    this.sourceName = name;
    this.sourceId = name ? (this.store.sourceIds.get(name) ?? -2) : -1;
    this.refilter();
  }

  /** Only the lines of this srun --label rank; -1 for every line. */
  setRank(rank) {
    this.rank = rank;
    this.refilter();
  }

  /** Only the lines of this run of a requeued job (0: the first); -1 for every line. */
  setRun(run) {
    this.run = run;
    this.refilter();
  }

  refilter() {
    this.idx = this.sourceId === -1 && this.rank === -1 && this.run === -1 ? null : new GrowableArray(Uint32Array);
    this.seen = 0;
    this.sync();
  }

  shows(i) {
    return (this.sourceId === -1 || this.store.src.get(i) === this.sourceId) && (this.rank === -1 || this.store.rank.get(i) === this.rank) &&
      (this.run === -1 || this.store.run.get(i) === this.run);
  }

  /** Returns the view position where the new lines start. */
  sync() {
    const start = this.length;
    if (this.idx) {
      if (this.sourceId === -2) { // a source not seen yet when chosen
        const id = this.store.sourceIds.get(this.sourceName ?? '');
        if (id !== undefined) this.sourceId = id;
      }
      for (let i = this.seen; i < this.store.length; i++) if (this.shows(i)) this.idx.push(i);
    }
    this.seen = this.store.length;
    return start;
  }

  get length() { return this.idx ? this.idx.length : this.seen; }
  at(k) { return this.idx ? this.idx.get(k) : k; }
  /** The view position of a store index, or -1 when filtered out. */
  positionOf(i) {
    if (!this.idx) return i < this.seen ? i : -1;
    let lo = 0;
    let hi = this.idx.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.idx.get(mid);
      if (v === i) return mid;
      if (v < i) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}

export const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Case-insensitive search over a view: the view positions whose text contains the term. */
export class LogSearch {
  constructor(view) { this.view = view; this.term = ''; this.re = null; this.hits = []; this.scanned = 0; this.current = -1; }

  setTerm(term) {
    this.term = term;
    this.re = term ? new RegExp(escapeRegExp(term), 'gi') : null;
    this.reset();
  }

  reset() { this.hits = []; this.scanned = 0; this.current = -1; this.scan(); }

  /** Scans view rows not yet scanned (after an append). */
  scan() {
    if (!this.term) { this.scanned = this.view.length; return; }
    const needle = this.term.toLowerCase();
    const { store } = this.view;
    for (let k = this.scanned; k < this.view.length; k++) {
      if (store.text[this.view.at(k)].toLowerCase().includes(needle)) this.hits.push(k);
    }
    this.scanned = this.view.length;
  }

  /** Moves to the next (+1) or previous (-1) hit from the current one, or from `fromRow`. */
  step(dir, fromRow) {
    if (!this.hits.length) return -1;
    if (this.current < 0 && fromRow !== undefined) {
      // first move: the first hit at/after (or before) the row in view
      let i = this.hits.findIndex((k) => k >= fromRow);
      if (dir < 0) i = i < 0 ? this.hits.length - 1 : (this.hits[i] === fromRow ? i : i - 1);
      this.current = i < 0 ? (dir > 0 ? 0 : this.hits.length - 1) : i;
    } else {
      this.current = (this.current + dir + this.hits.length) % this.hits.length;
    }
    return this.hits[this.current];
  }
}
