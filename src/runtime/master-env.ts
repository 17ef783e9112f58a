/**
 * The complete environment of a runtime master. Nothing is inherited implicitly: the
 * daemon's own environment (which may hold credentials, NODE_OPTIONS, proxies...) reaches
 * the job only through the allow-list, then the job's resolved --export is laid on top, and
 * last the SLURM_* / GRM_* variables describing the allocation, so a job can neither fake
 * its allocation nor inherit the one of the shell that submitted it.
 *
 * Pure: same input, same output; no access to process.env.
 */

/** SLURM_ARRAY_* of an array task. */
export interface ArrayTaskVars {
  arrayJobId?: string;
  arrayTaskId?: number;
  arrayTaskCount?: number;
  arrayTaskMin?: number;
  arrayTaskMax?: number;
  arrayTaskStep?: number;
}

export interface SlurmJobVars extends ArrayTaskVars {
  jobId: string;
  nodeList: string;
  numNodes: number;
  ntasks: number;
  cpusPerTask?: number;
  jobName: string;
  partition: string;
  submitDir: string;
  submitHost?: string;
  account?: string;
  qos?: string;
  tasksPerNode?: number;
  /** MiB */
  memPerNode?: number;
  /** MiB */
  memPerCpu?: number;
  clusterName?: string;
  /** Times the job was requeued: SLURM sets SLURM_RESTART_COUNT only once it was. */
  restartCount?: number;
  /** Anything else the caller wants under a SLURM_ name, e.g. { SLURM_GPUS: '2' }. */
  extra?: Record<string, string>;
}

export interface GrmJobVars {
  jobId: number | string;
  projectXml: string;
  resourcesXml: string;
  jobDir: string;
  /** Where `srun -o "$GRM_TASK_OUTPUT_DIR/%t.out"` puts per-task files GRM stores by rank. */
  taskOutputDir?: string;
}

export interface MasterEnvInput {
  /** Names copied from the daemon's env. A trailing '*' matches a prefix ("LC_*"). */
  allowList: readonly string[];
  daemonEnv: Readonly<Record<string, string | undefined>>;
  /** The job's --export, already resolved to name → value. */
  exported: Readonly<Record<string, string>>;
  slurm: SlurmJobVars;
  grm: GrmJobVars;
}

/** Prefixes only GRM may set: lower layers cannot provide any variable starting with these. */
export const RESERVED_ENV_PREFIXES = ['SLURM_', 'GRM_'] as const;

export const DEFAULT_ENV_ALLOW_LIST: readonly string[] = [
  'PATH',
  'HOME',
  'LANG',
  'LC_*',
  'TZ',
  'USER',
  'LOGNAME',
  'SHELL',
  'TMPDIR',
];

function isReserved(name: string): boolean {
  return RESERVED_ENV_PREFIXES.some((p) => name.startsWith(p));
}

/** execve cannot carry names with '=' or NUL, nor values with NUL: such entries are dropped. */
function isValidEntry(name: string, value: unknown): value is string {
  return (
    typeof value === 'string' &&
    name.length > 0 &&
    !name.includes('=') &&
    !name.includes('\0') &&
    !value.includes('\0')
  );
}

function allowed(name: string, allowList: readonly string[]): boolean {
  for (const pattern of allowList) {
    if (pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern) return true;
  }
  return false;
}

/** SLURM_* and GRM_* variables for the allocation, in SLURM's spelling. */
export function allocationVars(slurm: SlurmJobVars, grm: GrmJobVars): Record<string, string> {
  const v: Record<string, string> = {};
  const set = (name: string, value: string | number | undefined): void => {
    if (value !== undefined) v[name] = String(value);
  };
  for (const [name, value] of Object.entries(slurm.extra ?? {})) {
    // extra may only add SLURM_ names, and never replaces the ones computed below
    if (name.startsWith('SLURM_')) set(name, value);
  }
  set('SLURM_JOB_ID', slurm.jobId);
  set('SLURM_JOBID', slurm.jobId);
  set('SLURM_JOB_NODELIST', slurm.nodeList);
  set('SLURM_NODELIST', slurm.nodeList);
  set('SLURM_JOB_NUM_NODES', slurm.numNodes);
  set('SLURM_NNODES', slurm.numNodes);
  set('SLURM_NTASKS', slurm.ntasks);
  set('SLURM_NPROCS', slurm.ntasks);
  set('SLURM_CPUS_PER_TASK', slurm.cpusPerTask);
  set('SLURM_JOB_NAME', slurm.jobName);
  set('SLURM_JOB_PARTITION', slurm.partition);
  set('SLURM_SUBMIT_DIR', slurm.submitDir);
  set('SLURM_SUBMIT_HOST', slurm.submitHost);
  set('SLURM_JOB_ACCOUNT', slurm.account);
  set('SLURM_JOB_QOS', slurm.qos);
  set('SLURM_NTASKS_PER_NODE', slurm.tasksPerNode);
  set('SLURM_MEM_PER_NODE', slurm.memPerNode);
  set('SLURM_MEM_PER_CPU', slurm.memPerCpu);
  set('SLURM_CLUSTER_NAME', slurm.clusterName);
  if (slurm.restartCount) set('SLURM_RESTART_COUNT', slurm.restartCount);
  set('SLURM_ARRAY_JOB_ID', slurm.arrayJobId);
  set('SLURM_ARRAY_TASK_ID', slurm.arrayTaskId);
  set('SLURM_ARRAY_TASK_COUNT', slurm.arrayTaskCount);
  set('SLURM_ARRAY_TASK_MIN', slurm.arrayTaskMin);
  set('SLURM_ARRAY_TASK_MAX', slurm.arrayTaskMax);
  set('SLURM_ARRAY_TASK_STEP', slurm.arrayTaskStep);
  set('GRM_JOB_ID', grm.jobId);
  set('GRM_PROJECT_XML', grm.projectXml);
  set('GRM_RESOURCES_XML', grm.resourcesXml);
  set('GRM_JOB_DIR', grm.jobDir);
  set('GRM_TASK_OUTPUT_DIR', grm.taskOutputDir);
  return v;
}

/**
 * Precedence, lowest first: allow-listed daemon variables < exported < SLURM_/GRM_.
 * Lower layers never contribute SLURM_* or GRM_* names at all, so a stale
 * SLURM_ARRAY_TASK_ID from the submitting shell cannot leak into a non-array job.
 */
export function buildMasterEnv(input: MasterEnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.daemonEnv)) {
    if (allowed(name, input.allowList) && !isReserved(name) && isValidEntry(name, value)) env[name] = value;
  }
  for (const [name, value] of Object.entries(input.exported)) {
    if (!isReserved(name) && isValidEntry(name, value)) env[name] = value;
  }
  for (const [name, value] of Object.entries(allocationVars(input.slurm, input.grm))) {
    if (isValidEntry(name, value)) env[name] = value;
  }
  return env;
}
