/**
 * Validation of SLURM's structured sbatch values: dependencies, --export lists, GRES/GPU
 * requests, mail types, --signal and --open-mode (job arrays: array-spec.ts). Pure;
 * errors are GrmError('E_OPTION_INVALID') naming the option, the value and the rule.
 */
import { invalidOption } from './slurm-units.js';

// Job arrays live in array-spec.ts; re-exported for callers that knew them here.
export { MAX_ARRAY_INDEX, validateArraySpec } from './array-spec.js';

export const DEPENDENCY_TYPES = ['after', 'afterany', 'afterok', 'afternotok', 'aftercorr', 'singleton'] as const;

/**
 * Validate a --dependency spec: `type:id[:id...]` terms (or `singleton`) joined by ','
 * (all must hold) or '?' (any may hold), never both. Ids are job ids, optionally with an
 * array task (`12_3`); `after` ids may carry a `+minutes` delay. Returns it as written.
 */
export function validateDependencySpec(value: string, option = '--dependency'): string {
  const bad = (why: string): Error => invalidOption(option, `Invalid dependency specification '${value}' for ${option}: ${why}`);
  if (value.includes(',') && value.includes('?')) {
    throw bad("use either ',' (all must be satisfied) or '?' (any may be satisfied), not both");
  }
  for (const term of value.split(/[,?]/)) {
    if (term === '') throw bad('empty dependency');
    const [type, ...ids] = term.split(':');
    if (!(DEPENDENCY_TYPES as readonly string[]).includes(type as string)) {
      throw bad(`unknown dependency type '${type}' (use ${DEPENDENCY_TYPES.join(', ')})`);
    }
    if (type === 'singleton') {
      if (ids.length > 0) throw bad('singleton takes no job ids');
      continue;
    }
    if (ids.length === 0) throw bad(`'${term}' names no job id (use ${type}:JOBID[:JOBID...])`);
    const idPattern = type === 'after' ? /^[1-9]\d*(_\d+)?(\+\d+)?$/ : /^[1-9]\d*(_\d+)?$/;
    for (const id of ids) {
      if (!idPattern.test(id)) {
        throw bad(`'${id}' is not a job id${type === 'after' ? ' (JOBID[_TASK][+MINUTES])' : ' (JOBID or JOBID_TASK)'}`);
      }
    }
  }
  return value;
}

export interface ExportSpec {
  /** ALL (or ALL,...): start from the whole submission environment. */
  all: boolean;
  /** NONE or NIL: nothing from the submission environment. */
  none: boolean;
  /** Names to take from the environment. */
  names: string[];
  /** NAME=value pairs. */
  values: Record<string, string>;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Split on commas that are outside single or double quotes. */
function splitQuoted(value: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quote = '';
  for (const c of value) {
    if (quote) {
      if (c === quote) quote = '';
      else current += c;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ',') {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts;
}

/**
 * Parse --export: ALL, NONE, NIL, or `[ALL,]NAME[,NAME=value...]`. Values may be quoted
 * to hold commas. NONE and NIL cannot be combined with variables (as sbatch).
 */
export function parseExportSpec(value: string, option = '--export'): ExportSpec {
  const bad = (why: string): Error => invalidOption(option, `Invalid ${option} specification '${value}': ${why}`);
  const spec: ExportSpec = { all: false, none: false, names: [], values: {} };
  const parts = splitQuoted(value);
  for (const part of parts) {
    const upper = part.toUpperCase();
    if (upper === 'ALL') spec.all = true;
    else if (upper === 'NONE' || upper === 'NIL') {
      if (parts.length > 1) throw bad(`${upper} cannot be combined with other entries`);
      spec.none = true;
    } else {
      const eq = part.indexOf('=');
      const name = eq < 0 ? part : part.slice(0, eq);
      if (!ENV_NAME.test(name)) {
        throw bad(`'${name}' is not a valid environment variable name (letters, digits and _, not starting with a digit)`);
      }
      if (eq < 0) spec.names.push(name);
      else spec.values[name] = part.slice(eq + 1);
    }
  }
  return spec;
}

/** --gres for GPUs: gpu, gpu:N, gpu:TYPE, gpu:TYPE:N (optionally gres/gpu...) → "gres/gpu[:TYPE]:N". */
export function parseGres(value: string, option = '--gres'): string {
  const m = /^(?:gres\/)?gpu(?::([A-Za-z_][\w.-]*))?(?::(\d+))?$/.exec(value.trim());
  if (!m) {
    const why = /^(gres\/)?gpu\b/.test(value)
      ? 'use gpu, gpu:COUNT, gpu:TYPE or gpu:TYPE:COUNT'
      : 'GRM supports only the gpu GRES (gpu, gpu:COUNT, gpu:TYPE or gpu:TYPE:COUNT)';
    throw invalidOption(option, `Invalid ${option} specification '${value}': ${why}`);
  }
  const count = m[2] === undefined ? 1 : Number(m[2]);
  if (count < 1) throw invalidOption(option, `Invalid ${option} specification '${value}': the GPU count must be at least 1`);
  return m[1] === undefined ? `gres/gpu:${count}` : `gres/gpu:${m[1]}:${count}`;
}

/** -G/--gpus: N or TYPE:N → "gres/gpu[:TYPE]:N". */
export function parseGpus(value: string, option = '--gpus'): string {
  const m = /^(?:([A-Za-z_][\w.-]*):)?(\d+)$/.exec(value.trim());
  if (!m || Number(m[2]) < 1) {
    throw invalidOption(option, `Invalid ${option} specification '${value}': use COUNT or TYPE:COUNT with a count of at least 1`);
  }
  return m[1] === undefined ? `gres/gpu:${Number(m[2])}` : `gres/gpu:${m[1]}:${Number(m[2])}`;
}

export const MAIL_TYPES = [
  'NONE', 'BEGIN', 'END', 'FAIL', 'REQUEUE', 'ALL', 'INVALID_DEPEND', 'STAGE_OUT',
  'TIME_LIMIT', 'TIME_LIMIT_90', 'TIME_LIMIT_80', 'TIME_LIMIT_50', 'ARRAY_TASKS',
] as const;

/** --mail-type: a comma-separated list of SLURM's mail event names (any case). */
export function validateMailType(value: string, option = '--mail-type'): string {
  for (const type of value.split(',')) {
    if (!(MAIL_TYPES as readonly string[]).includes(type.toUpperCase())) {
      throw invalidOption(option, `Invalid ${option} specification '${value}': '${type}' is not one of ${MAIL_TYPES.join(', ')}`);
    }
  }
  return value;
}

/** --signal, in slurmrestd's spirit: which signal, how long before the time limit, to whom. */
export interface SignalSpec {
  /** SLURM's name without SIG ("USR1"), or the number as text for signals without one ("40"). */
  name: string;
  /** Seconds before the time limit (SLURM's default 60). */
  seconds: number;
  /** B: signal only the batch shell, not the job's other processes. */
  batch_only: boolean;
  /** R: also signal when the job's reservation ends; present only when asked for. */
  reservation?: boolean;
}

/** The names SLURM's sig_name2num knows, with their Linux numbers. */
const SIGNAL_NUMBERS: Readonly<Record<string, number>> = {
  HUP: 1, INT: 2, QUIT: 3, ABRT: 6, KILL: 9, USR1: 10, USR2: 12, PIPE: 13, ALRM: 14,
  TERM: 15, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24,
};
const SIGNAL_NAMES = new Map(Object.entries(SIGNAL_NUMBERS).map(([name, n]) => [n, name]));
const MAX_SIGNAL = 64; // Linux's highest real-time signal
const MAX_SIGNAL_TIME = 0xffff; // SLURM keeps sig_time in 16 bits

/**
 * --signal=[{R|B}:]SIG[@SECONDS] (R and B may be combined, in any case, as SLURM reads
 * them). SIG is a name (optionally SIG-prefixed, any case) or a number from 1 to 64.
 */
export function parseSignalSpec(value: string, option = '--signal'): SignalSpec {
  const bad = (why: string): Error => invalidOption(option, `Invalid ${option} specification '${value}': ${why}`);
  const m = /^(?:([RB]|RB|BR):)?([^@]*)(?:@(.*))?$/i.exec(value);
  if (!m || m[2] === '') throw bad('use [{R|B}:]SIGNAL[@SECONDS], e.g. USR1, B:TERM@120 or 10@300');
  const flags = (m[1] ?? '').toUpperCase();
  const sig = m[2] as string;
  let number: number | undefined;
  if (/^\d+$/.test(sig)) number = Number(sig);
  else number = SIGNAL_NUMBERS[sig.toUpperCase().replace(/^SIG/, '')];
  if (number === undefined || number < 1 || number > MAX_SIGNAL) {
    throw bad(`'${sig}' is not a signal (use a number from 1 to ${MAX_SIGNAL} or one of ${Object.keys(SIGNAL_NUMBERS).join(', ')})`);
  }
  const time = m[3];
  if (time !== undefined && (!/^\d+$/.test(time) || Number(time) > MAX_SIGNAL_TIME)) {
    throw bad(`the time '@${time}' must be a whole number of seconds from 0 to ${MAX_SIGNAL_TIME}`);
  }
  const spec: SignalSpec = {
    name: SIGNAL_NAMES.get(number) ?? String(number),
    seconds: time === undefined ? 60 : Number(time),
    batch_only: flags.includes('B'),
  };
  if (flags.includes('R')) spec.reservation = true;
  return spec;
}

/**
 * --open-mode: append or truncate, in any case. SLURM looks only at the first letter, so
 * any beginning of either word (`a`, `trunc`) is accepted too.
 */
export function parseOpenMode(value: string, option = '--open-mode'): 'append' | 'truncate' {
  const lower = value.toLowerCase();
  if (lower !== '' && 'append'.startsWith(lower)) return 'append';
  if (lower !== '' && 'truncate'.startsWith(lower)) return 'truncate';
  throw invalidOption(option, `Invalid ${option} specification '${value}': use append or truncate`);
}
