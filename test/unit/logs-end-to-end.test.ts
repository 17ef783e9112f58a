/**
 * A real master (through the supervisor) writes 100,000 numbered lines; the tailers and the
 * aggregator must store every one exactly once and in order, also across a daemon "crash".
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogAggregator, watchJobOutput, type LogOffset, type LogSink, type StoredLogLine } from '../../src/logs/log-aggregator.js';
import { launchMaster, type MasterHandle } from '../../src/runtime/master-launcher.js';
import { signalGroup } from '../../src/runtime/proc.js';

import '../helpers/no-spawn-hook.js';

const N = 100_000;
const SCRIPT = `for i in $(seq 1 ${N}); do echo "line $i"; if (( i % 10000 == 0 )); then echo "err $i" >&2; fi; done`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class MemorySink implements LogSink {
  lines: StoredLogLine[] = [];
  offsets = new Map<string, LogOffset>();
  frozen = false;
  lastSeq(jobId: number): number {
    return this.lines.filter((l) => l.jobId === jobId).reduce((m, l) => Math.max(m, l.seq), 0);
  }
  append(lines: StoredLogLine[], offsets: LogOffset[]): void {
    if (this.frozen) throw new Error('daemon is dead');
    this.lines.push(...lines);
    for (const o of offsets) this.offsets.set(o.source, o);
  }
}

interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

/** The assertions check() uses (tap's Test has them all). */
interface Tap {
  equal(...args: any[]): unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
  same(...args: any[]): unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
  comment(...args: any[]): void; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function start(t: Teardown): Promise<{ h: MasterHandle; out: string; err: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-e2e-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const jobDir = path.join(dir, 'job');
  fs.mkdirSync(jobDir);
  const out = path.join(jobDir, 'slurm-1.out');
  const err = path.join(jobDir, 'slurm-1.err');
  const h = await launchMaster({
    jobId: 1,
    command: 'bash',
    args: ['-c', SCRIPT],
    cwd: dir,
    env: { PATH: '/usr/bin:/bin' },
    stdoutPath: out,
    stderrPath: err,
    jobDir,
  });
  t.teardown(() => void signalGroup(h.pgid, 'SIGKILL'));
  return { h, out, err };
}

function check(t: Tap, sink: MemorySink, out: string, err: string): void {
  const stdout = sink.lines.filter((l) => l.source === 'stdout');
  const stderr = sink.lines.filter((l) => l.source === 'stderr');
  t.equal(stdout.length, N, 'every stdout line stored once');
  let prev = 0;
  for (const l of stdout) {
    const n = Number(l.line.slice('line '.length));
    if (n !== prev + 1) {
      t.comment(`first discontinuity: line ${prev} then line ${n} (seq ${l.seq})`);
      break;
    }
    prev = n;
  }
  let bad = -1;
  for (let i = 0; i < stdout.length && bad < 0; i++) if (stdout[i]!.line !== `line ${i + 1}`) bad = i;
  t.equal(bad, -1, 'in order, none missing, none doubled');
  t.same(
    stderr.map((l) => l.line),
    Array.from({ length: 10 }, (_, i) => `err ${(i + 1) * 10000}`),
  );
  t.same(
    sink.lines.map((l) => l.seq),
    Array.from({ length: sink.lines.length }, (_, i) => i + 1),
    'seq 1..n without gaps, across sources',
  );
  t.equal(sink.offsets.get('stdout')?.offset, fs.statSync(out).size, 'stored stdout offset = end of file');
  t.equal(sink.offsets.get('stderr')?.offset, fs.statSync(err).size);
}


t.test('100,000 lines reach the sink exactly once and in order', async (t) => {
  const { h, out, err } = await start(t);
  const sink = new MemorySink();
  const agg = new LogAggregator(sink, { flushLines: 1000, flushIntervalMs: 50 });
  t.teardown(() => agg.close());
  let live = 0;
  agg.subscribe(1, (lines) => (live += lines.length));
  const watch = watchJobOutput({
    aggregator: agg,
    jobId: 1,
    files: [
      { source: 'stdout', path: out },
      { source: 'stderr', path: err },
    ],
    tailer: { pollIntervalMs: 50 },
  });
  const st = await h.exited;
  t.equal(st.exitCode, 0);
  await watch.stop({ drain: true });
  check(t, sink, out, err);
  t.equal(live, N + 10, 'subscribers saw every stored line');
});

t.test('a daemon crash mid-stream: the next daemon resumes from the stored offsets', async (t) => {
  const { h, out, err } = await start(t);
  const sink = new MemorySink();
  const files = (s: MemorySink): { source: string; path: string; offset: number }[] => [
    { source: 'stdout', path: out, offset: s.offsets.get('stdout')?.offset ?? 0 },
    { source: 'stderr', path: err, offset: s.offsets.get('stderr')?.offset ?? 0 },
  ];

  const agg1 = new LogAggregator(sink, { flushLines: 500, flushIntervalMs: 20, onError: () => {} });
  const w1 = watchJobOutput({ aggregator: agg1, jobId: 1, files: files(sink), tailer: { pollIntervalMs: 20, chunkBytes: 16 * 1024 } });
  while (sink.lines.length < 5000) await sleep(5);
  // crash: whatever is buffered and not committed is lost, with its offsets
  sink.frozen = true;
  await w1.stop().catch(() => {});
  try {
    agg1.close();
  } catch {
    // the sink refuses: the buffered lines die with the "daemon"
  }
  sink.frozen = false;
  const before = sink.lines.length;
  t.ok(before >= 5000 && before < N, `crashed after ${before} stored lines`);

  const agg2 = new LogAggregator(sink, { flushLines: 1000, flushIntervalMs: 50 });
  t.teardown(() => agg2.close());
  const w2 = watchJobOutput({ aggregator: agg2, jobId: 1, files: files(sink), tailer: { pollIntervalMs: 50 } });
  await h.exited;
  await w2.stop({ drain: true });
  check(t, sink, out, err);
});
