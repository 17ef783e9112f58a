/**
 * What a master needs before it starts, written for exactly its nodes: the job folder (its
 * user's where it runs as one), the script, the COMPSs project.xml/resources.xml, the output
 * files, the environment (SLURM_* as the allocation's) and the command line. Fails with a
 * message in words when the job cannot start (an unreachable folder, a missing -D).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Allocation, ResourceBackend } from '../backends/resource-backend.js';
import { compssFilesForAllocation } from '../compss/allocation-xml.js';
import { applicationModelOf, hasApplicationFile } from '../compss/compss-app.js';
import type { CompssConfig } from '../compss/compss-config.js';
import type { PortRange } from '../compss/ports.js';
import { writeCompssFiles } from '../compss/write-job-files.js';
import { buildMasterEnv } from '../runtime/master-env.js';
import { clearEarlierRun, type MasterSpec } from '../runtime/master-launcher.js';
import type { MasterIdentity, RunAs } from '../runtime/run-as.js';
import { arrayVars } from './job-arrays.js';
import { TASK_OUTPUT_DIR, giveToJob, precreateOutputs, prepareJobFolder, unreachableFolder } from './job-folder.js';
import type { JobRecord } from './job-types.js';
import { masterCommandLine } from './master-command.js';
import { outputFilesOf, type OutputFile, type OutputPolicy } from './output-policy.js';

/** Daemon variables that describe the daemon's own account: wrong for a master run as another. */
const ACCOUNT_VARS = ['HOME', 'USER', 'LOGNAME'];

export interface MasterSetup {
  jobDir: string;
  identity: MasterIdentity;
  /** The job's COMPSs port block (the runner keeps them apart). */
  ports: PortRange;
  paths: OutputPolicy;
  outputDevices: readonly string[];
  backend: Pick<ResourceBackend, 'kind'>;
  envAllowList: string[];
  daemonEnv: NodeJS.ProcessEnv;
  compss: Partial<CompssConfig> & { runcompss: string };
  masterHost: string;
  slurmEnv: Record<string, string>;
}

/** The launch spec (runtime/master-launcher.ts) less what the runner adds, plus the files to follow. */
export type PreparedMaster = Omit<MasterSpec, 'jobId' | 'jobDir' | 'runAs' | 'openMode' | 'outputDevices'> &
  Required<Pick<MasterSpec, 'runAs' | 'openMode' | 'outputDevices'>> & { files: OutputFile[] };

/** Writes the job's folder and files for this allocation; returns how to launch its master. */
export async function prepareMaster(job: JobRecord, allocation: Allocation, o: MasterSetup): Promise<PreparedMaster> {
  const { jobDir, identity, ports } = o;
  const runAs: RunAs | null = identity.kind === 'user' ? identity.runAs : null;
  const firstNode = allocation.nodes[0]?.name ?? 'localhost';
  const unreachable = unreachableFolder(jobDir, runAs);
  if (unreachable) throw new Error(`uid ${runAs?.uid} cannot enter ${unreachable}, on the way to its job folder: make GRM's data directory traversable (chmod o+x)`);
  o.paths.checkStart(job, identity, firstNode);
  const workDir = job.description.current_working_directory ?? path.join(jobDir, 'work');
  prepareJobFolder(jobDir, runAs, job.runtime === 'compss' ? ['work', TASK_OUTPUT_DIR, 'compss'] : ['work', TASK_OUTPUT_DIR]);
  clearEarlierRun(jobDir);
  if (!fs.statSync(workDir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new Error(`working directory ${workDir} (-D/--chdir) does not exist`);
  }
  const scriptPath = writeJobScript(job, jobDir, runAs);
  const tasksPerNode = Object.fromEntries(allocation.nodes.map((n) => [n.name, n.cpus]));
  const application = applicationModelOf(job.description);
  const compss = compssFilesForAllocation({ grmJobId: job.id, allocation, tasksPerNode, config: o.compss, ports, ...(application ? { application } : {}) });
  const { projectPath, resourcesPath } = await writeCompssFiles(jobDir, compss);
  const files = outputFilesOf(job, jobDir, firstNode);
  const stdoutPath = files[0]!.path;
  const stderrPath = files[1]?.path ?? stdoutPath;
  precreateOutputs(jobDir, [stdoutPath, stderrPath], runAs);
  const slurmJobId = o.backend.kind === 'slurm' ? allocation.backendId : String(job.id);
  const env = buildMasterEnv({
    allowList: runAs ? o.envAllowList.filter((name) => !ACCOUNT_VARS.includes(name)) : o.envAllowList,
    daemonEnv: o.daemonEnv,
    exported: job.environment,
    slurm: {
      jobId: slurmJobId,
      nodeList: allocation.nodeList,
      numNodes: allocation.nodes.length,
      ntasks: job.description.tasks ?? (job.description.tasks_per_node ?? 1) * allocation.nodes.length,
      ...(job.description.cpus_per_task ? { cpusPerTask: job.description.cpus_per_task } : {}),
      jobName: job.name,
      partition: allocation.partition,
      submitDir: job.description.current_working_directory ?? workDir,
      ...arrayVars(job),
      restartCount: job.restartCount,
      extra: o.slurmEnv,
    },
    grm: { jobId: job.id, projectXml: projectPath, resourcesXml: resourcesPath, jobDir, taskOutputDir: path.join(jobDir, TASK_OUTPUT_DIR) },
  });
  const { command, args } = masterCommandLine(job, {
    scriptPath,
    projectPath,
    resourcesPath,
    jobDir,
    runcompss: o.compss.runcompss,
    masterHost: o.masterHost,
    masterPort: compss.ports.masterPort,
  });
  const openMode = job.description.open_mode ?? 'append';
  return { command, args, cwd: workDir, env, stdoutPath, stderrPath, files, runAs, openMode, outputDevices: o.outputDevices };
}

/** The job's script (or Python app) in its folder; Java and C apps are a class on --classpath or a binary: nothing to write. */
function writeJobScript(job: JobRecord, jobDir: string, runAs: RunAs | null): string {
  const scriptPath = path.join(jobDir, job.runtime === 'compss' ? 'app.py' : 'script');
  if (hasApplicationFile({ runtime: job.runtime, lang: job.description.lang })) {
    fs.writeFileSync(scriptPath, job.script, { mode: 0o700 });
    giveToJob(scriptPath, runAs, 0o700);
  }
  return scriptPath;
}
