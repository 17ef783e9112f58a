/**
 * The task rank of a line: the prefix `srun --label` puts before each line of a task's output
 * ("3: text"), or the name of a per-task output file; the one place either is read (log
 * lines' rank, metric points' rank). Pure. srun pads the rank to
 * the width of the largest one (" 3: " with 10+ tasks): leading spaces are part of the prefix.
 */
const LABEL = /^ *(\d{1,6}): /;

/** The source name of a per-task output file: "task:" and its path under the task folder. */
export const TASK_SOURCE_PREFIX = 'task';

/** The rank and the text after the prefix, or null for a line without one. */
export function srunLabel(line: string): { rank: number; rest: string } | null {
  // cheap test first: this runs for every stored line
  const colon = line.indexOf(': ');
  if (colon < 1 || colon > 12) return null;
  const m = LABEL.exec(line);
  return m ? { rank: Number(m[1]), rest: line.slice(m[0].length) } : null;
}

/**
 * The task rank a per-task file's name carries (srun -o "$GRM_TASK_OUTPUT_DIR/%t.out" names
 * it "3.out"; "rank-03.log" is 3 too): the last number in its base name; null for any other
 * source, or a name without a number.
 */
export function taskFileRank(source: string): number | null {
  if (!source.startsWith(`${TASK_SOURCE_PREFIX}:`)) return null;
  const base = source.slice(source.lastIndexOf('/') + 1);
  const m = /(\d{1,6})\D*$/.exec(base);
  return m ? Number(m[1]) : null;
}

/**
 * The task rank of a stored line: its file's (per-task output) or its srun --label prefix;
 * GRM's own lines have none (a job name is not a label).
 */
export function lineRank(source: string, line: string): number | null {
  if (source === 'grm') return null;
  return taskFileRank(source) ?? srunLabel(line)?.rank ?? null;
}
