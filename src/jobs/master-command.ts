/**
 * The argv of a job's master. `command` runs the job's script itself; `compss` runs
 * runcompss on the job's application with the job's own project/resources files, log dir
 * and master port. Always an argv array: nothing here passes through a shell.
 */
import path from 'node:path';
import type { JobRecord } from './job-types.js';

export interface MasterCommandContext {
  scriptPath: string;
  projectPath: string;
  resourcesPath: string;
  jobDir: string;
  runcompss: string;
  masterHost: string;
  masterPort: number;
}

export function masterCommandLine(job: JobRecord, ctx: MasterCommandContext): { command: string; args: string[] } {
  if (job.runtime !== 'compss') return { command: ctx.scriptPath, args: job.argv };
  const d = job.description;
  const lang = d.lang ?? 'python';
  return {
    command: ctx.runcompss,
    args: [
      `--project=${ctx.projectPath}`,
      `--resources=${ctx.resourcesPath}`,
      `--lang=${lang}`,
      `--master_name=${ctx.masterHost}`,
      `--master_port=${ctx.masterPort}`,
      `--specific_log_dir=${path.join(ctx.jobDir, 'compss')}`,
      `--log_level=${d.compss_log_level ?? 'off'}`,
      ...(d.python_interpreter && lang === 'python' ? [`--python_interpreter=${d.python_interpreter}`] : []),
      // The job's own flags come last among runcompss options so they can refine GRM's.
      ...(d.compss_flags ?? []),
      ctx.scriptPath,
      ...job.argv,
    ],
  };
}
