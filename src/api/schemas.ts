/**
 * The REST API's schemas, written once: fastify validates and serialises with them, and
 * @fastify/swagger publishes them at /openapi.json. Field names follow slurmrestd.
 */
import { Type, type Static } from '@sinclair/typebox';
import { CEILINGS } from '../config/input-ceilings.js';
import { JOB_STATES } from '../jobs/job-types.js';
import { MAX_JOB_ID } from '../sbatch/array-spec.js';

// Every integer, string and list a client sends is bounded here (the hard ceilings); the
// site's own, lower limits are the config's (api/request-limits.ts).
const Name = (description: string) => Type.String({ minLength: 1, maxLength: CEILINGS.nameChars, description });
/** MiB: at most 1 PiB per node, CPU or GPU */
const MiB = (description: string, minimum = 1) => Type.Integer({ minimum, maximum: 1024 ** 3, description });
const GPU_TRES = { pattern: '^(gres/)?gpu(:[A-Za-z0-9_.-]+)?(:[0-9]+)?$', maxLength: 200, description: 'gpu, gpu:N or gpu:TYPE:N, optionally after gres/' };
const Count = (description: string, maximum = 100000) => Type.Integer({ minimum: 1, maximum, description });

export const JobStateSchema = Type.Union(JOB_STATES.map((s) => Type.Literal(s)));

export const JobDescriptionSchema = Type.Object(
  {
    name: Type.Optional(Name('job name (-J)')),
    minimum_nodes: Type.Optional(Count('nodes, at least (-N)')),
    maximum_nodes: Type.Optional(Count('nodes, at most (-N min-max)')),
    tasks: Type.Optional(Count('tasks (-n)', 1_000_000)),
    tasks_per_node: Type.Optional(Count('tasks per node (--ntasks-per-node)')),
    cpus_per_task: Type.Optional(Count('CPUs per task (-c)', 4096)),
    memory_per_node: Type.Optional(MiB('MiB per node (--mem); 0 = all of the node', 0)),
    memory_per_cpu: Type.Optional(MiB('MiB per CPU (--mem-per-cpu)')),
    time_limit: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: 60 * 24 * 365 * 10 }), Type.Literal('UNLIMITED')], {
        description: 'minutes, or UNLIMITED (-t)',
      }),
    ),
    partition: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]+$', maxLength: 64, description: 'a partition name: letters, digits, _ . -' })),
    account: Type.Optional(Type.String({ maxLength: 64 })),
    qos: Type.Optional(Type.String({ maxLength: 64 })),
    array: Type.Optional(Type.String({ maxLength: 200 })),
    dependency: Type.Optional(Type.String({ maxLength: 1000 })),
    begin_time: Type.Optional(Type.String({ format: 'date-time', maxLength: 64 })),
    standard_output: Type.Optional(Type.String({ maxLength: 4096 })),
    standard_error: Type.Optional(Type.String({ maxLength: 4096 })),
    current_working_directory: Type.Optional(Type.String({ maxLength: 4096 })),
    tres_per_node: Type.Optional(Type.String(GPU_TRES)),
    tres_per_job: Type.Optional(Type.String(GPU_TRES)),
    tres_per_task: Type.Optional(Type.String({ ...GPU_TRES, description: `GPUs per task (--gpus-per-task): ${GPU_TRES.description}` })),
    cpus_per_gpu: Type.Optional(Count('CPUs per GPU (--cpus-per-gpu)', 4096)),
    memory_per_gpu: Type.Optional(MiB('MiB per GPU (--mem-per-gpu)')),
    hold: Type.Optional(Type.Boolean({ description: 'submit held (-H)' })),
    requeue: Type.Optional(Type.Boolean({ description: 'may be requeued (--requeue / --no-requeue)' })),
    signal: Type.Optional(
      Type.Object(
        {
          name: Type.String({ pattern: '^([A-Z][A-Z0-9]*|[1-9][0-9]?)$', maxLength: 8, description: 'USR1, TERM, ... or a number 1-64' }),
          seconds: Type.Integer({ minimum: 0, maximum: 65535, description: 'seconds before the time limit' }),
          batch_only: Type.Boolean({ description: 'signal only the batch shell (B:)' }),
          reservation: Type.Optional(Type.Boolean({ description: 'also when the reservation ends (R:)' })),
        },
        { additionalProperties: false, description: '--signal=[{R|B}:]sig[@seconds]' },
      ),
    ),
    open_mode: Type.Optional(Type.Union([Type.Literal('append'), Type.Literal('truncate')], { description: '--open-mode' })),
    exclusive: Type.Optional(Type.Boolean()),
    nice: Type.Optional(Type.Integer({ minimum: -2147483645, maximum: 2147483645 })),
    comment: Type.Optional(Type.String({ maxLength: 4096 })),
    mail_type: Type.Optional(Type.String({ maxLength: 200 })),
    mail_user: Type.Optional(Type.String({ maxLength: 200 })),
    export: Type.Optional(Type.String({ maxLength: 100000 })),
    environment: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: CEILINGS.environmentNameChars }), Type.String({ maxLength: CEILINGS.stringBytes }), {
        maxProperties: CEILINGS.environmentItems,
        additionalProperties: false,
        description: 'variable names: letters, digits and _, not starting with a digit',
      }),
    ),
    script: Type.Optional(
      Type.String({ minLength: 1, maxLength: CEILINGS.scriptBytes, description: 'the batch script text, first line #! (optional for a COMPSs Python app); none for COMPSs Java and C apps' }),
    ),
    argv: Type.Optional(Type.Array(Type.String({ maxLength: CEILINGS.stringBytes }), { maxItems: CEILINGS.argvItems })),
    runtime: Type.Optional(Type.Union([Type.Literal('command'), Type.Literal('compss')])),
    lang: Type.Optional(Type.Union([Type.Literal('python'), Type.Literal('java'), Type.Literal('c')])),
    compss_flags: Type.Optional(Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 200, description: 'extra runcompss flags, one argv element each' })),
    compss_log_level: Type.Optional(Type.Union(['off', 'info', 'debug', 'trace'].map((l) => Type.Literal(l)))),
    python_interpreter: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    application: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'COMPSs Java main class (lang java) or absolute C binary path (lang c)' })),
    classpath: Type.Optional(Type.String({ minLength: 1, maxLength: CEILINGS.stringBytes, description: 'runcompss --classpath (lang java)' })),
    appdir: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'runcompss --appdir' })),
    pythonpath: Type.Optional(Type.String({ minLength: 1, maxLength: CEILINGS.stringBytes, description: 'runcompss --pythonpath (lang python)' })),
    library_path: Type.Optional(Type.String({ minLength: 1, maxLength: CEILINGS.stringBytes, description: 'runcompss --library_path' })),
    directives_applied: Type.Optional(Type.Boolean({ description: "the script's #SBATCH directives are already applied to this request (grm sbatch): not parsed again" })),
  },
  { additionalProperties: false },
);
export type JobDescriptionBody = Static<typeof JobDescriptionSchema>;

export const AllocatedNodeSchema = Type.Object({
  name: Type.String(),
  cpus: Type.Integer(),
  memory_mib: Type.Integer(),
  gpus: Type.Integer(),
});

/** A job's allocation (null before nodes are granted); shared by the job detail and its report. */
export const AllocationSchema = Type.Union([
  Type.Object({
    backend: Type.String(),
    backend_id: Type.String(),
    partition: Type.String(),
    nodes: Type.String(),
    node_list: Type.Array(AllocatedNodeSchema),
    granted_time: Type.String(),
    released_time: Type.Union([Type.String(), Type.Null()]),
  }),
  Type.Null(),
]);

export const JobEventSchema = Type.Object({
  time: Type.String(),
  from_state: Type.Union([JobStateSchema, Type.Null()]),
  to_state: Type.Union([JobStateSchema, Type.Null()]),
  reason: Type.String(),
  actor: Type.String(),
});

const NullableInt = Type.Union([Type.Integer(), Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);

/** What every job list carries per job: bounded fields only (no script, argv, environment). */
const JobSummaryProperties = {
  job_id: Type.Integer(),
  /** as squeue prints it: 12, 12_7, 12_[3-99%5] */
  display_id: Type.String(),
  array_job_id: NullableInt,
  array_task_id: NullableInt,
  /** an array's indices not started yet */
  array_task_string: Type.Union([Type.String(), Type.Null()]),
  /** the % limit */
  array_max_tasks: NullableInt,
  hold: Type.Boolean(),
  name: Type.String(),
  user_name: Type.String(),
  job_state: JobStateSchema,
  state_reason: Type.String(),
  partition: Type.String(),
  submit_time: Type.String(),
  start_time: Type.Union([Type.String(), Type.Null()]),
  /** a pending job's forecast start (squeue --start): the queue replayed from running jobs' limits; null: none */
  expected_start: Type.Union([Type.String(), Type.Null()]),
  end_time: Type.Union([Type.String(), Type.Null()]),
  /** minutes; null = UNLIMITED */
  time_limit: Type.Union([Type.Integer(), Type.Null()]),
  nodes: Type.Union([Type.String(), Type.Null()]),
  node_count: Type.Integer(),
  backend_id: Type.Union([Type.String(), Type.Null()]),
  exit_code: Type.Union([Type.Integer(), Type.Null()]),
  exit_signal: Type.Union([Type.String(), Type.Null()]),
  /** times requeued (slurmrestd's restart_cnt) */
  restart_cnt: Type.Integer(),
  /** its place in the queue (the policy's multifactor priority, as squeue's %Q) */
  priority: Type.Integer(),
  runtime: Type.String(),
  // the request's figures squeue, sacct and the viewer show, in slurmrestd's names
  account: NullableString,
  qos: NullableString,
  comment: NullableString,
  nice: Type.Integer(),
  current_working_directory: NullableString,
  /** nodes asked for (-N); node_count is the nodes held */
  minimum_nodes: Type.Integer(),
  tasks: Type.Integer(),
  cpus_per_task: Type.Integer(),
  /** CPUs asked for: tasks × cpus_per_task (squeue %C) */
  cpus: Type.Integer(),
  memory_per_node: NullableInt,
  memory_per_cpu: NullableInt,
  /** GPUs (gres) per node and per job, as asked */
  tres_per_node: NullableString,
  tres_per_job: NullableString,
};

/** One job in a list (GET /jobs, and every answer about several jobs or a changed one). */
export const JobSummarySchema = Type.Object(JobSummaryProperties, {
  title: 'JobSummary',
  description: 'a job as lists carry it: no script, argv, environment or request (GET /jobs/:id has them)',
});

/** One job whole: its request, argv and command line (GET /jobs/:id only). */
export const JobSchema = Type.Object(
  {
    ...JobSummaryProperties,
    command_line: Type.Union([Type.Array(Type.String()), Type.Null()]),
    argv: Type.Array(Type.String()),
    request: Type.Record(Type.String(), Type.Unknown()),
  },
  { title: 'Job' },
);

export const JobDetailSchema = Type.Intersect([
  JobSchema,
  Type.Object({
    events: Type.Array(JobEventSchema),
    allocation: AllocationSchema,
    script: Type.String(),
    /** Why this job's new lines are not being stored now (a full or read-only data dir); null: they are. */
    log_storage_paused: Type.Union([Type.String(), Type.Null()]),
  }),
]);

export const ErrorSchema = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    field: Type.Optional(Type.String()),
  }),
});

export const JobIdSchema = Type.Integer({ minimum: 1, maximum: MAX_JOB_ID, description: 'GRM job id (decimal)' });
export const IdParams = Type.Object({ id: JobIdSchema });

export const LogLineSchema = Type.Object({
  seq: Type.Integer(),
  time: Type.String(),
  source: Type.String(),
  line: Type.String(),
  /** the task rank of an `srun --label` line ("3: ..."); absent for other lines */
  rank: Type.Optional(Type.Integer()),
  /** The job's run the line belongs to: 0 the first, 1 after one requeue... (absent on a line without one) */
  run: Type.Optional(Type.Integer()),
});

export const NodeSchema = Type.Object({
  name: Type.String(),
  state: Type.String(),
  partitions: Type.Array(Type.String()),
  cpus: Type.Integer(),
  cpus_allocated: Type.Integer(),
  memory_mib: Type.Integer(),
  memory_allocated_mib: Type.Integer(),
  gpus: Type.Integer(),
  gpus_allocated: Type.Integer(),
  gpu_type: Type.Optional(Type.String()),
  allocations: Type.Array(Type.String()),
  jobs: Type.Array(Type.Integer()),
  reason: Type.Optional(Type.String()),
});

export const PartitionSchema = Type.Object({
  name: Type.String(),
  default: Type.Boolean(),
  state: Type.String(),
  max_time: Type.Union([Type.Integer(), Type.Null()]),
  default_time: Type.Union([Type.Integer(), Type.Null()]),
  nodes: Type.String(),
  node_count: Type.Integer(),
});

// --- log search and reports ---

export const SearchResultSchema = Type.Object({
  hits: Type.Array(
    Type.Object({
      job_id: Type.Integer(),
      seq: Type.Integer(),
      time: Type.String(),
      source: Type.String(),
      line: Type.String(),
      level: Type.Optional(Type.Union(['error', 'warn', 'info', 'debug'].map((l) => Type.Literal(l)))),
    }),
  ),
  /** more hits exist than `limit` */
  truncated: Type.Boolean(),
});


export const JobReportSchema = Type.Object({
  job: JobSummarySchema,
  allocation: AllocationSchema,
  timeline: Type.Array(JobEventSchema),
  exit: Type.Object({
    code: Type.Union([Type.Integer(), Type.Null()]),
    signal: Type.Union([Type.String(), Type.Null()]),
    state: JobStateSchema,
    reason: Type.String(),
  }),
  line_counts: Type.Record(Type.String(), Type.Integer()),
  first_errors: Type.Array(LogLineSchema),
});

export const PeriodReportSchema = Type.Object({
  since: Type.String(),
  until: Type.String(),
  jobs_by_state: Type.Record(Type.String(), Type.Integer()),
  node_hours_by_user: Type.Record(Type.String(), Type.Number()),
  node_hours_by_partition: Type.Record(Type.String(), Type.Number()),
  failure_reasons: Type.Array(Type.Object({ reason: Type.String(), count: Type.Integer() })),
  utilisation: Type.Array(Type.Object({ time: Type.String(), nodes_busy: Type.Number(), nodes_total: Type.Integer() })),
});
