/**
 * sbatch command lines and `#SBATCH` directives → JobDescription (slurmrestd field names).
 *
 * Pure: no file or environment access; `now` and `env` come in as arguments.
 * Options follow sbatch/getopt_long: `-N 2`, `-N2`, `--nodes=2`, `--nodes 2`; an option
 * given twice keeps the last value; options stop at the first non-option (the script
 * path) or at `--`. Long options must be spelled in full (no abbreviations).
 * Every option lives in one table (sbatch-option-table.ts); adding an option is one entry there.
 */
import { GrmError } from '../errors.js';
import type { JobDescription } from '../jobs/job-types.js';
import { parseExportSpec } from './slurm-specs.js';
import { closestName, splitDirectiveLine } from './sbatch-tokens.js';
import {
  BY_LONG,
  BY_SHORT,
  MUTUALLY_EXCLUSIVE,
  NO_FLAGS,
  OPTIONS,
  UNSUPPORTED_SBATCH,
  type BackendKind,
  type OptionSpec,
  type ParseState,
  type SbatchFlags,
  type SbatchParseContext,
  type Source,
} from './sbatch-option-table.js';

export { expandOutputPattern, type OutputPatternValues } from './output-pattern.js';
export { OPTIONS as SBATCH_OPTIONS, wrapScript, type BackendKind, type OptionSpec, type SbatchFlags, type SbatchParseContext } from './sbatch-option-table.js';

export interface ParsedSbatchArgs {
  /** Fields set by options only (script text and argv are the caller's to add, except --wrap's script). */
  description: JobDescription;
  /** The first non-option argument; undefined when the script comes from stdin or --wrap. */
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
    fail(`#GRM lines take only GRM options (--runtime, --lang, --compss-*, --python-interpreter, --classpath, --appdir, --pythonpath, --library-path); put ${o} in an #SBATCH line`);
  }
  if (state.source === 'sbatch-directive' && spec.scope === 'cli' && spec.long !== 'parsable') {
    // Refused rather than ignored: a --test-only or --wrap silently dropped would submit a real job.
    const what = spec.group.startsWith('GRM') ? "a command-line flag of GRM's sbatch" : 'an sbatch command-line option';
    fail(`${o} is ${what} and cannot be used in a script directive`);
  }
}

function apply(spec: OptionSpec, value: string | undefined, state: ParseState): void {
  checkScope(spec, state);
  if (spec.long === 'parsable' && state.source !== 'cli') {
    state.warnings.push('#SBATCH --parsable only affects the sbatch command line; it is ignored in a script');
    return;
  }
  spec.set(state, value, `--${spec.long}`);
  state.seen.add(spec.long);
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
  return { description: {}, flags: { ...NO_FLAGS }, warnings: [], context, source, seen: new Set() };
}

/** Cross-option rules within one source (command line or script). */
function checkCombination(state: ParseState): void {
  for (const { options, message } of MUTUALLY_EXCLUSIVE) {
    const given = options.filter((o) => state.seen.has(o));
    if (given.length > 1) throw new GrmError('E_OPTION_INVALID', message, { field: `--${given[0]}` });
  }
}

/**
 * Warnings for options GRM records but does not act on: --mail-type and --mail-user
 * always; --qos when the backend is the simulator (--account is checked against the user's
 * accounts on both).
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
  checkCombination(state);
  const { help, usage, version } = state.flags;
  // --wrap is the script: sbatch refuses a script file (or its arguments) next to it.
  if (state.seen.has('wrap') && next < argv.length && !help && !usage && !version) {
    throw new GrmError('E_OPTION_INVALID', 'Script arguments not permitted with --wrap option', { field: '--wrap' });
  }
  // As sbatch: a wrapped job is called "wrap" unless -J names it.
  if (state.seen.has('wrap') && state.description.name === undefined) state.description.name = 'wrap';
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

/** The directive lines of the leading comment block, parsed into `state` (sbatch's rule). */
function readDirectiveLines(lines: string[], state: ParseState): void {
  let warnedSlurm = false;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n] as string;
    let rest: string;
    if (line.startsWith('#SBATCH')) {
      rest = line.slice('#SBATCH'.length);
      state.source = 'sbatch-directive';
    } else if (line.startsWith('#SLURM')) {
      rest = line.slice('#SLURM'.length);
      state.source = 'sbatch-directive';
      if (!warnedSlurm) state.warnings.push(`script line ${n + 1}: change #SLURM to #SBATCH; #SLURM directives are deprecated`);
      warnedSlurm = true;
    } else if (/^#GRM(\s|$)/.test(line)) {
      rest = line.slice('#GRM'.length);
      state.source = 'grm-directive';
    } else {
      const trimmed = line.trimStart();
      if (trimmed !== '' && !trimmed.startsWith('#')) break; // first command: directives end
      continue;
    }
    try {
      const tokens = splitDirectiveLine(rest, n + 1);
      const { next, sawDoubleDash } = parseOptions(tokens, state);
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
}

/**
 * Read the `#SBATCH` (and `#GRM`) directives of a batch script. As sbatch: the first
 * line must be `#!...`; directives are read until the first command line (a line that is
 * neither blank nor a comment); later `#SBATCH` lines are plain comments. A line may hold
 * several options. `#SLURM` is read as `#SBATCH` with a warning.
 *
 * A COMPSs application (`runtime` compss, given by the caller's command line or request, or
 * by the file's own `#GRM --runtime=compss`) may lack the `#!` line: runcompss starts it
 * with the interpreter, so PyCOMPSs apps are submitted as written.
 */
export function parseScriptDirectives(
  scriptText: string,
  context: SbatchParseContext = {},
  options: { runtime?: JobDescription['runtime'] } = {},
): ParsedScriptDirectives {
  const scriptError = (message: string): GrmError => new GrmError('E_SCRIPT_INVALID', message);
  if (scriptText.length === 0) throw scriptError('Batch script is empty');
  if (scriptText.trim() === '') throw scriptError('Batch script contains only whitespace');
  const shebang = scriptText.startsWith('#!');
  if (!shebang && options.runtime !== undefined && options.runtime !== 'compss') throw scriptError(`${SHEBANG_MESSAGE} For instance: #!/bin/sh`);
  if (scriptText.includes('\0')) throw scriptError("Batch script contains a NUL character ('\\0'), which is not allowed");
  if (scriptText.includes('\r\n')) {
    throw scriptError('Batch script contains DOS line breaks (\\r\\n) instead of expected UNIX line breaks (\\n)');
  }
  const sbatch = newState('sbatch-directive', context);
  readDirectiveLines(scriptText.split('\n'), sbatch);
  if (!shebang && (options.runtime ?? sbatch.description.runtime) !== 'compss') {
    throw scriptError(`${SHEBANG_MESSAGE} For instance: #!/bin/sh (a COMPSs application needs none: submit it with --runtime=compss)`);
  }
  checkCombination(sbatch);
  return {
    description: sbatch.description,
    warnings: [...sbatch.warnings, ...recordedOnlyWarnings(sbatch.description, context.backend)],
  };
}

/** Fields that replace each other: setting one on the command line drops the others from the script. */
const EXCLUSIVE_FIELDS: ReadonlyArray<ReadonlyArray<keyof JobDescription>> = MUTUALLY_EXCLUSIVE.map(({ options }) => [
  ...new Set(options.map((o) => BY_LONG.get(o)?.field).filter((f): f is keyof JobDescription => f !== undefined)),
]).filter((group) => group.length > 1);

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
