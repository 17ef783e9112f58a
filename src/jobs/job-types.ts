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

/** States that hold (or are about to hold) nodes and a master slot. */
export const ACTIVE_STATES: readonly JobState[] = ['ALLOCATING', 'RUNNING', 'COMPLETING'];

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
  | 'JobHeldAdmin'
  | 'JobArrayTaskLimit'
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
  /** e.g. "gres/gpu:1" (per task, from --gpus-per-task) */
  tres_per_task?: string;
  /** --cpus-per-gpu: CPUs per allocated GPU */
  cpus_per_gpu?: number;
  /** MiB per allocated GPU (--mem-per-gpu) */
  memory_per_gpu?: number;
  /** -H/--hold: submitted held (JobHeldUser) until released */
  hold?: boolean;
  /** --requeue (true) / --no-requeue (false): may the job be requeued */
  requeue?: boolean;
  /** --signal: send `name` `seconds` before the time limit; to the batch shell only when batch_only */
  signal?: { name: string; seconds: number; batch_only: boolean; reservation?: boolean };
  /** --open-mode for the --output/--error files */
  open_mode?: 'append' | 'truncate';
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
  /** The batch script's text (a Python COMPSs app's source); none for Java and C COMPSs apps. */
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
  /**
   * The COMPSs application when it is not a file GRM copies: the Java main class
   * (--lang=java, e.g. "matmul.Matmul") or the C binary's absolute path (--lang=c).
   */
  application?: string;
  /** runcompss --classpath and project.xml Classpath (Java); ':'-separated absolute paths. */
  classpath?: string;
  /** runcompss --appdir and project.xml AppDir. */
  appdir?: string;
  /** runcompss --pythonpath and project.xml Pythonpath (Python). */
  pythonpath?: string;
  /** runcompss --library_path and project.xml LibraryPath. */
  library_path?: string;
  /**
   * The script's #SBATCH/#GRM directives are already in this request (grm sbatch parsed
   * them): the daemon does not parse them a second time. Not stored.
   */
  directives_applied?: boolean;
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
  endIntent: EndIntent | null;
  /** Times the job went back to the queue (scontrol requeue), as SLURM's Restarts. */
  restartCount: number;
  /** Its place in the queue (src/policy/priority.ts), as squeue's %Q; 1 with every weight 0. */
  priority: number;
  /** --nice as stored (the queue order's second key). */
  nice: number;
  /** The master's argv, as started. */
  commandLine: string[] | null;
  /** The last state change, ms since epoch. */
  updatedTime: number;
  /**
   * While PENDING: the GRM reason it waits on without being looked at by a dispatch pass
   * (JobHeldUser, JobHeldAdmin, BeginTime, Dependency, DependencyNeverSatisfied); null when
   * it is in the eligible queue.
   */
  blocked: string | null;
  /** --begin, ms since epoch. */
  beginTime: number | null;
  dependency: string | null;
  /** The array this job belongs to (its own id for the array's record). */
  arrayJobId: number | null;
  /** Its index once it is one task; null for the array's record while it holds several. */
  arrayTaskId: number | null;
  /** The indices not started yet (array record only), SLURM's range form "3-7,9". */
  arrayTasks: string | null;
  /** The % limit: at most this many tasks at once. */
  arrayMaxRunning: number | null;
  arrayTaskCount: number | null;
}

/** A job as lists carry it: without the script, argv and environment, which may be megabytes. */
export type JobSummaryRecord = Omit<JobRecord, 'script' | 'argv' | 'environment'>;

export type EndState = 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TIMEOUT' | 'NODE_FAIL';

/**
 * What ends a job's run, decided before it is acted on: an end state, or back to the queue
 * (scontrol requeue; REQUEUE_HOLD: requeuehold, held once back).
 */
export type EndIntent = EndState | 'REQUEUE' | 'REQUEUE_HOLD';

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
