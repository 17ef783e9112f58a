// Where a job's lines come from: its stored history in pages of /logs, then, while the job
// lives, the SSE stream /logs/stream (resumed by the browser with Last-Event-ID). When the
// stream is not there (an older daemon answers 404) it polls /logs?after= instead.
import { API, getJSON, query } from '../api.js';
import { isFinal } from '../util.js';

const PAGE = 20000;
const POLL_MS = 1000;

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
    let opened = false;
    source = new EventSource(`${API}/jobs/${jobId}/logs/stream${query({ after })}`);
    let batch = [];
    let flushTimer = 0;
    const flush = () => { flushTimer = 0; const b = batch; batch = []; onLines(b); };
    source.addEventListener('open', () => { opened = true; onState(state, 'streaming'); });
    source.addEventListener('line', (e) => {
      const l = JSON.parse(e.data);
      if (l.seq > after) after = l.seq;
      batch.push(l);
      if (!flushTimer) flushTimer = setTimeout(flush, 50);
    });
    source.addEventListener('end', (e) => {
      if (flushTimer) { clearTimeout(flushTimer); flush(); }
      source.close();
      source = null;
      let end = state;
      try { end = JSON.parse(e.data).job_state ?? state; } catch { /* keep */ }
      // The stream says every line was sent; one last read closes any gap.
      readPages().then((s) => !stopped && onState(s ?? end, 'ended')).catch(() => !stopped && onState(end, 'ended'));
    });
    source.addEventListener('error', () => {
      if (stopped || !source) return;
      // CONNECTING: the browser retries by itself with Last-Event-ID. CLOSED: it gave up
      // (404 from a daemon without the stream, or an error status): poll instead.
      if (source.readyState === EventSource.CLOSED) {
        source = null;
        if (flushTimer) { clearTimeout(flushTimer); flush(); }
        if (!opened) onState(state, 'polling every second');
        poll();
      } else if (opened) {
        onState(state, 'reconnecting…');
      }
    });
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
    if (source) source.close();
  };
}
