/**
 * squeue's -o/--format: "%[.][size]type" fields between literal text, as squeue(1) reads
 * them. A size pads the value (left-justified, or right with '.') and cuts a longer value to
 * it, as squeue does; no size prints the value whole. Pure: spec and jobs in, lines out.
 */
import { STATE_CODES } from '../jobs/job-types.js';
import { expandIndices } from '../jobs/array-tasks.js';
import { CliError } from './api-client.js';
import { elapsedSeconds, formatDuration, type JobView } from './format.js';

/** squeue's own default and --long formats. */
export const DEFAULT_FORMAT = '%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R';
export const LONG_FORMAT = '%.18i %.9P %.8j %.8u %.8T %.10M %.9l %.6D %R';
/** squeue --start's. */
export const START_FORMAT = '%.18i %.9P %.8j %.8u %.2t %.19S %.6D %R';

interface FieldDef {
  header: string;
  value: (job: JobView, now: number) => string;
}

const str = (v: unknown, none = '(null)') => (v === undefined || v === null || v === '' ? none : String(v));

/** Times as SLURM prints them: local time, to the second, no zone. */
export function slurmTime(iso: string | null): string {
  if (!iso) return 'N/A';
  const d = new Date(iso);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

const waiting = (job: JobView) => job.job_state === 'PENDING' || (job.job_state === 'ALLOCATING' && !job.nodes);

export function nodeCount(job: JobView): number {
  return job.node_count || job.minimum_nodes || 1;
}

/** The CPUs the job asked for, as the daemon counts them (tasks × CPUs per task). */
export function cpuCount(job: JobView): number {
  return job.cpus ?? nodeCount(job);
}

const FIELDS: Record<string, FieldDef> = {
  A: { header: 'JOBID', value: (j) => String(j.job_id) },
  a: { header: 'ACCOUNT', value: (j) => str(j.account) },
  C: { header: 'CPUS', value: (j) => String(cpuCount(j)) },
  D: { header: 'NODES', value: (j) => String(nodeCount(j)) },
  e: { header: 'END_TIME', value: (j) => slurmTime(j.end_time) },
  F: { header: 'ARRAY_JOB_ID', value: (j) => String(j.array_job_id ?? j.job_id) },
  i: { header: 'JOBID', value: (j) => String(j.display_id ?? j.job_id) },
  j: { header: 'NAME', value: (j) => j.name },
  K: { header: 'ARRAY_TASK_ID', value: (j) => str(j.array_task_id ?? j.array_task_string, 'N/A') },
  k: { header: 'COMMENT', value: (j) => str(j.comment) },
  l: { header: 'TIME_LIMIT', value: (j) => (j.time_limit === null ? 'UNLIMITED' : formatDuration(j.time_limit * 60)) },
  L: {
    header: 'TIME_LEFT',
    value: (j, now) => (j.time_limit === null ? 'UNLIMITED' : formatDuration(j.time_limit * 60 - elapsedSeconds(j, now))),
  },
  M: { header: 'TIME', value: (j, now) => formatDuration(elapsedSeconds(j, now)) },
  N: { header: 'NODELIST', value: (j) => j.nodes ?? '' },
  P: { header: 'PARTITION', value: (j) => j.partition },
  q: { header: 'QOS', value: (j) => str(j.qos) },
  Q: { header: 'PRIORITY', value: (j) => String(j.priority ?? 1) },
  R: { header: 'NODELIST(REASON)', value: (j) => (waiting(j) ? `(${j.state_reason})` : (j.nodes ?? '')) },
  r: { header: 'REASON', value: (j) => j.state_reason },
  // a pending job's: its forecast, as squeue's (N/A when none)
  S: { header: 'START_TIME', value: (j) => slurmTime(j.start_time ?? j.expected_start ?? null) },
  T: { header: 'STATE', value: (j) => j.job_state },
  t: { header: 'ST', value: (j) => STATE_CODES[j.job_state as keyof typeof STATE_CODES] ?? j.job_state },
  u: { header: 'USER', value: (j) => j.user_name },
  V: { header: 'SUBMIT_TIME', value: (j) => slurmTime(j.submit_time) },
  y: { header: 'NICE', value: (j) => String(j.nice ?? 0) },
  Z: { header: 'WORK_DIR', value: (j) => str(j.current_working_directory) },
};

type Part = { text: string } | { field: FieldDef; size: number | null; right: boolean };

export type SqueueFormat = Part[];

/** Parses a format; an unknown field type is refused, naming it and the known ones. */
export function parseSqueueFormat(spec: string): SqueueFormat {
  const parts: Part[] = [];
  const re = /%(\.?)(\d*)(.)|%$|[^%]+/gs;
  for (const m of spec.matchAll(re)) {
    if (m[0] === '%') throw new CliError(`Invalid job format specification: a lone % at the end of "${spec}"`);
    if (!m[0].startsWith('%')) {
      parts.push({ text: m[0] });
      continue;
    }
    const [, dot, size, type] = m;
    if (type === '%') {
      parts.push({ text: '%' });
      continue;
    }
    const field = FIELDS[type!];
    if (!field) {
      throw new CliError(`Invalid job format specification: %${type} (known: ${Object.keys(FIELDS).map((k) => `%${k}`).join(' ')})`);
    }
    parts.push({ field, size: size ? Number(size) : null, right: dot === '.' });
  }
  return parts;
}

function cell(value: string, size: number | null, right: boolean): string {
  if (size === null) return value;
  const cut = value.length > size ? value.slice(0, size) : value;
  return right ? cut.padStart(size) : cut.padEnd(size);
}

export function formatHeader(format: SqueueFormat): string {
  return format.map((p) => ('text' in p ? p.text : cell(p.field.header, p.size, p.right))).join('').trimEnd();
}

export function formatJobLine(format: SqueueFormat, job: JobView, now: number): string {
  return format.map((p) => ('text' in p ? p.text : cell(p.field.value(job, now), p.size, p.right))).join('').trimEnd();
}

/**
 * squeue -r: an array's record with tasks not started yet becomes one line per task
 * (`12_5`), as squeue prints them; other jobs are themselves.
 */
export function expandArrayRecord(job: JobView): JobView[] {
  const pending = job.array_task_string;
  if (typeof pending !== 'string' || job.array_task_id !== null) return [job];
  return expandIndices(pending).map((index) => ({ ...job, display_id: `${job.job_id}_${index}`, array_task_id: index, array_task_string: null }));
}

/** squeue -O/--Format's field names and the % type each prints. */
const LONG_NAMES: Record<string, string> = {
  account: 'a', arrayjobid: 'F', arraytaskid: 'K', comment: 'k', endtime: 'e', jobarrayid: 'i', jobid: 'i',
  name: 'j', nice: 'y', nodelist: 'N', numcpus: 'C', numnodes: 'D', partition: 'P', qos: 'q', reason: 'r',
  reasonlist: 'R', starttime: 'S', state: 'T', statecompact: 't', submittime: 'V', timeleft: 'L', timelimit: 'l',
  timeused: 'M', username: 'u', user: 'u', workdir: 'Z',
};

/**
 * -O/--Format "name[:[.]size],...": long field names, each 20 wide unless sized (as squeue),
 * turned into the % format it is the same as.
 */
export function longFormatToSpec(spec: string): string {
  return spec
    .split(',')
    .filter((w) => w.trim() !== '')
    .map((word) => {
      const [name, size] = word.trim().split(':');
      const type = LONG_NAMES[name!.toLowerCase()];
      if (!type) throw new CliError(`Invalid job format specification: ${name} (known: ${Object.keys(LONG_NAMES).join(', ')})`);
      if (size !== undefined && !/^\.?\d+$/.test(size)) throw new CliError(`Invalid job format specification: ${word}: the size after ':' is a number, e.g. ${name}:30`);
      const [dot, width] = size === undefined ? ['', '20'] : size.startsWith('.') ? ['.', size.slice(1)] : ['', size];
      return `%${dot}${width}${type} `;
    })
    .join('')
    .trimEnd();
}

/**
 * --sort "-t,i": jobs ordered by the values of these % types ('-' descending), numbers as
 * numbers; ties keep the daemon's order (job id).
 */
export function sortJobs(jobs: JobView[], spec: string, now: number): JobView[] {
  const keys = spec.split(',').filter(Boolean).map((k) => {
    const desc = k.startsWith('-');
    const type = k.replace(/^[-+]/, '');
    const field = FIELDS[type];
    if (!field || type.length !== 1) throw new CliError(`Invalid sort specification: ${k} (a % field type, e.g. --sort=-t,i)`);
    return { field, desc };
  });
  const cmp = (a: string, b: string) => (/^\d+$/.test(a) && /^\d+$/.test(b) ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0);
  return jobs
    .map((job, i) => ({ job, i, values: keys.map((k) => k.field.value(job, now)) }))
    .sort((x, y) => {
      for (const [n, k] of keys.entries()) {
        const c = cmp(x.values[n]!, y.values[n]!);
        if (c !== 0) return k.desc ? -c : c;
      }
      return x.i - y.i;
    })
    .map((r) => r.job);
}
