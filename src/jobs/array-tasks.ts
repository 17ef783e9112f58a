/**
 * The indices of an array not started yet, kept as SLURM's compact range text ("0-99:3,200")
 * on the array's own record, so a 10,000-task array is one short string until its tasks
 * start. Taking the next index reads only the first range. Pure.
 */

interface Range {
  first: number;
  last: number;
  step: number;
}

function parseRange(text: string): Range {
  const [span, stepText] = text.split(':');
  const [a, b] = span!.split('-');
  const first = Number(a);
  const last = b === undefined ? first : Number(b);
  return { first, last, step: stepText === undefined ? 1 : Number(stepText) };
}

function formatRange(r: Range): string {
  if (r.first === r.last) return String(r.first);
  // a two-index range with a step is two plain indices
  if (r.first + r.step === r.last && r.step !== 1) return `${r.first},${r.last}`;
  return r.step === 1 ? `${r.first}-${r.last}` : `${r.first}-${r.last}:${r.step}`;
}

/** The lowest index left and the ranges after it ('' when none is left). */
export function takeFirstIndex(ranges: string): { index: number; rest: string } {
  const comma = ranges.indexOf(',');
  const head = comma < 0 ? ranges : ranges.slice(0, comma);
  const tail = comma < 0 ? '' : ranges.slice(comma + 1);
  const r = parseRange(head);
  const next = r.first + r.step;
  const rest = next <= r.last ? formatRange({ ...r, first: next, last: r.last - ((r.last - next) % r.step) }) : '';
  return { index: r.first, rest: [rest, tail].filter((x) => x !== '').join(',') };
}

/** Every index, in order. */
export function expandIndices(ranges: string): number[] {
  const out: number[] = [];
  if (ranges === '') return out;
  for (const part of ranges.split(',')) {
    const r = parseRange(part);
    for (let i = r.first; i <= r.last; i += r.step) out.push(i);
  }
  return out;
}

/** Sorted unique indices as ranges: runs of a constant step become "a-b" or "a-b:s". */
export function compressIndices(indices: readonly number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    const first = sorted[i]!;
    if (i + 1 >= sorted.length) {
      parts.push(String(first));
      break;
    }
    const step = sorted[i + 1]! - first;
    let j = i + 1;
    while (j + 1 < sorted.length && sorted[j + 1]! - sorted[j]! === step) j++;
    // a step run is worth its spelling from three indices on (or two consecutive ones)
    if (j - i >= 2 || step === 1) {
      parts.push(formatRange({ first, last: sorted[j]!, step }));
      i = j + 1;
    } else {
      parts.push(String(first));
      i++;
    }
  }
  return parts.join(',');
}

export function countIndices(ranges: string): number {
  if (ranges === '') return 0;
  let n = 0;
  for (const part of ranges.split(',')) {
    const r = parseRange(part);
    n += Math.floor((r.last - r.first) / r.step) + 1;
  }
  return n;
}
