// Small DOM and formatting helpers shared by every page. Server data only ever becomes text
// nodes or attribute values here: nothing is parsed as HTML.

// The state names and sets are the daemon's (served from src/jobs/job-types.ts).
import { STATE_CODES, JOB_STATES, FINAL_STATES } from './states.js';

/**
 * el('a', { href, class, onclick }, child, 'text', ...): children are nodes or text;
 * attributes starting with "on" and holding a function become listeners; null/false are skipped.
 */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  setAttrs(e, attrs);
  append(e, children);
  return e;
}

export const SVG_NS = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  setAttrs(e, attrs);
  append(e, children);
  return e;
}

function setAttrs(e, attrs) {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.setAttribute('class', v);
    else if (k === 'text') e.textContent = String(v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(e, children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Sets textContent only when it changed (keeps selections and avoids layout work). */
export function setText(node, text) {
  const s = String(text ?? '');
  if (node.textContent !== s) node.textContent = s;
}

export { STATE_CODES, JOB_STATES, FINAL_STATES };
/** Not ended yet: the jobs page's "Active" filter. */
export const ACTIVE_STATES = JOB_STATES.filter((s) => !FINAL_STATES.includes(s));
export const isFinal = (state) => FINAL_STATES.includes(state);
export const isCancellable = (state) => ['PENDING', 'ALLOCATING', 'RUNNING'].includes(state);

/** SLURM's elapsed-time spelling: M:SS, H:MM:SS, D-HH:MM:SS. */
export function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  const p2 = (n) => String(n).padStart(2, '0');
  if (days > 0) return `${days}-${p2(h)}:${p2(m)}:${sec}`;
  if (h > 0) return `${h}:${p2(m)}:${sec}`;
  return `${m}:${sec}`;
}

export const formatTimeLimit = (minutes) => (minutes === null || minutes === undefined ? 'UNLIMITED' : formatDuration(minutes * 60));

export function elapsedSeconds(job, now = Date.now()) {
  if (!job.start_time) return 0;
  const end = job.end_time ? Date.parse(job.end_time) : now;
  return (end - Date.parse(job.start_time)) / 1000;
}

const p2 = (n) => String(n).padStart(2, '0');
/** Local time as YYYY-MM-DD HH:MM:SS (ISO-like, sortable, unambiguous). */
export function formatTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}
/** HH:MM:SS.mmm of a millisecond timestamp. */
export function formatClock(ms) {
  const d = new Date(ms);
  return `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

export function formatNumber(n, digits = 0) {
  return Number(n).toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function formatMiB(mib) {
  return mib >= 1024 ? `${formatNumber(mib / 1024, 1)} GiB` : `${mib} MiB`;
}

/** SLURM-style hostlist compression: node01,node02,node03,node07 -> node[01-03,07]. */
export function compressHostlist(names) {
  const groups = new Map();
  const order = [];
  for (const n of names) {
    const m = /^(.*?)(\d+)$/.exec(n);
    const key = m ? `${m[1]}\u0000${m[2].length}` : `${n}\u0000x`;
    if (!groups.has(key)) { groups.set(key, []); order.push(key); }
    groups.get(key).push(m ? m[2] : null);
  }
  const parts = [];
  for (const key of order) {
    const [prefix, width] = key.split('\u0000');
    const nums = groups.get(key);
    if (width === 'x') { parts.push(prefix); continue; }
    const sorted = [...new Set(nums)].sort((a, b) => Number(a) - Number(b));
    if (sorted.length === 1) { parts.push(prefix + sorted[0]); continue; }
    const ranges = [];
    let start = sorted[0];
    let prev = sorted[0];
    for (const cur of [...sorted.slice(1), null]) {
      if (cur !== null && Number(cur) === Number(prev) + 1) { prev = cur; continue; }
      ranges.push(start === prev ? start : `${start}-${prev}`);
      start = prev = cur;
    }
    parts.push(`${prefix}[${ranges.join(',')}]`);
  }
  return parts.join(',');
}

/** Runs fn after `ms` of quiet. */
export function debounce(fn, ms) {
  let t;
  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
}

/** A polite status line for screen readers (and sighted users). */
export function statusLine(text = '') {
  return el('p', { class: 'status', role: 'status', 'aria-live': 'polite' }, text);
}
