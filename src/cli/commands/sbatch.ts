/**
 * grm sbatch [options] script [args...] — sbatch's options and #SBATCH directives, parsed
 * here (so --dry-run needs no daemon) and only here: the request says they are applied, and
 * the daemon parses directives only for REST clients that send a bare script.
 */
import fs from 'node:fs';
import path from 'node:path';
import { checkCompssApplication, hasApplicationFile, resolveCompssPaths } from '../../compss/compss-app.js';
import { GrmError } from '../../errors.js';
import type { JobDescription } from '../../jobs/job-types.js';
import { MAX_ARRAY_INDEX } from '../../sbatch/array-spec.js';
import { sbatchHelpText, sbatchUsageText, sbatchVersionText } from '../../sbatch/sbatch-help.js';
import { mergeDescriptions, parseSbatchArgs, parseScriptDirectives, resolveExport, type ParsedSbatchArgs } from '../../sbatch/sbatch-options.js';
import { ApiClient, CliError } from '../api-client.js';
import { cliToken } from '../credentials.js';
import { daemonUrl, type CliIo } from '../io.js';

/** GRM's version, from the package.json two levels above src/cli/commands (and dist/cli/commands). */
function grmVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The batch script: --wrap's, else the file named, else stdin. */
async function readScript(parsed: ParsedSbatchArgs, io: CliIo): Promise<string> {
  if (parsed.description.script !== undefined) return parsed.description.script;
  if (parsed.scriptPath) {
    const file = path.resolve(io.cwd, parsed.scriptPath);
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new CliError(`Unable to open file ${parsed.scriptPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  if (io.readStdin) return io.readStdin();
  throw new CliError('no batch script given: grm sbatch [options] script.sh [args...]');
}

/** The daemon knows its MaxArraySize: the CLI checks only the syntax and SLURM's hard bound. */
const CLI_CONTEXT = { maxArraySize: MAX_ARRAY_INDEX + 1 };

/**
 * A COMPSs Java or C app is named on the command line (the main class, the binary), not read:
 * `grm sbatch --runtime=compss --lang=java --classpath=app.jar matmul.Matmul` as runcompss takes it.
 */
function namedApplication(parsed: ParsedSbatchArgs): boolean {
  return !hasApplicationFile(parsed.description) && parsed.description.script === undefined;
}

/** The request: the script's directives under the command line's options, paths made absolute. */
async function buildDescription(parsed: ParsedSbatchArgs, io: CliIo): Promise<{ description: JobDescription; warnings: string[] }> {
  let description: JobDescription;
  let warnings = parsed.warnings;
  let script: string | undefined;
  if (namedApplication(parsed)) {
    const lang = parsed.description.lang;
    if (!parsed.scriptPath) throw new CliError(`no application given: grm sbatch --runtime=compss --lang=${lang} [options] ${lang === 'java' ? 'main.Class' : 'binary'} [args...]`);
    description = { ...parsed.description, application: parsed.scriptPath };
  } else {
    script = await readScript(parsed, io);
    const fromScript = parseScriptDirectives(script, CLI_CONTEXT, parsed.description.runtime ? { runtime: parsed.description.runtime } : {});
    description = mergeDescriptions(fromScript.description, parsed.description);
    warnings = [...warnings, ...fromScript.warnings];
  }
  if (!description.name) description.name = parsed.scriptPath ? path.basename(parsed.scriptPath) : 'sbatch';
  // as sbatch: a relative -D is relative to where sbatch runs (the daemon has no current directory)
  if (description.current_working_directory) description.current_working_directory = path.resolve(io.cwd, description.current_working_directory);
  // the same for the COMPSs paths (--classpath, ..., a C binary): the master runs elsewhere
  description = resolveCompssPaths(description, io.cwd);
  // --export as sbatch: the submitting environment (ALL by default) travels with the job.
  description.environment = resolveExport(description.export, io.env);
  if (script !== undefined) description.script = script;
  description.argv = parsed.scriptArgs;
  checkCompssApplication(description);
  return { description, warnings };
}

export async function sbatchCommand(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseSbatchArgs(argv, CLI_CONTEXT);
  // As sbatch: these answer at once, without a script or a daemon.
  if (parsed.flags.help) return (io.stdout(sbatchHelpText()), 0);
  if (parsed.flags.usage) return (io.stdout(sbatchUsageText()), 0);
  if (parsed.flags.version) return (io.stdout(sbatchVersionText(grmVersion())), 0);
  if (parsed.flags.testOnly && !parsed.flags.dryRun) {
    // Until the daemon takes test_only, submitting would start the job the user only wanted checked.
    throw new CliError('--test-only is not available yet with this GRM daemon; --dry-run shows the request without submitting it');
  }
  const { description, warnings } = await buildDescription(parsed, io);
  const printed = new Set(warnings);
  for (const w of printed) io.stderr(`sbatch: warning: ${w}\n`);

  if (parsed.flags.dryRun) {
    const shown = parsed.flags.json ? description : { ...description, environment: `(${Object.keys(description.environment ?? {}).length} variables)` };
    io.stdout(`${JSON.stringify(shown, null, 2)}\n`);
    return 0;
  }
  const client = new ApiClient({ baseUrl: daemonUrl(io.env), ...cliToken(io.env, io.cwd) });
  // parsed once per submission: the daemon takes this request as it is
  const body: JobDescription = { ...description, directives_applied: true };
  const result = await client.request<{ job_id: number; warnings: string[] }>('POST', '/api/v1/jobs', body);
  // The daemon knows its backend: it adds warnings the CLI could not give (e.g. --account on the simulator).
  for (const w of result.warnings) if (!printed.has(w)) io.stderr(`sbatch: warning: ${w}\n`);
  if (parsed.flags.json) io.stdout(`${JSON.stringify(result)}\n`);
  else if (parsed.flags.parsable) io.stdout(`${result.job_id}\n`);
  else io.stdout(`Submitted batch job ${result.job_id}\n`);
  return 0;
}

export function isGrmOrCliError(e: unknown): e is GrmError | CliError {
  return e instanceof GrmError || e instanceof CliError;
}
