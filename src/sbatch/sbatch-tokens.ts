/**
 * Text helpers for sbatch parsing: splitting a directive line the way sbatch does, and
 * finding the option name a user probably meant.
 */
import { GrmError } from '../errors.js';

/** Split a directive line like sbatch: whitespace separates, quotes group, \ escapes, # starts a comment. */
export function splitDirectiveLine(line: string, lineNo: number): string[] {
  const tokens: string[] = [];
  let current: string | undefined;
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote) {
      if (c === quote) quote = '';
      else current = (current ?? '') + c;
    } else if (c === '\\' && i + 1 < line.length) {
      current = (current ?? '') + line[++i];
    } else if (c === '"' || c === "'") {
      quote = c;
      current ??= '';
    } else if (c === '#') {
      break;
    } else if (/\s/.test(c)) {
      if (current !== undefined) tokens.push(current);
      current = undefined;
    } else {
      current = (current ?? '') + c;
    }
  }
  if (quote) throw new GrmError('E_SCRIPT_INVALID', `script line ${lineNo}: unmatched ${quote} in [${line}]`);
  if (current !== undefined) tokens.push(current);
  return tokens;
}

/** Edit distance counting an adjacent transposition as one edit (nodse → nodes is 1). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => (d[i] as number[])[j] as number;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = v;
    }
  }
  return at(a.length, b.length);
}

/** The candidate closest to `name` (at most 1 edit for short names, 2 otherwise), if any. */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  const limit = name.length <= 3 ? 1 : 2;
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d <= limit && (!best || d < best.d)) best = { c, d };
  }
  return best?.c;
}
