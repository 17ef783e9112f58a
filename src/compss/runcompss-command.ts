/**
 * The runcompss command line of a COMPSs master: the job's own project/resources files, log
 * dir and master port first, then the application's paths (--classpath, --appdir, --pythonpath,
 * --library_path), the job's flags after them (so they can refine GRM's), then the application
 * (a Python file, a Java main class or a C binary) and its arguments. Always an argv array:
 * nothing here passes through a shell.
 */
import path from 'node:path';

export interface RuncompssInput {
  runcompss: string;
  projectPath: string;
  resourcesPath: string;
  jobDir: string;
  masterHost: string;
  masterPort: number;
  lang?: 'python' | 'java' | 'c';
  logLevel?: 'off' | 'info' | 'debug' | 'trace';
  pythonInterpreter?: string;
  /** Already spelled as runcompss flags (see compssPathFlags). */
  pathFlags?: string[];
  flags?: string[];
  application: string;
  args: string[];
}

export function runcompssCommand(input: RuncompssInput): { command: string; args: string[] } {
  const lang = input.lang ?? 'python';
  return {
    command: input.runcompss,
    args: [
      `--project=${input.projectPath}`,
      `--resources=${input.resourcesPath}`,
      `--lang=${lang}`,
      `--master_name=${input.masterHost}`,
      `--master_port=${input.masterPort}`,
      `--specific_log_dir=${path.join(input.jobDir, 'compss')}`,
      `--log_level=${input.logLevel ?? 'off'}`,
      ...(input.pythonInterpreter && lang === 'python' ? [`--python_interpreter=${input.pythonInterpreter}`] : []),
      ...(input.pathFlags ?? []),
      ...(input.flags ?? []),
      input.application,
      ...input.args,
    ],
  };
}
