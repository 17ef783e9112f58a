/**
 * SLURM hostlists: `node[01-04,07]`, `a[1-2]b[3-4]`, `node[1-2],gpu[01-02],login`.
 *
 * Behaviour follows SchedMD's src/common/hostlist.c (reimplemented, not copied):
 *  - A range takes its zero-padding width from the written low bound: `n[08-10]` is
 *    n08,n09,n10 and `n[8-10]` is n8,n9,n10.
 *  - Several brackets in one term expand as a cartesian product in SLURM's order: the
 *    last bracket varies fastest; the brackets before it are walked from the second-last
 *    (slowest) back to the first. For two brackets that is plain row-major order
 *    (`a[1-2]b[3-4]` → a1b3,a1b4,a2b3,a2b4); for three, `a[1-2]b[3-4]c[5-6]` gives
 *    a1b3c5,a1b3c6,a2b3c5,a2b3c6,a1b4c5,… exactly as `scontrol show hostnames` does.
 *  - Terms are separated by commas or whitespace outside brackets; empty terms are
 *    skipped. Expansion keeps duplicates and the written order, as SLURM does.
 *  - Compression sorts like `scontrol show hostlist`: by prefix (natural order), names
 *    without a number before numbered ones, then numerically; it deduplicates.
 *    Unlike SLURM it also groups names that share a suffix after the number
 *    (`n1-ib,n2-ib` → `n[1-2]-ib`), a form SLURM itself expands.
 */
import { GrmError } from '../errors.js';

/** The most names one hostlist expression may expand to. */
const MAX_HOSTLIST_NAMES = 1_000_000;

const SEPARATORS = new Set([',', ' ', '\t', '\n', '\r']);

function invalid(message: string): GrmError {
  return new GrmError('E_HOSTLIST_INVALID', message);
}

interface NumberRange {
  lo: number;
  hi: number;
  width: number;
}

/** Split an expression into terms at separators that are outside brackets. */
function splitTerms(expr: string): string[] {
  const terms: string[] = [];
  let current = '';
  let open = -1;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i] as string;
    if (c === '[') {
      if (open >= 0) throw invalid(`invalid hostlist '${expr}': nested '[' at position ${i + 1}`);
      open = i;
    } else if (c === ']') {
      if (open < 0) throw invalid(`invalid hostlist '${expr}': unmatched ']' at position ${i + 1}`);
      open = -1;
    } else if (open < 0 && SEPARATORS.has(c)) {
      if (current !== '') terms.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  if (open >= 0) throw invalid(`invalid hostlist '${expr}': '[' at position ${open + 1} is never closed`);
  if (current !== '') terms.push(current);
  return terms;
}

function parseNumber(digits: string, term: string): number {
  const n = Number(digits);
  if (!Number.isSafeInteger(n)) throw invalid(`invalid hostlist term '${term}': number '${digits}' is too large`);
  return n;
}

/** Parse the inside of one bracket: `01-04,07`. */
function parseRanges(inside: string, term: string): NumberRange[] {
  if (inside === '') throw invalid(`invalid hostlist term '${term}': empty brackets`);
  return inside.split(',').map((element) => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(element);
    if (!m) {
      throw invalid(
        `invalid hostlist term '${term}': bad range '${element}' (expected N or N-M with non-negative integers)`,
      );
    }
    const loDigits = m[1] as string;
    const lo = parseNumber(loDigits, term);
    const hi = m[2] === undefined ? lo : parseNumber(m[2], term);
    if (lo > hi) throw invalid(`invalid hostlist term '${term}': range '${element}' goes backwards (${lo} > ${hi})`);
    return { lo, hi, width: loDigits.length };
  });
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Expand one term (no top-level separators) and append its names to `out`. */
function expandTerm(term: string, out: string[], expr: string): void {
  const literals: string[] = [];
  const brackets: string[][] = [];
  let rest = term;
  for (;;) {
    const open = rest.indexOf('[');
    if (open < 0) break;
    const close = rest.indexOf(']', open);
    literals.push(rest.slice(0, open));
    const ranges = parseRanges(rest.slice(open + 1, close), term);
    let count = 0;
    for (const r of ranges) count += r.hi - r.lo + 1;
    if (count > MAX_HOSTLIST_NAMES) {
      throw invalid(`invalid hostlist term '${term}': a bracket of ${count} names exceeds the limit of ${MAX_HOSTLIST_NAMES}`);
    }
    const values: string[] = [];
    for (const r of ranges) for (let v = r.lo; v <= r.hi; v++) values.push(pad(v, r.width));
    brackets.push(values);
    rest = rest.slice(close + 1);
  }
  literals.push(rest);
  if (brackets.length === 0) {
    out.push(term);
    return;
  }
  let total = out.length;
  let product = 1;
  for (const values of brackets) product *= values.length;
  total += product;
  if (total > MAX_HOSTLIST_NAMES) {
    throw invalid(`hostlist '${expr}' expands to more than ${MAX_HOSTLIST_NAMES} names (at term '${term}')`);
  }
  // SLURM's order: second-last bracket slowest, back to the first, then the last fastest.
  const k = brackets.length;
  const loopOrder: number[] = [];
  for (let i = k - 2; i >= 0; i--) loopOrder.push(i);
  loopOrder.push(k - 1);
  const chosen: string[] = new Array<string>(k).fill('');
  const walk = (depth: number): void => {
    if (depth === k) {
      let name = literals[0] as string;
      for (let i = 0; i < k; i++) name += (chosen[i] as string) + (literals[i + 1] as string);
      out.push(name);
      return;
    }
    const b = loopOrder[depth] as number;
    for (const v of brackets[b] as string[]) {
      chosen[b] = v;
      walk(depth + 1);
    }
  };
  walk(0);
}

/**
 * Expand a SLURM hostlist expression into host names, in SLURM's order, keeping
 * duplicates. Throws GrmError E_HOSTLIST_INVALID on unbalanced or nested brackets,
 * empty or backwards ranges, non-numeric ranges, empty input, or more than
 * MAX_HOSTLIST_NAMES names.
 */
export function expandHostlist(expr: string): string[] {
  if (typeof expr !== 'string' || expr.trim() === '') throw invalid('invalid hostlist: it is empty');
  const out: string[] = [];
  for (const term of splitTerms(expr)) expandTerm(term, out, expr);
  if (out.length === 0) throw invalid(`invalid hostlist '${expr}': it names no hosts`);
  return out;
}

// ---- compression ----

/** Compare strings the way strnatcmp does: digit runs by value, other text by code unit. */
function naturalCompare(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const ca = a.match(re) ?? [];
  const cb = b.match(re) ?? [];
  const n = Math.min(ca.length, cb.length);
  for (let i = 0; i < n; i++) {
    const x = ca[i] as string;
    const y = cb[i] as string;
    if (x === y) continue;
    const xd = x.charCodeAt(0) >= 48 && x.charCodeAt(0) <= 57;
    const yd = y.charCodeAt(0) >= 48 && y.charCodeAt(0) <= 57;
    if (xd && yd) {
      const xs = x.replace(/^0+(?=\d)/, '');
      const ys = y.replace(/^0+(?=\d)/, '');
      if (xs.length !== ys.length) return xs.length - ys.length;
      if (xs !== ys) return xs < ys ? -1 : 1;
      if (x.length !== y.length) return y.length - x.length; // more leading zeros first
      continue;
    }
    return x < y ? -1 : 1;
  }
  if (ca.length !== cb.length) return ca.length - cb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Numbered {
  digits: string;
  value: number;
}

interface Group {
  /** Text before the number, or the whole name for a name without one. */
  prefix: string;
  suffix: string;
  numbered: boolean;
  members: Numbered[];
}

const FORBIDDEN_IN_NAME = /[[\],\s]/;

/**
 * Compress host names into a SLURM hostlist expression, e.g.
 * `node01,node02,node03,node07` → `node[01-03,07]`. Duplicates are dropped; a single
 * name stays plain. Names containing brackets, commas or whitespace throw
 * E_HOSTLIST_INVALID. Grouping is by the text before a trailing run of digits;
 * within a group, numbers are kept in zero-padding classes so that expanding the result
 * gives back exactly the same names. `compressHostlist([])` is ''.
 */
export function compressHostlist(names: string[]): string {
  const groups = new Map<string, Group>();
  for (const name of new Set(names)) {
    if (typeof name !== 'string' || name === '') throw invalid('invalid host name: it is empty');
    if (FORBIDDEN_IN_NAME.test(name)) {
      throw invalid(`invalid host name '${name}': brackets, commas and whitespace are not allowed`);
    }
    // Only a trailing number is bracketed: SLURM 22.05 refuses text after the last bracket
    // ("n[1-2]-ib" is an invalid hostlist to scontrol), so "n1-ib" stays a plain name.
    const m = /^(.*\D)?(\d+)$/.exec(name);
    const value = m ? Number(m[2]) : NaN;
    if (!m || !Number.isSafeInteger(value)) {
      groups.set(`\u0000${name}`, { prefix: name, suffix: '', numbered: false, members: [] });
      continue;
    }
    const prefix = m[1] ?? '';
    const suffix = '';
    const key = `${prefix}\u0001${suffix}`;
    let g = groups.get(key);
    if (!g) {
      g = { prefix, suffix, numbered: true, members: [] };
      groups.set(key, g);
    }
    g.members.push({ digits: m[2] as string, value });
  }

  const ordered = [...groups.values()].sort(
    (a, b) =>
      naturalCompare(a.prefix, b.prefix) ||
      Number(a.numbered) - Number(b.numbered) ||
      naturalCompare(a.suffix, b.suffix),
  );
  return ordered.map(compressGroup).join(',');
}

/**
 * Width class of a number: a zero-padded one (`007`) only fits its own width; a natural
 * one (`10`) fits any width up to its length, and joins the widest padded class that fits
 * (so 08,09,10 stay together), else class 1 (plain numbers).
 */
function compressGroup(g: Group): string {
  if (!g.numbered) return g.prefix;
  if (g.members.length === 1) return g.prefix + (g.members[0] as Numbered).digits + g.suffix;
  const isPadded = (d: string): boolean => d.length > 1 && d.startsWith('0');
  const paddedWidths = [...new Set(g.members.filter((m) => isPadded(m.digits)).map((m) => m.digits.length))].sort(
    (a, b) => b - a,
  );
  const classOf = (d: string): number => {
    if (isPadded(d)) return d.length;
    for (const w of paddedWidths) if (w <= d.length) return w;
    return 1;
  };
  const items = g.members
    .map((m) => ({ value: m.value, width: classOf(m.digits) }))
    .sort((a, b) => a.width - b.width || a.value - b.value);
  const parts: string[] = [];
  let i = 0;
  while (i < items.length) {
    const first = items[i] as { value: number; width: number };
    let last = first;
    let j = i + 1;
    while (j < items.length) {
      const next = items[j] as { value: number; width: number };
      if (next.width !== first.width || next.value !== last.value + 1) break;
      last = next;
      j++;
    }
    parts.push(
      first === last ? pad(first.value, first.width) : `${pad(first.value, first.width)}-${pad(last.value, first.width)}`,
    );
    i = j;
  }
  return `${g.prefix}[${parts.join(',')}]${g.suffix}`;
}
