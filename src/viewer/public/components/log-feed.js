// Where a job's lines come from: its stored history in pages of /logs, then, while the job
// lives, the SSE stream /logs/stream, read with fetch (it carries the token) and resumed with
// ?after=. When the stream is not there (an older daemon answers 404) it polls /logs?after=.
import { API, authHeaders, getJSON, query, unauthorized } from '../api.js';
import { isFinal } from '../util.js';

const PAGE = 20000;
const POLL_MS = 1000;
const RETRY_MS = 2000; // the daemon's "retry: 2000"

/**
 * Reads Server-Sent Events from a fetch body: onEvent(event, data) for each; resolves true once
 * onEvent returns true (the end event), false when the body ends first.
 */
async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return false;
    text += value;
    let cut;
    while ((cut = text.indexOf('\n\n')) >= 0) {
      const block = text.slice(0, cut);
      text = text.slice(cut + 2);
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length && onEvent(event, data.join('\n'))) { reader.cancel().catch(() => {}); return true; }
    }
  }
}

/**
 * startLogFeed(jobId, { onLines(lines), onState(state, mode), onError(message) }) -> stop()
 * mode: 'stream' | 'polling' | 'ended'.
 */
export function startLogFeed(jobId, { onLines, onState, onError }) {
  let stopped = false;
  let after = 0;
  let source = null;
  let timer = null;

  async function readPages() {
    for (;;) {
      const page = await getJSON(`/jobs/${jobId}/logs${query({ after, limit: PAGE })}`);
      if (stopped) return null;
      if (page.lines.length) onLines(page.lines);
      after = page.last_seq;
      if (page.lines.length < PAGE) return page.job_state;
    }
  }

  async function poll() {
    if (stopped) return;
    try {
      const state = await readPages();
      if (stopped) return;
      if (isFinal(state)) { onState(state, 'ended'); return; }
      onState(state, 'polling every second');
    } catch (e) {
      onError(e.message);
    }
    timer = setTimeout(poll, POLL_MS);
  }

  function stream(state) {
    // EventSource cannot send an Authorization header: the stream is read with fetch, and
    // resumed with ?after= (the seq of the last line received) as Last-Event-ID would be.
    const controller = new AbortController();
    source = controller;
    let opened = false;
    let batch = [];
    let flushTimer = 0;
    const flush = () => { flushTimer = 0; const b = batch; batch = []; onLines(b); };
    const ended = (data) => {
      if (flushTimer) { clearTimeout(flushTimer); flush(); }
      source = null;
      let end = state;
      try { end = JSON.parse(data).job_state ?? state; } catch { /* keep */ }
      // The stream says every line was sent; one last read closes any gap.
      readPages().then((s) => !stopped && onState(s ?? end, 'ended')).catch(() => !stopped && onState(end, 'ended'));
    };
    const onEvent = (event, data) => {
      if (event === 'line') {
        const l = JSON.parse(data);
        if (l.seq > after) after = l.seq;
        batch.push(l);
        if (!flushTimer) flushTimer = setTimeout(flush, 50);
      } else if (event === 'end') {
        ended(data);
        return true;
      }
      return false;
    };
    (async () => {
      while (!stopped && source === controller) {
        let res;
        try {
          res = await fetch(`${API}/jobs/${jobId}/logs/stream${query({ after })}`, {
            headers: { ...authHeaders(), accept: 'text/event-stream' }, signal: controller.signal,
          });
        } catch (e) {
          if (stopped || e.name === 'AbortError') return;
          res = null;
        }
        if (res && !res.ok) {
          // 401: sign in again; else (404 from a daemon without the stream, an error): poll instead
          if (res.status === 401) { unauthorized(res.statusText); return; }
          source = null;
          if (!opened) onState(state, 'polling every second');
          poll();
          return;
        }
        if (res) {
          if (!opened) { opened = true; onState(state, 'streaming'); }
          try {
            if (await readEvents(res.body, onEvent)) return;
          } catch (e) {
            if (stopped || e.name === 'AbortError') return;
          }
        }
        // the connection dropped before the end: resume after the last line, as EventSource would
        if (flushTimer) { clearTimeout(flushTimer); flush(); }
        if (opened) onState(state, 'reconnecting…');
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    })();
  }

  (async () => {
    try {
      const state = await readPages();
      if (stopped) return;
      if (isFinal(state)) onState(state, 'ended');
      else stream(state);
    } catch (e) {
      if (!stopped) { onError(e.message); timer = setTimeout(poll, POLL_MS); }
    }
  })();

  return () => {
    stopped = true;
    clearTimeout(timer);
    if (source) source.abort();
  };
}
