// Preloaded into the daemon by bench/queue.mjs (BENCH_RSS_DETAIL=1): answers 'memory' over the
// IPC channel with the daemon's own figures (process.memoryUsage() and V8's spaces). Bench only.
import fs from 'node:fs';
import v8 from 'node:v8';

const mib = (bytes) => (bytes / 1048576).toFixed(1);

process.on('message', (m) => {
  if (m !== 'memory') return;
  const spaces = v8
    .getHeapSpaceStatistics()
    .filter((s) => s.space_size > 0)
    .map((s) => `${s.space_name.replace(/_space$/, '')} ${mib(s.space_size)}`)
    .join(', ');
  const threads = Number(/Threads:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
  process.send({ ...process.memoryUsage(), spaces, threads });
});
// the channel must not keep a daemon alive that would otherwise exit
process.channel?.unref();
