import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileTailer, type FileTailerOptions, type TailBatch } from '../../src/logs/file-tailer.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

function tempDir(t: Teardown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-tail-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function waitFor(probe: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(10);
  }
}

/** A tailer that collects its batches. */
function collect(
  t: Teardown,
  file: string,
  over: Partial<FileTailerOptions> = {},
): { tailer: FileTailer; batches: TailBatch[]; lines: () => string[] } {
  const batches: TailBatch[] = [];
  const tailer = new FileTailer({ path: file, pollIntervalMs: 50, onBatch: (b) => void batches.push(b), ...over });
  t.teardown(() => tailer.stop());
  return { tailer, batches, lines: () => batches.flatMap((b) => b.lines) };
}

for (const watch of [true, false]) {
  t.test(`a file created later, then growing (${watch ? 'fs.watch + polling' : 'polling only'})`, async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'out.log');
    const c = collect(t, file, { watch });
    c.tailer.start();
    await sleep(100);
    t.same(c.batches, [], 'nothing while the file does not exist');
    fs.writeFileSync(file, 'one\ntwo\n');
    await waitFor(() => c.lines().length === 2);
    fs.appendFileSync(file, 'thr');
    await sleep(150);
    t.same(c.lines(), ['one', 'two'], 'the partial line waits');
    fs.appendFileSync(file, 'ee\nfour\n');
    await waitFor(() => c.lines().length === 4);
    t.same(c.lines(), ['one', 'two', 'three', 'four']);
    t.equal(c.batches.at(-1)?.endOffset, fs.statSync(file).size);
  });
}

t.test('a directory created later still works (polling covers the missing watch)', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'later', 'out.log');
  const c = collect(t, file);
  c.tailer.start();
  await sleep(60);
  fs.mkdirSync(path.dirname(file));
  fs.writeFileSync(file, 'hello\n');
  await waitFor(() => c.lines().length === 1);
  t.same(c.lines(), ['hello']);
});

t.test('resume from a stored offset: nothing lost, nothing doubled', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'out.log');
  const all = Array.from({ length: 5000 }, (_, i) => `line ${i}`);
  fs.writeFileSync(file, all.slice(0, 3000).join('\n') + '\nline 3000 is parti');
  // small chunks: many batches; stop after a few, as a crashing daemon would
  let stored = 0;
  const firstLines: string[] = [];
  const tailer = new FileTailer({
    path: file,
    chunkBytes: 4096,
    pollIntervalMs: 50,
    onBatch: async (b) => {
      firstLines.push(...b.lines);
      stored = b.endOffset;
      if (firstLines.length > 1000) await tailer.stop(); // stop mid-file
    },
  });
  tailer.start();
  await waitFor(() => firstLines.length > 1000);
  await tailer.stop();
  t.ok(firstLines.length < 3000, 'stopped before the end');
  fs.appendFileSync(file, 'al\n' + all.slice(3001).join('\n') + '\n');

  const second = collect(t, file, { startOffset: stored });
  second.tailer.start();
  await waitFor(() => firstLines.length + second.lines().length >= 5000);
  await sleep(100);
  t.same([...firstLines, ...second.lines()], all.map((l, i) => (i === 3000 ? 'line 3000 is partial' : l)));
});

t.test('backpressure: one batch at a time, reading waits for the callback', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'out.log');
  fs.writeFileSync(file, Array.from({ length: 20_000 }, (_, i) => `l${i}`).join('\n') + '\n');
  let inFlight = 0;
  let maxInFlight = 0;
  let count = 0;
  let calls = 0;
  const tailer = new FileTailer({
    path: file,
    chunkBytes: 4096,
    pollIntervalMs: 10,
    onBatch: async (b) => {
      inFlight++;
      calls++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(2);
      count += b.lines.length;
      inFlight--;
    },
  });
  t.teardown(() => tailer.stop());
  tailer.start();
  await waitFor(() => count === 20_000);
  t.equal(maxInFlight, 1);
  t.ok(calls > 10, `many small batches (${calls})`);
});

t.test('truncation is detected and the file is followed again from its start', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'out.log');
  fs.writeFileSync(file, 'old 1\nold 2\nold 3\n');
  const c = collect(t, file);
  c.tailer.start();
  await waitFor(() => c.lines().length === 3);
  fs.writeFileSync(file, 'new\n');
  await waitFor(() => c.lines().length === 4);
  const reset = c.batches.find((b) => b.truncated === true);
  t.same(reset, { lines: [], endOffset: 0, truncated: true });
  t.same(c.lines(), ['old 1', 'old 2', 'old 3', 'new']);
  t.equal(c.tailer.offset, 4);
});

t.test('a stored offset beyond the end of the file counts as truncation', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'out.log');
  fs.writeFileSync(file, 'a\nb\n');
  const c = collect(t, file, { startOffset: 1000 });
  c.tailer.start();
  await waitFor(() => c.lines().length === 2);
  t.equal(c.batches[0]?.truncated, true);
});

t.test('stop({ drain: true }) reads to the end and flushes the last partial line', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'out.log');
  // a long poll interval and no watcher: only the drain can read what follows
  const c = collect(t, file, { watch: false, pollIntervalMs: 60_000 });
  c.tailer.start();
  fs.writeFileSync(file, 'a\nb\nno newline at the end');
  await c.tailer.stop({ drain: true });
  t.same(c.lines(), ['a', 'b', 'no newline at the end']);
  t.equal(c.batches.at(-1)?.endOffset, fs.statSync(file).size);
  fs.appendFileSync(file, 'more\n');
  await sleep(100);
  t.equal(c.lines().length, 3, 'nothing after stop');
});

t.test('stop without drain stops at once; drain with flushPartial false keeps the partial', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'out.log');
  fs.writeFileSync(file, 'x\npartial');
  const c = collect(t, file, { watch: false, pollIntervalMs: 60_000 });
  await c.tailer.stop({ drain: true, flushPartial: false });
  t.same(c.lines(), ['x']);
  t.equal(c.tailer.offset, 2, 'resume point before the partial line');
  const d = collect(t, file, { watch: false, pollIntervalMs: 60_000 });
  await d.tailer.stop();
  t.same(d.lines(), [], 'never started, no drain: nothing read');
});
