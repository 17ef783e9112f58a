/**
 * The task rank `srun --label` puts before each line of a task's output ("3: text"), the one
 * place this prefix is read (log lines' rank, metric points' rank). Pure. srun pads the rank to
 * the width of the largest one (" 3: " with 10+ tasks): leading spaces are part of the prefix.
 */
const LABEL = /^ *(\d{1,6}): /;

/** The rank and the text after the prefix, or null for a line without one. */
export function srunLabel(line: string): { rank: number; rest: string } | null {
  // cheap test first: this runs for every stored line
  const colon = line.indexOf(': ');
  if (colon < 1 || colon > 12) return null;
  const m = LABEL.exec(line);
  return m ? { rank: Number(m[1]), rest: line.slice(m[0].length) } : null;
}
