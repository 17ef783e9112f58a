import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CACHED_JOBS,
  capNotice,
  LogAggregator,
  watchJobOutput,
  type LogOffset,
  type LogSink,
  type StoredLogLine,
} from '../../src/logs/log-aggregator.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What the SQLite store will do, in memory: lines and offsets of one append commit together. */
class MemorySink implements LogSink {
  lines: StoredLogLine[] = [];
  offsets = new Map<string, LogOffset>();
  appends: { lines: number; offsets: LogOffset[] }[] = [];
  failing = false;
  lastSeq(jobId: number): number {
    return this.lines.filter((l) => l.jobId === jobId).reduce((m, l) => Math.max(m, l.seq), 0);
  }
  append(lines: StoredLogLine[], offsets: LogOffset[]): void {
    if (this.failing) throw new Error('disk full');
    this.lines.push(...lines);
    for (const o of offsets) this.offsets.set(`${o.jobId}/${o.source}/${o.path}`, o);
    this.appends.push({ lines: lines.length, offsets });
  }
  job(jobId: number): StoredLogLine[] {
    return this.lines.filter((l) => l.jobId === jobId);
  }
}

interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

function aggregator(t: Teardown, sink: LogSink, opts: ConstructorParameters<typeof LogAggregator>[1] = {}): LogAggregator {
  const a = new LogAggregator(sink, { flushIntervalMs: 60_000, ...opts });
  t.teardown(() => {
    try {
      a.close();
    } catch {
      // a test that left the sink failing
    }
  });
  return a;
}

t.test('order and seq per job, across sources; ts at ingest', async (t) => {
  const sink = new MemorySink();
  let now = 1000;
  const a = aggregator(t, sink, { now: () => now++ });
  a.ingest({ jobId: 1, source: 'stdout', lines: ['a1', 'a2'] });
  a.ingest({ jobId: 2, source: 'stdout', lines: ['b1'] });
  a.ingest({ jobId: 1, source: 'stderr', lines: ['a3'] });
  a.note(1, 'GRM: hello');
  a.ingest({ jobId: 2, source: 'compss:runtime.log', lines: ['b2'] });
  a.flush();
  t.same(
    sink.job(1).map((l) => [l.seq, l.source, l.line, l.ts]),
    [
      [1, 'stdout', 'a1', 1000],
      [2, 'stdout', 'a2', 1000],
      [3, 'stderr', 'a3', 1002],
      [4, 'grm', 'GRM: hello', 1003],
    ],
  );
  t.same(sink.job(2).map((l) => [l.seq, l.source, l.line]), [
    [1, 'stdout', 'b1'],
    [2, 'compss:runtime.log', 'b2'],
  ]);
});

t.test('a restart continues the sequence the sink stored', async (t) => {
  const sink = new MemorySink();
  sink.lines.push({ jobId: 7, seq: 41, ts: 1, source: 'stdout', line: 'old' });
  const a = aggregator(t, sink);
  a.ingest({ jobId: 7, source: 'stdout', lines: ['new'] });
  a.flush();
  t.equal(sink.job(7).at(-1)?.seq, 42);
});

t.test('batching by size', async (t) => {
  const sink = new MemorySink();
  const a = aggregator(t, sink, { flushLines: 3 });
  a.ingest({ jobId: 1, source: 'stdout', lines: ['1', '2'] });
  t.equal(sink.appends.length, 0, 'below the threshold: buffered');
  t.equal(a.bufferedLines, 2);
  a.ingest({ jobId: 1, source: 'stdout', lines: ['3', '4', '5', '6', '7'] });
  t.same(sink.appends.map((x) => x.lines), [7], 'flushed after the batch that reached 3 lines: batches are not split');
  t.equal(a.bufferedLines, 0);
  a.ingest({ jobId: 1, source: 'stdout', lines: ['8', '9', '10'] });
  t.same(sink.appends.map((x) => x.lines), [7, 3]);
});

t.test('batching by time', async (t) => {
  const sink = new MemorySink();
  const a = aggregator(t, sink, { flushLines: 1000, flushIntervalMs: 80 });
  a.ingest({ jobId: 1, source: 'stdout', lines: ['x'] });
  await sleep(20);
  a.ingest({ jobId: 1, source: 'stdout', lines: ['y'] });
  t.equal(sink.lines.length, 0);
  await sleep(150);
  t.same(sink.appends.map((x) => x.lines), [2], 'one flush, timed from the first line');
});

t.test('offsets are stored with exactly the lines they end', async (t) => {
  const sink = new MemorySink();
  const a = aggregator(t, sink, { flushLines: 4 });
  a.ingest({ jobId: 1, source: 'stdout', path: '/j/out', endOffset: 10, lines: ['1', '2'] });
  a.ingest({ jobId: 1, source: 'stderr', path: '/j/err', endOffset: 3, lines: ['e'] });
  a.flush();
  t.same(sink.appends[0], {
    lines: 3,
    offsets: [
      { jobId: 1, source: 'stdout', path: '/j/out', offset: 10 },
      { jobId: 1, source: 'stderr', path: '/j/err', offset: 3 },
    ],
  });
  a.ingest({ jobId: 1, source: 'stdout', path: '/j/out', endOffset: 20, lines: ['3'] });
  a.ingest({ jobId: 1, source: 'stdout', path: '/j/out', endOffset: 30, lines: ['4', '5', '6', '7', '8'] });
  t.same(sink.appends[1], { lines: 6, offsets: [{ jobId: 1, source: 'stdout', path: '/j/out', offset: 30 }] }, 'the latest offset per file');
  a.ingest({ jobId: 1, source: 'stderr', path: '/j/err', endOffset: 0, lines: [] });
  a.flush();
  t.same(sink.appends[2], { lines: 0, offsets: [{ jobId: 1, source: 'stderr', path: '/j/err', offset: 0 }] }, 'offset-only flush');
});

t.test('subscribers get stored lines only, of their job; unsubscribe', async (t) => {
  const sink = new MemorySink();
  const a = aggregator(t, sink);
  const got: StoredLogLine[][] = [];
  const off = a.subscribe(1, (lines) => got.push(lines));
  a.subscribe(1, () => {
    throw new Error('a broken subscriber does not hurt the others');
  });
  a.ingest({ jobId: 1, source: 'stdout', lines: ['a'] });
  a.ingest({ jobId: 2, source: 'stdout', lines: ['other job'] });
  t.same(got, [], 'nothing before it is stored');
  a.flush();
  t.equal(got.length, 1);
  t.same(got[0], sink.job(1), 'exactly what was stored');
  off();
  a.ingest({ jobId: 1, source: 'stdout', lines: ['b'] });
  a.flush();
  t.equal(got.length, 1, 'no more after unsubscribe');
});

t.test('per-job cap: one GRM line, the rest dropped, offsets still advance; survives a restart', async (t) => {
  const sink = new MemorySink();
  const a = aggregator(t, sink, { maxLinesPerJob: 3, flushLines: 2 });
  a.ingest({ jobId: 1, source: 'stdout', path: '/o', endOffset: 100, lines: ['1', '2', '3', '4', '5'] });
  a.ingest({ jobId: 2, source: 'stdout', lines: ['other'] });
  a.ingest({ jobId: 1, source: 'stderr', lines: ['6'] });
  a.flush();
  t.same(
    sink.job(1).map((l) => [l.seq, l.source, l.line]),
    [
      [1, 'stdout', '1'],
      [2, 'stdout', '2'],
      [3, 'stdout', '3'],
      [4, 'grm', capNotice(3)],
    ],
  );
  t.equal(capNotice(3), 'GRM: output cap of 3 lines reached; further output is not stored');
  t.equal(sink.offsets.get('1/stdout//o')?.offset, 100);
  t.equal(sink.job(2).length, 1, 'other jobs unaffected');

  const b = aggregator(t, sink, { maxLinesPerJob: 3 });
  b.ingest({ jobId: 1, source: 'stdout', lines: ['7'] });
  b.flush();
  t.equal(sink.job(1).length, 4, 'still capped after a restart, no second notice');
});

t.test('the numbering cache is bounded: a forgotten job continues from the sink, a buffered one is kept', async (t) => {
  const sink = new MemorySink();
  const asked: number[] = [];
  const lastSeq = sink.lastSeq.bind(sink);
  sink.lastSeq = (jobId) => {
    asked.push(jobId);
    return lastSeq(jobId);
  };
  const a = aggregator(t, sink, { flushLines: 100_000 });
  const jobs = CACHED_JOBS + 10;
  for (let id = 1; id <= jobs; id++) a.ingest({ jobId: id, source: 'grm', lines: ['submitted'] });
  // nothing stored yet: job 1 must keep its numbering although more jobs than cached logged since
  a.ingest({ jobId: 1, source: 'stdout', lines: ['second'] });
  t.same(sink.job(1), [], 'not flushed yet');
  a.flush();
  t.same(sink.job(1).map((l) => l.seq), [1, 2], 'no seq reused while the lines were buffered');
  t.equal(asked.length, jobs, 'the sink was asked once per job');

  a.ingest({ jobId: 2, source: 'stdout', lines: ['later'] });
  a.flush();
  t.same(asked.slice(jobs), [2], 'job 2 (least recently logging) was forgotten and asked again');
  t.same(sink.job(2).map((l) => [l.seq, l.line]), [[1, 'submitted'], [2, 'later']], 'its numbering continues');
  a.ingest({ jobId: jobs, source: 'stdout', lines: ['x'] });
  t.equal(asked.length, jobs + 1, 'a recent job is still cached');
});

t.test('a failing sink keeps the data for the next flush', async (t) => {
  const sink = new MemorySink();
  const errors: Error[] = [];
  const a = aggregator(t, sink, { flushLines: 2, onError: (e) => errors.push(e) });
  sink.failing = true;
  a.ingest({ jobId: 1, source: 'stdout', path: '/o', endOffset: 3, lines: ['1', '2'] });
  a.ingest({ jobId: 1, source: 'stdout', path: '/o', endOffset: 5, lines: ['3'] });
  t.equal(errors.length, 1, 'reported once, no retry per batch until the timer');
  t.throws(() => a.flush(), /disk full/);
  sink.failing = false;
  a.flush();
  t.same(sink.job(1).map((l) => l.line), ['1', '2', '3']);
  t.equal(sink.offsets.get('1/stdout//o')?.offset, 5);
});

t.test('close flushes; ingest after close throws', async (t) => {
  const sink = new MemorySink();
  const a = new LogAggregator(sink, { flushIntervalMs: 60_000 });
  a.ingest({ jobId: 1, source: 'stdout', lines: ['x'] });
  a.close();
  t.equal(sink.lines.length, 1);
  t.throws(() => a.ingest({ jobId: 1, source: 'stdout', lines: ['y'] }), /closed/);
});

t.test('watchJobOutput: both files, offsets, one tail for a shared file, drain', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-agg-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'out');
  const err = path.join(dir, 'err');
  fs.writeFileSync(out, 'already stored\nnew out\n');
  fs.writeFileSync(err, 'e1\ne2 partial');
  const sink = new MemorySink();
  const a = aggregator(t, sink);
  const w = watchJobOutput({
    aggregator: a,
    jobId: 3,
    files: [
      { source: 'stdout', path: out, offset: 'already stored\n'.length },
      { source: 'stderr', path: err },
      { source: 'stderr', path: out },
    ],
    tailer: { pollIntervalMs: 50 },
  });
  t.equal(w.tailers.length, 2, 'the duplicate path is followed once');
  await w.stop({ drain: true });
  t.same(sink.job(3).map((l) => `${l.source}:${l.line}`).sort(), ['stderr:e1', 'stderr:e2 partial', 'stdout:new out']);
  t.equal(sink.offsets.get(`3/stdout/${out}`)?.offset, fs.statSync(out).size);
  t.equal(sink.offsets.get(`3/stderr/${err}`)?.offset, fs.statSync(err).size);
});

t.test('a sink fault: reported once (not at each retry), shown, waited on, and its end told with the jobs whose lines waited', async (t) => {
  const sink = new MemorySink();
  let now = 1000;
  const errors: string[] = [];
  const recovered: { message: string; waitingLines: number; jobIds: number[]; pausedMs: number }[] = [];
  const a = new LogAggregator(sink, {
    flushLines: 1,
    flushIntervalMs: 5,
    now: () => now,
    onError: (e) => errors.push(e.message),
    onRecovered: (fault, jobIds, pausedMs) => recovered.push({ message: fault.message, waitingLines: fault.waitingLines, jobIds, pausedMs }),
  });
  t.teardown(() => a.close());
  let attempts = 0;
  const append = sink.append.bind(sink);
  sink.append = (lines, offsets) => (attempts++, append(lines, offsets));
  sink.failing = true;
  a.ingest({ jobId: 1, source: 'stdout', lines: ['a'] });
  a.ingest({ jobId: 2, source: 'stdout', lines: ['b'] });
  t.same(a.ingestFault, { since: 1000, message: 'disk full', waitingLines: 2 });
  let writable = false;
  const waited = a.whenWritable().then(() => (writable = true));
  // several timed retries fail
  while (attempts < 4) await sleep(5);
  t.same(errors, ['disk full'], 'reported once');
  t.notOk(writable, 'waiters wait while the sink fails');
  now = 4000;
  sink.failing = false;
  await waited;
  t.same(recovered, [{ message: 'disk full', waitingLines: 2, jobIds: [1, 2], pausedMs: 3000 }]);
  t.equal(a.ingestFault, null);
  t.same(sink.lines.map((l) => l.line), ['a', 'b'], 'nothing lost');
  await a.whenWritable();
  t.pass('a writable sink does not make anyone wait');
});
