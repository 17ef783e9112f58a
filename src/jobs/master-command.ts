/**
 * The argv of a job's master. `command` runs the job's script itself; `compss` runs
 * runcompss (src/compss) on the job's application with the job's own files and port.
 */
import { runcompssCommand } from '../compss/runcompss-command.js';
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
  return runcompssCommand({
    runcompss: ctx.runcompss,
    projectPath: ctx.projectPath,
    resourcesPath: ctx.resourcesPath,
    jobDir: ctx.jobDir,
    masterHost: ctx.masterHost,
    masterPort: ctx.masterPort,
    ...(d.lang ? { lang: d.lang } : {}),
    ...(d.compss_log_level ? { logLevel: d.compss_log_level } : {}),
    ...(d.python_interpreter ? { pythonInterpreter: d.python_interpreter } : {}),
    ...(d.compss_flags ? { flags: d.compss_flags } : {}),
    application: ctx.scriptPath,
    args: job.argv,
  });
}
