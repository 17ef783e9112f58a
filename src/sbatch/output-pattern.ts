/**
 * sbatch's --output/--error filename patterns, expanded as slurmstepd does
 * (SchedMD src/common/print_fields.c, reimplemented):
 *
 *   %%  a literal %          %j  job id                %x  job name
 *   %A  array job id (the job id when not an array)    %a  array task id
 *   %b  array task id modulo 10                        %J  job id (batch step)
 *   %N  short name of the first node                   %u  user name
 *   %n  node index (0)      %t  task rank (0)          %s  step ("batch")
 *
 * A number between % and the letter zero-pads numeric fields (`%5j` → 00042; at most
 * 10 wide) and is ignored for text fields. Unknown specifiers are kept as written. A
 * pattern containing a backslash is not expanded at all; its backslashes are removed.
 */

export interface OutputPatternValues {
  jobId: number;
  jobName: string;
  user: string;
  nodeName: string;
  arrayJobId?: number;
  arrayTaskId?: number;
}

/** What SLURM prints for %a outside a job array (its NO_VAL marker). */
const NO_ARRAY_TASK = 4294967294;

export function expandOutputPattern(pattern: string, values: OutputPatternValues): string {
  if (pattern.includes('\\')) return pattern.replace(/\\/g, '');
  const taskId = values.arrayTaskId ?? NO_ARRAY_TASK;
  const numeric: Record<string, number> = {
    j: values.jobId,
    J: values.jobId,
    A: values.arrayJobId ?? values.jobId,
    a: taskId,
    b: taskId % 10,
    n: 0,
    t: 0,
  };
  const text: Record<string, string> = { x: values.jobName, u: values.user, N: values.nodeName, s: 'batch' };
  return pattern.replace(/%(%|(\d*)([A-Za-z]))/g, (whole, _all: string, width: string, letter: string) => {
    if (_all === '%') return '%';
    const n = numeric[letter];
    if (n !== undefined) return String(n).padStart(Math.min(Number(width || '0'), 10), '0');
    const s = text[letter];
    return s !== undefined ? s : whole;
  });
}
