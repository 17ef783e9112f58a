import t from 'tap';
import { SMALL_CLUSTER, startDaemon, type TestDaemon } from '../helpers/daemon.js';

const sh = (body: string) => `#!/bin/bash\n${body}\n`;

interface SseEvent {
  event: string;
  id?: string;
  data: any;
}

/** Reads Server-Sent Events until `end` (or `stopAfter` line events: then disconnects). */
async function readSse(d: TestDaemon, route: string, headers: Record<string, string> = {}, stopAfter = Infinity, onOpen?: () => void): Promise<SseEvent[]> {
  const controller = new AbortController();
  const res = await fetch(`${d.url}${route}`, { headers: { authorization: `Bearer ${d.token}`, ...headers }, signal: controller.signal });
  if (res.status !== 200) throw new Error(`SSE ${res.status}: ${await res.text()}`);
  onOpen?.();
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let text = '';
  let lines = 0;
  const reader = res.body!.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return events;
    text += decoder.decode(value, { stream: true });
    let cut: number;
    while ((cut = text.indexOf('\n\n')) >= 0) {
      const block = text.slice(0, cut);
      text = text.slice(cut + 2);
      const ev: SseEvent = { event: 'message', data: undefined };
      for (const field of block.split('\n')) {
        if (field.startsWith('event: ')) ev.event = field.slice(7);
        else if (field.startsWith('id: ')) ev.id = field.slice(4);
        else if (field.startsWith('data: ')) ev.data = JSON.parse(field.slice(6));
      }
      if (ev.data === undefined) continue; // comments, retry
      events.push(ev);
      if (ev.event === 'line' && ++lines >= stopAfter) {
        controller.abort();
        return events;
      }
      if (ev.event === 'end') {
        controller.abort();
        return events;
      }
    }
  }
}

async function allStored(d: TestDaemon, id: number) {
  return (await d.api('GET', `/api/v1/jobs/${id}/logs?limit=100000`)).body.lines as { seq: number; line: string; source: string }[];
}

t.test('a client connected before the job starts gets every line, then end', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  // held, so it waits however slow the machine is; released once the stream is open
  const res = await d.api('POST', '/api/v1/jobs', {
    hold: true,
    script: sh('for i in $(seq 1 300); do echo "line $i"; done\nsleep 0.3\nfor i in $(seq 301 600); do echo "line $i"; done\necho oops >&2'),
  });
  t.equal(res.status, 201);
  const id = res.body.job_id;
  t.equal((await d.api('GET', `/api/v1/jobs/${id}`)).body.job_state, 'PENDING', 'connected while the job waits');
  let opened!: () => void;
  const open = new Promise<void>((resolve) => (opened = resolve));
  const reading = readSse(d, `/api/v1/jobs/${id}/logs/stream`, {}, Infinity, opened);
  await open;
  t.equal((await d.api('POST', `/api/v1/jobs/${id}/release`)).status, 200, 'released while connected');
  const events = await reading;
  const end = events[events.length - 1]!;
  t.equal(end.event, 'end');
  t.same(end.data, { job_state: 'COMPLETED' });
  const lines = events.filter((e) => e.event === 'line');
  t.same(lines.map((e) => Number(e.id)), lines.map((e) => e.data.seq), 'id is the seq');
  const stored = await allStored(d, id);
  t.same(lines.map((e) => e.data.seq), stored.map((l) => l.seq), 'every stored line once, in order');
  t.same(lines.map((e) => e.data.seq), Array.from({ length: stored.length }, (_, i) => i + 1), 'seq is contiguous');
  t.same(
    lines.filter((e) => e.data.source === 'stdout').map((e) => e.data.line),
    Array.from({ length: 600 }, (_, i) => `line ${i + 1}`),
  );
  t.ok(lines.some((e) => e.data.source === 'grm' && /-> COMPLETED/.test(e.data.line)), 'the last GRM line is sent before end');
  t.match(lines[0]!.data.time, /^\d{4}-\d\d-\d\dT/);

  // a filtered stream of the finished job
  const errs = await readSse(d, `/api/v1/jobs/${id}/logs/stream?source=stderr`);
  t.same(errs.filter((e) => e.event === 'line').map((e) => e.data.line), ['oops']);
  t.equal(errs[errs.length - 1]!.event, 'end');
});

t.test('a reconnect with Last-Event-ID gets exactly the missing lines', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const res = await d.api('POST', '/api/v1/jobs', {
    script: sh('for i in $(seq 1 40); do for j in $(seq 1 25); do echo "chunk $i line $j"; done; sleep 0.02; done'),
  });
  const id = res.body.job_id;
  await d.waitForState(id, ['RUNNING', 'COMPLETING', 'COMPLETED']);
  const first = await readSse(d, `/api/v1/jobs/${id}/logs/stream`, {}, 120);
  t.equal(first.length, 120, 'disconnected after 120 lines');
  const lastId = first[first.length - 1]!.id!;
  const rest = await readSse(d, `/api/v1/jobs/${id}/logs/stream`, { 'Last-Event-ID': lastId });
  t.equal(rest[rest.length - 1]!.event, 'end');
  const seqs = [...first, ...rest].filter((e) => e.event === 'line').map((e) => e.data.seq);
  const stored = await allStored(d, id);
  t.same(seqs, stored.map((l) => l.seq), 'no gap, no duplicate across the reconnect');
  t.equal(stored.filter((l) => l.source === 'stdout').length, 1000);

  const after = await readSse(d, `/api/v1/jobs/${id}/logs/stream?after=${stored.length - 2}`);
  t.same(after.filter((e) => e.event === 'line').map((e) => e.data.seq), [stored.length - 1, stored.length]);

  const bad = await fetch(`${d.url}/api/v1/jobs/${id}/logs/stream`, { headers: { authorization: `Bearer ${d.token}`, 'Last-Event-ID': 'abc' } });
  t.equal(bad.status, 400);
  t.equal(((await bad.json()) as any).error.field, 'Last-Event-ID');
  const missing = await fetch(`${d.url}/api/v1/jobs/999/logs/stream`, { headers: { authorization: `Bearer ${d.token}` } });
  t.equal(missing.status, 404);
  await missing.text();
});

t.test('the daemon stops with a stream still open', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const begin = new Date(Date.now() + 3_600_000).toISOString();
  const id = (await d.api('POST', '/api/v1/jobs', { begin_time: begin, script: sh('true') })).body.job_id;
  const reading = readSse(d, `/api/v1/jobs/${id}/logs/stream`);
  await new Promise((r) => setTimeout(r, 200));
  await d.daemon.stop();
  t.same((await reading).filter((e) => e.event === 'end'), [], 'closed without end: the job has not ended');
});
