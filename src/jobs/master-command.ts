/**
 * The argv of a job's master. `command` runs the job's script itself; `compss` runs
 * runcompss (src/compss) on the job's application with the job's own files and port.
 * `scriptPath` is where the job's script (or Python app) was written; Java and C apps have none.
 */
import { compssPathFlags, hasApplicationFile } from '../compss/compss-app.js';
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
    pathFlags: compssPathFlags(d),
    ...(d.compss_flags ? { flags: d.compss_flags } : {}),
    // a Python app is the file written into the job folder; Java and C apps are named
    application: hasApplicationFile({ runtime: job.runtime, lang: d.lang }) ? ctx.scriptPath : (d.application ?? ''),
    args: job.argv,
  });
}
