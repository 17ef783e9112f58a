/**
 * sbatch command lines and `#SBATCH` directives → JobDescription (slurmrestd field names).
 *
 * Pure: no file or environment access; `now` and `env` come in as arguments.
 * Options follow sbatch/getopt_long: `-N 2`, `-N2`, `--nodes=2`, `--nodes 2`; an option
 * given twice keeps the last value; options stop at the first non-option (the script
 * path) or at `--`. Long options must be spelled in full (no abbreviations).
 * Every option lives in one table (OPTIONS); adding an option is one line there.
 */
import type { ResourceBackend } from '../backends/resource-backend.js';
import { GrmError } from '../errors.js';
import type { JobDescription } from '../jobs/job-types.js';
import { splitCompssFlags } from '../compss/compss-flags.js';
import { closestName, splitDirectiveLine } from './sbatch-tokens.js';
import {
  parseExportSpec,
  parseGpus,
  parseGres,
  validateArraySpec,
  validateDependencySpec,
  validateMailType,
} from './slurm-specs.js';
import {
  invalidOption,
  parseBeginTime,
  parseMemoryMiB,
  parseNodeCount,
  parsePositiveInt,
  parseTimeLimit,
} from './slurm-units.js';

export { expandOutputPattern, type OutputPatternValues } from './output-pattern.js';

export type BackendKind = ResourceBackend['kind'];

export interface SbatchParseContext {
  /** The reference time for --begin (now, now+1hour, 16:00, ...). Default: the current time. */
  now?: Date;
  /** Where the job will run; with 'simulator', --account and --qos produce a warning. */
  backend?: BackendKind;
}

export interface SbatchFlags {
  dryRun: boolean;
  json: boolean;
  parsable: boolean;
}

export interface ParsedSbatchArgs {
  /** Fields set by options only (script text and argv are the caller's to add). */
  description: JobDescription;
  /** The first non-option argument; undefined when the script comes from stdin. */
  scriptPath?: string;
  /** Everything after the script path. */
  scriptArgs: string[];
  flags: SbatchFlags;
  warnings: string[];
}

export interface ParsedScriptDirectives {
  description: JobDescription;
  warnings: string[];
}

/** Where an option may appear: sbatch options anywhere, GRM's in #GRM lines, some on the command line only. */
type Scope = 'sbatch' | 'grm' | 'cli';
type Source = 'cli' | 'sbatch-directive' | 'grm-directive';

interface ParseState {
  description: JobDescription;
  flags: SbatchFlags;
  warnings: string[];
  context: SbatchParseContext;
  source: Source;
}

interface OptionSpec {
  long: string;
  short?: string;
  arg: 'none' | 'required' | 'optional';
  scope: Scope;
  /** GRM records the value but does not act on it: always, or on the simulator backend only. */
  recordedOnly?: 'always' | 'simulator';
  /** The description field the option sets, when it is exactly one. */
  field?: keyof JobDescription;
  set: (state: ParseState, value: string | undefined, option: string) => void;
}

type Setter = OptionSpec['set'];

/** Store a non-empty text value as written. */
const text =
  (field: keyof JobDescription): Setter =>
  (s, v, o) => {
    if (!v) throw invalidOption(o, `Invalid ${o} '': the value must not be empty`);
    (s.description as Record<string, unknown>)[field] = v;
  };
/** Store the result of a value parser. */
const parsed =
  (field: keyof JobDescription, parse: (v: string, o: string, s: ParseState) => unknown): Setter =>
  (s, v, o) => {
    (s.description as Record<string, unknown>)[field] = parse(v ?? '', o, s);
  };
const oneOf =
  <T extends string>(field: keyof JobDescription, allowed: readonly T[]): Setter =>
  (s, v, o) => {
    if (!allowed.includes(v as T)) throw invalidOption(o, `Invalid ${o} '${v}': use ${allowed.join(' or ')}`);
    (s.description as Record<string, unknown>)[field] = v;
  };
const flag =
  (name: keyof SbatchFlags): Setter =>
  (s) => {
    s.flags[name] = true;
  };

const NICE_LIMIT = 2147483645; // SLURM's NICE_OFFSET - 3
const EXCLUSIVE_ALIASES = new Set(['exclusive', 'allocation']);
const EXCLUSIVE_APPROXIMATED = new Set(['user', 'mcs', 'topo']);

const OPTIONS: readonly OptionSpec[] = [
  { short: 'J', long: 'job-name', arg: 'required', scope: 'sbatch', field: 'name', set: text('name') },
  {
    short: 'N', long: 'nodes', arg: 'required', scope: 'sbatch',
    set: (s, v, o) => {
      const { min, max } = parseNodeCount(v ?? '', o);
      s.description.minimum_nodes = min;
      s.description.maximum_nodes = max;
    },
  },
  { short: 'n', long: 'ntasks', arg: 'required', scope: 'sbatch', field: 'tasks', set: parsed('tasks', parsePositiveInt) },
  { long: 'ntasks-per-node', arg: 'required', scope: 'sbatch', field: 'tasks_per_node', set: parsed('tasks_per_node', parsePositiveInt) },
  { short: 'c', long: 'cpus-per-task', arg: 'required', scope: 'sbatch', field: 'cpus_per_task', set: parsed('cpus_per_task', parsePositiveInt) },
  { long: 'mem', arg: 'required', scope: 'sbatch', field: 'memory_per_node', set: parsed('memory_per_node', parseMemoryMiB) },
  { long: 'mem-per-cpu', arg: 'required', scope: 'sbatch', field: 'memory_per_cpu', set: parsed('memory_per_cpu', parseMemoryMiB) },
  { long: 'gres', arg: 'required', scope: 'sbatch', field: 'tres_per_node', set: parsed('tres_per_node', parseGres) },
  { short: 'G', long: 'gpus', arg: 'required', scope: 'sbatch', field: 'tres_per_job', set: parsed('tres_per_job', parseGpus) },
  { short: 't', long: 'time', arg: 'required', scope: 'sbatch', field: 'time_limit', set: parsed('time_limit', parseTimeLimit) },
  { short: 'p', long: 'partition', arg: 'required', scope: 'sbatch', field: 'partition', set: text('partition') },
  { short: 'A', long: 'account', arg: 'required', scope: 'sbatch', field: 'account', recordedOnly: 'simulator', set: text('account') },
  { short: 'q', long: 'qos', arg: 'required', scope: 'sbatch', field: 'qos', recordedOnly: 'simulator', set: text('qos') },
  { short: 'o', long: 'output', arg: 'required', scope: 'sbatch', field: 'standard_output', set: text('standard_output') },
  { short: 'e', long: 'error', arg: 'required', scope: 'sbatch', field: 'standard_error', set: text('standard_error') },
  { short: 'D', long: 'chdir', arg: 'required', scope: 'sbatch', field: 'current_working_directory', set: text('current_working_directory') },
  { long: 'export', arg: 'required', scope: 'sbatch', field: 'export', set: parsed('export', (v, o) => (parseExportSpec(v, o), v)) },
  { short: 'a', long: 'array', arg: 'required', scope: 'sbatch', field: 'array', recordedOnly: 'always', set: parsed('array', validateArraySpec) },
  { short: 'd', long: 'dependency', arg: 'required', scope: 'sbatch', field: 'dependency', set: parsed('dependency', validateDependencySpec) },
  { long: 'begin', arg: 'required', scope: 'sbatch', field: 'begin_time', set: parsed('begin_time', (v, o, s) => parseBeginTime(v, s.context.now ?? new Date(), o)) },
  {
    long: 'nice', arg: 'optional', scope: 'sbatch', field: 'nice',
    set: (s, v, o) => {
      if (v !== undefined && !/^[+-]?\d+$/.test(v)) throw invalidOption(o, `Invalid ${o} value '${v}': must be an integer`);
      const nice = v === undefined ? 100 : Number(v);
      if (Math.abs(nice) > NICE_LIMIT) throw invalidOption(o, `Invalid ${o} value, out of range (+/- ${NICE_LIMIT}): '${v}'`);
      s.description.nice = nice;
    },
  },
  {
    long: 'exclusive', arg: 'optional', scope: 'sbatch', field: 'exclusive',
    set: (s, v, o) => {
      const mode = v?.toLowerCase();
      if (mode !== undefined && !EXCLUSIVE_ALIASES.has(mode) && !EXCLUSIVE_APPROXIMATED.has(mode)) {
        throw invalidOption(o, `Invalid ${o} specification '${v}': use ${o} alone (GRM also reads =user, =mcs and =topo as whole-node exclusive)`);
      }
      if (mode !== undefined && EXCLUSIVE_APPROXIMATED.has(mode)) {
        s.warnings.push(`sbatch option ${o}=${v} is treated as ${o} (whole nodes) by GRM`);
      }
      s.description.exclusive = true;
    },
  },
  { long: 'comment', arg: 'required', scope: 'sbatch', field: 'comment', set: parsed('comment', (v) => v) },
  { long: 'mail-type', arg: 'required', scope: 'sbatch', field: 'mail_type', recordedOnly: 'always', set: parsed('mail_type', validateMailType) },
  { long: 'mail-user', arg: 'required', scope: 'sbatch', field: 'mail_user', recordedOnly: 'always', set: text('mail_user') },
  { long: 'parsable', arg: 'none', scope: 'cli', set: flag('parsable') },
  // GRM's own options.
  { long: 'dry-run', arg: 'none', scope: 'cli', set: flag('dryRun') },
  { long: 'json', arg: 'none', scope: 'cli', set: flag('json') },
  { long: 'runtime', arg: 'required', scope: 'grm', field: 'runtime', set: oneOf('runtime', ['command', 'compss'] as const) },
  { long: 'lang', arg: 'required', scope: 'grm', field: 'lang', set: oneOf('lang', ['python', 'java', 'c'] as const) },
  { long: 'compss-flags', arg: 'required', scope: 'grm', field: 'compss_flags', set: parsed('compss_flags', (v, o) => splitCompssFlags(v, o)) },
  {
    long: 'compss-log-level',
    arg: 'required',
    scope: 'grm',
    field: 'compss_log_level',
    set: oneOf('compss_log_level', ['off', 'info', 'debug', 'trace'] as const),
  },
  { long: 'python-interpreter', arg: 'required', scope: 'grm', field: 'python_interpreter', set: text('python_interpreter') },
];

const BY_LONG = new Map(OPTIONS.map((o) => [o.long, o]));
const BY_SHORT = new Map(OPTIONS.filter((o) => o.short).map((o) => [o.short as string, o]));

/** sbatch options GRM knows of but does not support, for a clearer error than a guess. */
const UNSUPPORTED_SBATCH = new Set(
  ('constraint wrap hold nodelist exclude reservation licenses requeue no-requeue signal open-mode propagate ' +
    'get-user-env deadline time-min priority wait test-only clusters distribution threads-per-core ' +
    'sockets-per-node cores-per-socket hint contiguous tmp uid gid input gpus-per-node gpus-per-task ' +
    'cpus-per-gpu mem-per-gpu ntasks-per-core ntasks-per-socket ntasks-per-gpu switches wckey container ' +
    'kill-on-invalid-dep batch bb bbf cluster-constraint core-spec delay-boot extra-node-info gpu-bind gpu-freq ' +
    'ignore-pbs mcs-label network no-kill overcommit oversubscribe power prefer profile spread-job ' +
    'thread-spec tres-per-task use-min-nodes verbose quiet export-file').split(' '),
);

function unknownOption(option: string): GrmError {
  let hint = '';
  if (option.startsWith('--')) {
    const name = option.slice(2);
    const prefixed = OPTIONS.filter((o) => o.long.startsWith(name));
    const close = closestName(name, OPTIONS.map((o) => o.long));
    if (UNSUPPORTED_SBATCH.has(name)) hint = ' (a SLURM sbatch option that GRM does not support)';
    else if (close) hint = ` (did you mean '--${close}'?)`;
    else if (prefixed.length === 1 && name.length >= 2) hint = ` (did you mean '--${(prefixed[0] as OptionSpec).long}'?)`;
  }
  return new GrmError('E_OPTION_UNKNOWN', `unrecognized option '${option}'${hint}`, { field: option });
}

function checkScope(spec: OptionSpec, state: ParseState): void {
  const o = `--${spec.long}`;
  const fail = (message: string): never => {
    throw new GrmError('E_OPTION_INVALID', message, { field: o });
  };
  if (state.source === 'sbatch-directive' && spec.scope === 'grm') {
    fail(`${o} is a GRM option: put it in a '#GRM ${o}=...' line or on the command line, not in #SBATCH`);
  }
  if (state.source === 'grm-directive' && spec.scope !== 'grm') {
    fail(`#GRM lines take only GRM options (--runtime, --lang, --compss-*, --python-interpreter); put ${o} in an #SBATCH line`);
  }
  if (state.source === 'sbatch-directive' && spec.scope === 'cli' && spec.long !== 'parsable') {
    fail(`${o} is a command-line flag of GRM's sbatch and cannot be used in a script directive`);
  }
}

function apply(spec: OptionSpec, value: string | undefined, state: ParseState): void {
  checkScope(spec, state);
  if (spec.long === 'parsable' && state.source !== 'cli') {
    state.warnings.push('#SBATCH --parsable only affects the sbatch command line; it is ignored in a script');
    return;
  }
  spec.set(state, value, `--${spec.long}`);
}

/**
 * Parse options from `tokens` into `state`. Returns the index of the first token that
 * is not an option (tokens.length when all were options); `--` is consumed and ends options.
 */
function parseOptions(tokens: string[], state: ParseState): { next: number; sawDoubleDash: boolean } {
  let i = 0;
  while (i < tokens.length) {
    const tok = tokens[i] as string;
    if (tok === '--') return { next: i + 1, sawDoubleDash: true };
    if (tok.startsWith('--')) {
      const eq = tok.indexOf('=');
      const name = eq < 0 ? tok.slice(2) : tok.slice(2, eq);
      let value = eq < 0 ? undefined : tok.slice(eq + 1);
      const spec = BY_LONG.get(name);
      if (!spec) throw unknownOption(`--${name}`);
      if (spec.arg === 'none' && value !== undefined) {
        throw new GrmError('E_OPTION_INVALID', `option '--${name}' doesn't allow an argument`, { field: `--${name}` });
      }
      if (spec.arg === 'required' && value === undefined) {
        if (i + 1 >= tokens.length) {
          throw new GrmError('E_OPTION_INVALID', `option '--${name}' requires an argument`, { field: `--${name}` });
        }
        value = tokens[++i];
      }
      apply(spec, value, state);
      i++;
      continue;
    }
    if (tok.startsWith('-') && tok.length > 1) {
      // A cluster of short options: flags first, then at most one that takes a value.
      for (let j = 1; j < tok.length; j++) {
        const spec = BY_SHORT.get(tok[j] as string);
        if (!spec) throw unknownOption(`-${tok[j]}`);
        if (spec.arg === 'none') {
          apply(spec, undefined, state);
          continue;
        }
        let value: string | undefined = tok.slice(j + 1);
        if (value === '') {
          if (i + 1 >= tokens.length) {
            throw new GrmError('E_OPTION_INVALID', `option '-${tok[j]}' (--${spec.long}) requires an argument`, { field: `--${spec.long}` });
          }
          value = tokens[++i];
        }
        apply(spec, value, state);
        break;
      }
      i++;
      continue;
    }
    return { next: i, sawDoubleDash: false };
  }
  return { next: i, sawDoubleDash: false };
}

function newState(source: Source, context: SbatchParseContext): ParseState {
  return { description: {}, flags: { dryRun: false, json: false, parsable: false }, warnings: [], context, source };
}

/** Cross-option rules within one source (command line or script). */
function checkCombination(description: JobDescription): void {
  if (description.memory_per_node !== undefined && description.memory_per_cpu !== undefined) {
    throw new GrmError('E_OPTION_INVALID', '--mem and --mem-per-cpu are mutually exclusive', { field: '--mem' });
  }
}

/**
 * Warnings for options GRM records but does not act on: --mail-type and --mail-user
 * always; --account and --qos when the backend is the simulator.
 */
export function recordedOnlyWarnings(description: JobDescription, backend?: BackendKind): string[] {
  return OPTIONS.filter(
    (o) =>
      o.field !== undefined &&
      description[o.field] !== undefined &&
      (o.recordedOnly === 'always' || (o.recordedOnly === 'simulator' && backend === 'simulator')),
  ).map((o) => `sbatch option --${o.long} is recorded but GRM does not act on it`);
}

/**
 * Parse an sbatch command line (without the leading "sbatch"). Options end at the first
 * non-option, which is the script path; everything after it is the script's arguments.
 */
export function parseSbatchArgs(argv: string[], context: SbatchParseContext = {}): ParsedSbatchArgs {
  const state = newState('cli', context);
  const { next } = parseOptions(argv, state);
  checkCombination(state.description);
  const result: ParsedSbatchArgs = {
    description: state.description,
    scriptArgs: argv.slice(next + 1),
    flags: state.flags,
    warnings: [...state.warnings, ...recordedOnlyWarnings(state.description, context.backend)],
  };
  if (next < argv.length) result.scriptPath = argv[next] as string;
  return result;
}

const SHEBANG_MESSAGE =
  'This does not look like a batch script. The first line must start with #! followed by the path to an interpreter.';

/**
 * Read the `#SBATCH` (and `#GRM`) directives of a batch script. As sbatch: the first
 * line must be `#!...`; directives are read until the first command line (a line that is
 * neither blank nor a comment); later `#SBATCH` lines are plain comments. A line may hold
 * several options. `#SLURM` is read as `#SBATCH` with a warning.
 */
export function parseScriptDirectives(scriptText: string, context: SbatchParseContext = {}): ParsedScriptDirectives {
  const scriptError = (message: string): GrmError => new GrmError('E_SCRIPT_INVALID', message);
  if (scriptText.length === 0) throw scriptError('Batch script is empty');
  if (scriptText.trim() === '') throw scriptError('Batch script contains only whitespace');
  if (!scriptText.startsWith('#!')) throw scriptError(`${SHEBANG_MESSAGE} For instance: #!/bin/sh`);
  if (scriptText.includes('\0')) throw scriptError("Batch script contains a NUL character ('\\0'), which is not allowed");
  if (scriptText.includes('\r\n')) {
    throw scriptError('Batch script contains DOS line breaks (\\r\\n) instead of expected UNIX line breaks (\\n)');
  }
  const sbatch = newState('sbatch-directive', context);
  const lines = scriptText.split('\n');
  let warnedSlurm = false;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n] as string;
    let rest: string;
    let source: Source;
    if (line.startsWith('#SBATCH')) {
      rest = line.slice('#SBATCH'.length);
      source = 'sbatch-directive';
    } else if (line.startsWith('#SLURM')) {
      rest = line.slice('#SLURM'.length);
      source = 'sbatch-directive';
      if (!warnedSlurm) sbatch.warnings.push(`script line ${n + 1}: change #SLURM to #SBATCH; #SLURM directives are deprecated`);
      warnedSlurm = true;
    } else if (/^#GRM(\s|$)/.test(line)) {
      rest = line.slice('#GRM'.length);
      source = 'grm-directive';
    } else {
      const trimmed = line.trimStart();
      if (trimmed !== '' && !trimmed.startsWith('#')) break; // first command: directives end
      continue;
    }
    sbatch.source = source;
    try {
      const tokens = splitDirectiveLine(rest, n + 1);
      const { next, sawDoubleDash } = parseOptions(tokens, sbatch);
      if (next < tokens.length || sawDoubleDash) {
        throw new GrmError('E_SCRIPT_INVALID', `Invalid directive found in batch script: ${sawDoubleDash ? '--' : tokens[next]}`);
      }
    } catch (e) {
      if (e instanceof GrmError && !e.message.startsWith('script line')) {
        const options = e.field === undefined ? { cause: e } : { field: e.field, cause: e };
        throw new GrmError(e.code, `script line ${n + 1}: ${e.message}`, options);
      }
      throw e;
    }
  }
  checkCombination(sbatch.description);
  return {
    description: sbatch.description,
    warnings: [...sbatch.warnings, ...recordedOnlyWarnings(sbatch.description, context.backend)],
  };
}

/** Options that replace each other: setting one on the command line drops the others from the script. */
const EXCLUSIVE_FIELDS: ReadonlyArray<ReadonlyArray<keyof JobDescription>> = [['memory_per_node', 'memory_per_cpu']];

/** Merge script directives with command-line options; the command line wins. */
export function mergeDescriptions(fromScript: JobDescription, fromCommandLine: JobDescription): JobDescription {
  const merged: Record<string, unknown> = { ...fromScript };
  for (const [key, value] of Object.entries(fromCommandLine)) if (value !== undefined) merged[key] = value;
  for (const group of EXCLUSIVE_FIELDS) {
    const chosen = group.find((f) => fromCommandLine[f] !== undefined);
    if (chosen) for (const f of group) if (f !== chosen) delete merged[f];
  }
  return merged as JobDescription;
}

/**
 * The environment a job gets from --export, given the submission environment `env`:
 * ALL (the default) → all of env; NONE or NIL → nothing; `NAME,NAME=value` → the named
 * variables present in env plus the given values; `ALL,NAME=value` → all of env, with
 * NAME=value used only when env lacks NAME (sbatch's documented precedence).
 */
export function resolveExport(spec: string | undefined, env: Record<string, string | undefined>): Record<string, string> {
  const parsedSpec = parseExportSpec(spec ?? 'ALL');
  const out: Record<string, string> = {};
  if (parsedSpec.none) return out;
  if (parsedSpec.all) for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  for (const name of parsedSpec.names) {
    const v = env[name];
    if (v !== undefined) out[name] = v;
  }
  for (const [name, value] of Object.entries(parsedSpec.values)) {
    if (!(parsedSpec.all && env[name] !== undefined)) out[name] = value;
  }
  return out;
}
