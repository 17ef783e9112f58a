/**
 * The job vocabulary shared by every part. Names follow SLURM (states, reasons) and
 * slurmrestd's job description (field names), so HPC users meet familiar words.
 */

export const JOB_STATES = [
  'PENDING',
  'ALLOCATING',
  'RUNNING',
  'COMPLETING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'NODE_FAIL',
] as const;
export type JobState = (typeof JOB_STATES)[number];

export const TERMINAL_STATES: ReadonlySet<JobState> = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'NODE_FAIL',
]);

/** SLURM's compact state codes, as squeue prints them in the ST column. */
export const STATE_CODES: Record<JobState, string> = {
  PENDING: 'PD',
  ALLOCATING: 'CF', // SLURM's CONFIGURING: nodes granted or being granted, not yet running
  RUNNING: 'R',
  COMPLETING: 'CG',
  COMPLETED: 'CD',
  FAILED: 'F',
  CANCELLED: 'CA',
  TIMEOUT: 'TO',
  NODE_FAIL: 'NF',
};

/** Pending reasons, spelled as squeue spells them. */
export type PendingReason =
  | 'None'
  | 'Priority'
  | 'Resources'
  | 'Dependency'
  | 'DependencyNeverSatisfied'
  | 'BeginTime'
  | 'JobHeldUser'
  | 'QOSMaxJobsPerUserLimit'
  | 'MaxMastersLimit'
  | 'BackendUnavailable'
  | 'PartitionTimeLimit'
  | 'PartitionNodeLimit';

export type RuntimeKind = 'command' | 'compss';

/**
 * A job request in slurmrestd's job-description field names (memory in MiB, time in
 * minutes), plus GRM's own fields (script, argv, runtime, environment).
 */
export interface JobDescription {
  name?: string;
  minimum_nodes?: number;
  maximum_nodes?: number;
  tasks?: number;
  tasks_per_node?: number;
  cpus_per_task?: number;
  /** MiB */
  memory_per_node?: number;
  /** MiB */
  memory_per_cpu?: number;
  /** minutes, or 'UNLIMITED' */
  time_limit?: number | 'UNLIMITED';
  partition?: string;
  account?: string;
  qos?: string;
  /** SLURM array spec as written: "1-10", "1,3,5", "0-15:4%2" */
  array?: string;
  /** SLURM dependency spec as written: "afterok:12:13,afterany:14" */
  dependency?: string;
  /** ISO 8601 time */
  begin_time?: string;
  standard_output?: string;
  standard_error?: string;
  current_working_directory?: string;
  /** e.g. "gres/gpu:2" or "gres/gpu:a100:2" (per node) */
  tres_per_node?: string;
  /** e.g. "gres/gpu:4" (per job, from -G/--gpus) */
  tres_per_job?: string;
  exclusive?: boolean;
  nice?: number;
  comment?: string;
  mail_type?: string;
  mail_user?: string;
  /** sbatch --export as written: "ALL", "NONE", or "NAME,NAME=value,..." */
  export?: string;
  /** The environment the master gets on top of GRM's allow-list (resolved from --export). */
  environment?: Record<string, string>;

  // GRM's own fields
  /** The batch script's text. */
  script?: string;
  /** Arguments passed to the script. */
  argv?: string[];
  runtime?: RuntimeKind;
  /** COMPSs --lang when runtime is compss. */
  lang?: 'python' | 'java' | 'c';
  /** Extra runcompss flags (already split into argv). */
  compss_flags?: string[];
  /** runcompss --log_level (default off). */
  compss_log_level?: 'off' | 'info' | 'debug' | 'trace';
  /** runcompss --python_interpreter. */
  python_interpreter?: string;
}

/** A job as the store holds it. */
export interface JobRecord {
  id: number;
  name: string;
  user: string;
  state: JobState;
  /** Pending reason while waiting; why it ended once terminal ('None' otherwise). */
  reason: string;
  partition: string;
  /** The request as submitted (without script text and environment). */
  description: JobDescription;
  script: string;
  argv: string[];
  runtime: RuntimeKind;
  /** The environment resolved from --export at submit. */
  environment: Record<string, string>;
  /** ms since epoch */
  submitTime: number;
  startTime: number | null;
  endTime: number | null;
  /** null = UNLIMITED */
  timeLimitMinutes: number | null;
  backendId: string | null;
  nodeList: string | null;
  numNodes: number;
  exitCode: number | null;
  exitSignal: string | null;
  /**
   * The end decided before it is acted on (cancel, time limit, node failure): written first,
   * then the master is stopped, so a crash in between still ends the job as decided.
   */
  endIntent: EndState | null;
  /** The master's argv, as started. */
  commandLine: string[] | null;
  /** The last state change, ms since epoch. */
  updatedTime: number;
}

export type EndState = 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TIMEOUT' | 'NODE_FAIL';

export interface JobEvent {
  id: number;
  jobId: number;
  time: number;
  fromState: JobState | null;
  toState: JobState | null;
  reason: string;
  /** who: 'user:alice', 'dispatcher', 'backend', 'master', 'reconcile' */
  actor: string;
}
