/**
 * Validation of SLURM's structured sbatch values: job arrays, dependencies, --export
 * lists, GRES/GPU requests and mail types. Pure; errors are GrmError('E_OPTION_INVALID')
 * naming the option, the value and the rule.
 */
import { invalidOption } from './slurm-units.js';

/** SLURM's hard ceiling for MaxArraySize is 4000001, so the largest index is 4000000. */
export const MAX_ARRAY_INDEX = 4_000_000;

/**
 * Validate an --array spec: comma-separated `N`, `N-M` or `N-M:STEP`, optionally ended
 * by `%LIMIT`. Returns the spec unchanged (as written).
 */
export function validateArraySpec(value: string, option = '--array'): string {
  const bad = (why: string): Error =>
    invalidOption(option, `Invalid job array specification '${value}' for ${option}: ${why}`);
  const [list, limit, ...more] = value.split('%');
  if (more.length > 0) throw bad("only one '%' limit is allowed");
  if (limit !== undefined && !/^[1-9]\d*$/.test(limit)) throw bad(`the '%' limit '${limit}' must be a positive integer`);
  if (!list) throw bad('no indexes given (use e.g. 1-10, 1,3,5 or 0-15:4, with an optional %N limit)');
  for (const element of list.split(',')) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(element);
    if (!m) throw bad(`'${element}' is not N, N-M or N-M:STEP`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi > MAX_ARRAY_INDEX || lo > MAX_ARRAY_INDEX) throw bad(`indexes must be at most ${MAX_ARRAY_INDEX}`);
    if (lo > hi) throw bad(`range '${element}' goes backwards`);
    if (m[3] !== undefined && Number(m[3]) < 1) throw bad(`step in '${element}' must be at least 1`);
  }
  return value;
}

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
