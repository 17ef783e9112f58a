/**
 * Every sbatch option GRM knows, in one table: how it is spelled, where it may appear,
 * what it sets, and its line in `grm sbatch --help` (generated from here, so the help
 * cannot drift from what is parsed). Adding an option is one entry. Pure.
 */
import type { ResourceBackend } from '../backends/resource-backend.js';
import { splitCompssFlags } from '../compss/compss-flags.js';
import type { JobDescription } from '../jobs/job-types.js';
import { validateArraySpec } from './array-spec.js';
import { pathTextProblem } from './output-path.js';
import {
  parseExportSpec,
  parseGpus,
  parseGres,
  parseOpenMode,
  parseSignalSpec,
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

export type BackendKind = ResourceBackend['kind'];

export interface SbatchParseContext {
  /** The reference time for --begin (now, now+1hour, 16:00, ...). Default: the current time. */
  now?: Date;
  /** Where the job will run; with 'simulator', --account and --qos produce a warning. */
  backend?: BackendKind;
  /** SLURM's MaxArraySize: --array indexes must be below it. Default 1001, SLURM's default. */
  maxArraySize?: number;
}

export interface SbatchFlags {
  dryRun: boolean;
  json: boolean;
  parsable: boolean;
  /** --test-only: check the job and estimate its start, without submitting it. */
  testOnly: boolean;
  help: boolean;
  usage: boolean;
  version: boolean;
}

export const NO_FLAGS: Readonly<SbatchFlags> = {
  dryRun: false, json: false, parsable: false, testOnly: false, help: false, usage: false, version: false,
};

/** Where an option may appear: sbatch options anywhere, GRM's in #GRM lines, some on the command line only. */
export type Scope = 'sbatch' | 'grm' | 'cli';
export type Source = 'cli' | 'sbatch-directive' | 'grm-directive';

export interface ParseState {
  description: JobDescription;
  flags: SbatchFlags;
  warnings: string[];
  context: SbatchParseContext;
  source: Source;
  /** Long names of the options given in this source, for the mutually-exclusive checks. */
  seen: Set<string>;
}

/** The sections of `sbatch --help`, in its order, then GRM's own. */
export const HELP_GROUPS = [
  'Parallel run options',
  'Constraint options',
  'Consumable resources related options',
  'GPU scheduling options',
  'Help options',
  'Other options',
  "GRM options (command line or '#GRM' lines)",
] as const;
export type HelpGroup = (typeof HELP_GROUPS)[number];

export interface OptionSpec {
  long: string;
  short?: string;
  arg: 'none' | 'required' | 'optional';
  scope: Scope;
  /** GRM records the value but does not act on it: always, or on the simulator backend only. */
  recordedOnly?: 'always' | 'simulator';
  /** The description field the option sets, when it is exactly one. */
  field?: keyof JobDescription;
  /** --help: the section, the argument's name (when it takes one) and what the option does. */
  group: HelpGroup;
  metavar?: string;
  help: string;
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
/** Store a path as written, once it is one open(2) could take (no NUL, at most PATH_MAX bytes). */
const pathText =
  (field: keyof JobDescription): Setter =>
  (s, v, o) => {
    const problem = pathTextProblem(v ?? '');
    if (problem !== null) throw invalidOption(o, `Invalid ${o} ${v ? `(${Buffer.byteLength(v)} bytes)` : "''"}: ${problem}`);
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
/** Set a boolean description field (a flag option). */
const fixed =
  (field: keyof JobDescription, value: boolean): Setter =>
  (s) => {
    (s.description as Record<string, unknown>)[field] = value;
  };
const flag =
  (name: keyof SbatchFlags): Setter =>
  (s) => {
    s.flags[name] = true;
  };

const NICE_LIMIT = 2147483645; // SLURM's NICE_OFFSET - 3
const EXCLUSIVE_ALIASES = new Set(['exclusive', 'allocation']);
const EXCLUSIVE_APPROXIMATED = new Set(['user', 'mcs', 'topo']);

/** The script sbatch writes for --wrap, byte for byte. */
export function wrapScript(command: string): string {
  return `#!/bin/sh\n# This script was created by sbatch --wrap.\n\n${command}\n`;
}

const setNice: Setter = (s, v, o) => {
  if (v !== undefined && !/^[+-]?\d+$/.test(v)) throw invalidOption(o, `Invalid ${o} value '${v}': must be an integer`);
  const nice = v === undefined ? 100 : Number(v);
  if (Math.abs(nice) > NICE_LIMIT) throw invalidOption(o, `Invalid ${o} value, out of range (+/- ${NICE_LIMIT}): '${v}'`);
  s.description.nice = nice;
};

const setExclusive: Setter = (s, v, o) => {
  const mode = v?.toLowerCase();
  if (mode !== undefined && !EXCLUSIVE_ALIASES.has(mode) && !EXCLUSIVE_APPROXIMATED.has(mode)) {
    throw invalidOption(o, `Invalid ${o} specification '${v}': use ${o} alone (GRM also reads =user, =mcs and =topo as whole-node exclusive)`);
  }
  if (mode !== undefined && EXCLUSIVE_APPROXIMATED.has(mode)) {
    s.warnings.push(`sbatch option ${o}=${v} is treated as ${o} (whole nodes) by GRM`);
  }
  s.description.exclusive = true;
};

const setWrap: Setter = (s, v, o) => {
  if (!v) throw invalidOption(o, `Invalid ${o} '': give the command to run, e.g. ${o}="hostname"`);
  s.description.script = wrapScript(v);
};

const memPerGpu = (v: string, o: string): number => {
  const mib = parseMemoryMiB(v, o);
  if (mib === 0) throw invalidOption(o, `Invalid ${o} specification '${v}': the size must be at least 1M`);
  return mib;
};

const P = 'Parallel run options';
const GPU = 'GPU scheduling options';
const GRM = "GRM options (command line or '#GRM' lines)";

export const OPTIONS: readonly OptionSpec[] = [
  { short: 'J', long: 'job-name', arg: 'required', scope: 'sbatch', field: 'name', set: text('name'), group: P, metavar: 'jobname', help: 'name of job' },
  {
    short: 'N', long: 'nodes', arg: 'required', scope: 'sbatch', group: P, metavar: 'N', help: 'number of nodes on which to run (N = min[-max])',
    set: (s, v, o) => {
      const { min, max } = parseNodeCount(v ?? '', o);
      s.description.minimum_nodes = min;
      s.description.maximum_nodes = max;
    },
  },
  { short: 'n', long: 'ntasks', arg: 'required', scope: 'sbatch', field: 'tasks', set: parsed('tasks', parsePositiveInt), group: P, metavar: 'ntasks', help: 'number of tasks to run' },
  { long: 'ntasks-per-node', arg: 'required', scope: 'sbatch', field: 'tasks_per_node', set: parsed('tasks_per_node', parsePositiveInt), group: P, metavar: 'n', help: 'number of tasks to invoke on each node' },
  { short: 'c', long: 'cpus-per-task', arg: 'required', scope: 'sbatch', field: 'cpus_per_task', set: parsed('cpus_per_task', parsePositiveInt), group: P, metavar: 'ncpus', help: 'number of cpus required per task' },
  { long: 'mem', arg: 'required', scope: 'sbatch', field: 'memory_per_node', set: parsed('memory_per_node', parseMemoryMiB), group: 'Constraint options', metavar: 'MB', help: 'minimum amount of real memory' },
  { long: 'mem-per-cpu', arg: 'required', scope: 'sbatch', field: 'memory_per_cpu', set: parsed('memory_per_cpu', parseMemoryMiB), group: 'Consumable resources related options', metavar: 'MB', help: 'maximum amount of real memory per allocated cpu required by the job' },
  { long: 'gres', arg: 'required', scope: 'sbatch', field: 'tres_per_node', set: parsed('tres_per_node', parseGres), group: P, metavar: 'list', help: 'required generic resources per node (GRM: gpu only)' },
  { short: 'G', long: 'gpus', arg: 'required', scope: 'sbatch', field: 'tres_per_job', set: parsed('tres_per_job', parseGpus), group: GPU, metavar: 'n', help: 'count of GPUs required for the job' },
  { long: 'gpus-per-node', arg: 'required', scope: 'sbatch', field: 'tres_per_node', set: parsed('tres_per_node', parseGpus), group: GPU, metavar: 'n', help: 'number of GPUs required per allocated node' },
  { long: 'gpus-per-task', arg: 'required', scope: 'sbatch', field: 'tres_per_task', set: parsed('tres_per_task', parseGpus), group: GPU, metavar: 'n', help: 'number of GPUs required per spawned task' },
  { long: 'cpus-per-gpu', arg: 'required', scope: 'sbatch', field: 'cpus_per_gpu', set: parsed('cpus_per_gpu', parsePositiveInt), group: GPU, metavar: 'n', help: 'number of CPUs required per allocated GPU' },
  { long: 'mem-per-gpu', arg: 'required', scope: 'sbatch', field: 'memory_per_gpu', set: parsed('memory_per_gpu', memPerGpu), group: GPU, metavar: 'n', help: 'real memory required per allocated GPU' },
  { short: 't', long: 'time', arg: 'required', scope: 'sbatch', field: 'time_limit', set: parsed('time_limit', parseTimeLimit), group: P, metavar: 'minutes', help: 'time limit' },
  { short: 'p', long: 'partition', arg: 'required', scope: 'sbatch', field: 'partition', set: text('partition'), group: P, metavar: 'partition', help: 'partition requested' },
  { short: 'A', long: 'account', arg: 'required', scope: 'sbatch', field: 'account', set: text('account'), group: P, metavar: 'name', help: 'charge job to specified account' },
  { short: 'q', long: 'qos', arg: 'required', scope: 'sbatch', field: 'qos', recordedOnly: 'simulator', set: text('qos'), group: P, metavar: 'qos', help: 'quality of service' },
  { short: 'o', long: 'output', arg: 'required', scope: 'sbatch', field: 'standard_output', set: pathText('standard_output'), group: P, metavar: 'out', help: "file for batch script's standard output" },
  { short: 'e', long: 'error', arg: 'required', scope: 'sbatch', field: 'standard_error', set: pathText('standard_error'), group: P, metavar: 'err', help: "file for batch script's standard error" },
  { long: 'open-mode', arg: 'required', scope: 'sbatch', field: 'open_mode', set: parsed('open_mode', parseOpenMode), group: P, metavar: 'append|truncate', help: 'how to open the output and error files' },
  { short: 'D', long: 'chdir', arg: 'required', scope: 'sbatch', field: 'current_working_directory', set: pathText('current_working_directory'), group: P, metavar: 'directory', help: 'set working directory for batch script' },
  { long: 'export', arg: 'required', scope: 'sbatch', field: 'export', set: parsed('export', (v, o) => (parseExportSpec(v, o), v)), group: P, metavar: 'names', help: 'specify environment variables to export' },
  { short: 'a', long: 'array', arg: 'required', scope: 'sbatch', field: 'array', set: parsed('array', (v, o, s) => validateArraySpec(v, o, s.context.maxArraySize)), group: P, metavar: 'indexes', help: 'job array index values' },
  { short: 'd', long: 'dependency', arg: 'required', scope: 'sbatch', field: 'dependency', set: parsed('dependency', validateDependencySpec), group: P, metavar: 'type:jobid[:jobid]', help: 'defer job until condition on jobid is satisfied' },
  { long: 'begin', arg: 'required', scope: 'sbatch', field: 'begin_time', set: parsed('begin_time', (v, o, s) => parseBeginTime(v, s.context.now ?? new Date(), o)), group: P, metavar: 'time', help: 'defer job until HH:MM MM/DD/YY' },
  { short: 'H', long: 'hold', arg: 'none', scope: 'sbatch', field: 'hold', set: fixed('hold', true), group: P, help: 'submit job in held state' },
  // SLURM's --requeue[=expedite] is taken without a value: GRM requeues one way only.
  { long: 'requeue', arg: 'none', scope: 'sbatch', field: 'requeue', set: fixed('requeue', true), group: P, help: 'if set, permit the job to be requeued' },
  { long: 'no-requeue', arg: 'none', scope: 'sbatch', field: 'requeue', set: fixed('requeue', false), group: P, help: 'if set, do not permit the job to be requeued' },
  { long: 'signal', arg: 'required', scope: 'sbatch', field: 'signal', set: parsed('signal', parseSignalSpec), group: P, metavar: '[{R|B}:]num[@time]', help: 'send signal when time limit within time seconds' },
  { long: 'nice', arg: 'optional', scope: 'sbatch', field: 'nice', set: setNice, group: P, metavar: 'value', help: 'decrease scheduling priority by value' },
  { long: 'exclusive', arg: 'optional', scope: 'sbatch', field: 'exclusive', set: setExclusive, group: 'Consumable resources related options', metavar: 'user', help: 'allocate whole nodes to the job' },
  { long: 'comment', arg: 'required', scope: 'sbatch', field: 'comment', set: parsed('comment', (v) => v), group: P, metavar: 'name', help: 'arbitrary comment' },
  { long: 'mail-type', arg: 'required', scope: 'sbatch', field: 'mail_type', recordedOnly: 'always', set: parsed('mail_type', validateMailType), group: P, metavar: 'type', help: 'notify on state change: BEGIN, END, FAIL or ALL' },
  { long: 'mail-user', arg: 'required', scope: 'sbatch', field: 'mail_user', recordedOnly: 'always', set: text('mail_user'), group: P, metavar: 'user', help: 'who to send email notification for job state changes' },
  { long: 'wrap', arg: 'required', scope: 'cli', field: 'script', set: setWrap, group: P, metavar: 'command', help: 'wrap command string in a sh script and submit' },
  { long: 'parsable', arg: 'none', scope: 'cli', set: flag('parsable'), group: P, help: 'outputs only the jobid on successful submission' },
  { long: 'test-only', arg: 'none', scope: 'cli', set: flag('testOnly'), group: P, help: 'validate the job and estimate its start, without submitting it' },
  { short: 'h', long: 'help', arg: 'none', scope: 'cli', set: flag('help'), group: 'Help options', help: 'show this help message' },
  { long: 'usage', arg: 'none', scope: 'cli', set: flag('usage'), group: 'Help options', help: 'display brief usage message' },
  { short: 'V', long: 'version', arg: 'none', scope: 'cli', set: flag('version'), group: 'Other options', help: 'output version information and exit' },
  // GRM's own options.
  { long: 'dry-run', arg: 'none', scope: 'cli', set: flag('dryRun'), group: GRM, help: 'print the job request instead of submitting it' },
  { long: 'json', arg: 'none', scope: 'cli', set: flag('json'), group: GRM, help: "print the daemon's answer (or the --dry-run request) as JSON" },
  { long: 'runtime', arg: 'required', scope: 'grm', field: 'runtime', set: oneOf('runtime', ['command', 'compss'] as const), group: GRM, metavar: 'command|compss', help: 'run the script as a command, or with runcompss' },
  { long: 'lang', arg: 'required', scope: 'grm', field: 'lang', set: oneOf('lang', ['python', 'java', 'c'] as const), group: GRM, metavar: 'python|java|c', help: 'runcompss --lang (with --runtime=compss)' },
  { long: 'compss-flags', arg: 'required', scope: 'grm', field: 'compss_flags', set: parsed('compss_flags', (v, o) => splitCompssFlags(v, o)), group: GRM, metavar: 'flags', help: 'extra runcompss flags, split as a shell would' },
  {
    long: 'compss-log-level', arg: 'required', scope: 'grm', field: 'compss_log_level',
    set: oneOf('compss_log_level', ['off', 'info', 'debug', 'trace'] as const),
    group: GRM, metavar: 'off|info|debug|trace', help: 'runcompss --log_level (default off)',
  },
  { long: 'python-interpreter', arg: 'required', scope: 'grm', field: 'python_interpreter', set: text('python_interpreter'), group: GRM, metavar: 'path', help: 'runcompss --python_interpreter' },
  // Paths as written here; grm sbatch resolves relative ones against the submit directory.
  { long: 'classpath', arg: 'required', scope: 'grm', field: 'classpath', set: text('classpath'), group: GRM, metavar: 'paths', help: 'runcompss --classpath: jars and class folders (--lang=java)' },
  { long: 'appdir', arg: 'required', scope: 'grm', field: 'appdir', set: text('appdir'), group: GRM, metavar: 'dir', help: 'runcompss --appdir: the application folder' },
  { long: 'pythonpath', arg: 'required', scope: 'grm', field: 'pythonpath', set: text('pythonpath'), group: GRM, metavar: 'paths', help: 'runcompss --pythonpath (--lang=python)' },
  { long: 'library-path', arg: 'required', scope: 'grm', field: 'library_path', set: text('library_path'), group: GRM, metavar: 'paths', help: 'runcompss --library_path: folders of native libraries' },
];

export const BY_LONG = new Map(OPTIONS.map((o) => [o.long, o]));
export const BY_SHORT = new Map(OPTIONS.filter((o) => o.short).map((o) => [o.short as string, o]));

/**
 * Options of which one source (command line or script) may give only one, in SLURM's
 * words. Across sources the command line's choice replaces the script's (as SLURM lets a
 * command-line option reset what the environment set).
 */
export const MUTUALLY_EXCLUSIVE: ReadonlyArray<{ options: readonly string[]; message: string }> = [
  { options: ['mem', 'mem-per-cpu', 'mem-per-gpu'], message: '--mem, --mem-per-cpu, and --mem-per-gpu are mutually exclusive.' },
  { options: ['cpus-per-task', 'cpus-per-gpu'], message: '--cpus-per-task and --cpus-per-gpu are mutually exclusive' },
  { options: ['gres', 'gpus-per-node'], message: '--gpus-per-node and --gres=gpu are mutually exclusive.' },
];

/** sbatch options GRM knows of but does not support, for a clearer error than a guess. */
export const UNSUPPORTED_SBATCH = new Set(
  ('constraint nodelist exclude reservation licenses propagate get-user-env deadline time-min priority wait ' +
    'clusters distribution threads-per-core sockets-per-node cores-per-socket hint contiguous tmp uid gid input ' +
    'gpus-per-socket ntasks-per-core ntasks-per-socket ntasks-per-gpu switches wckey container container-id ' +
    'kill-on-invalid-dep batch bb bbf cluster-constraint core-spec delay-boot extra-node-info gpu-bind gpu-freq ' +
    'ignore-pbs mcs-label network no-kill overcommit oversubscribe power prefer profile spread-job ' +
    'thread-spec tres-per-task use-min-nodes verbose quiet export-file').split(' '),
);
