/**
 * The one configuration of the daemon, as a TypeBox schema: validation, defaults, TypeScript
 * types and documentation come from the same place.
 */
import { Type, type Static } from '@sinclair/typebox';

const NodeGroup = Type.Object(
  {
    /** A hostlist: "node[01-08]" */
    names: Type.String({ minLength: 1 }),
    cpus: Type.Integer({ minimum: 1, maximum: 4096 }),
    /** SLURM memory spelling: 16G, 16384M, 16384 (MiB) */
    memory: Type.Union([Type.String({ pattern: '^[0-9]+[KMGTkmgt]?$' }), Type.Integer({ minimum: 1 })]),
    gpus: Type.Integer({ minimum: 0, maximum: 64, default: 0 }),
    gpuType: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]+$' })),
  },
  { additionalProperties: false },
);

const Partition = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }),
    /** A hostlist of nodes defined in cluster.nodes */
    nodes: Type.String({ minLength: 1 }),
    default: Type.Boolean({ default: false }),
    /** SLURM time spelling ("UNLIMITED", "1-00:00:00", "60") */
    maxTime: Type.String({ default: 'UNLIMITED' }),
    defaultTime: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1', minLength: 1 }),
    port: Type.Integer({ default: 8080, minimum: 0, maximum: 65535 }),
    dataDir: Type.String({ default: './var', minLength: 1 }),
    backend: Type.Union([Type.Literal('simulator'), Type.Literal('slurm')], { default: 'simulator' }),
    /** Masters running at once; further jobs wait PENDING with reason MaxMastersLimit. */
    maxConcurrentMasters: Type.Integer({ default: 16, minimum: 1, maximum: 10000 }),
    logLevel: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info' },
    ),
    cluster: Type.Object(
      {
        nodes: Type.Array(NodeGroup, {
          minItems: 1,
          default: [{ names: 'node[01-08]', cpus: 4, memory: '16G', gpus: 0 }],
        }),
        partitions: Type.Array(Partition, {
          minItems: 1,
          default: [{ name: 'batch', nodes: 'node[01-08]', default: true, maxTime: 'UNLIMITED' }],
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    slurm: Type.Object(
      {
        /** Directory of sbatch/squeue/...; empty = PATH */
        binDir: Type.String({ default: '' }),
        /** SLURM_CONF for every command; empty = the daemon's environment */
        slurmConf: Type.String({ default: '' }),
        pollIntervalMs: Type.Integer({ default: 2000, minimum: 100 }),
        commandTimeoutMs: Type.Integer({ default: 30000, minimum: 1000 }),
        /** Partition used when a job names none; empty = SLURM's default */
        defaultPartition: Type.String({ default: '' }),
      },
      { default: {}, additionalProperties: false },
    ),
    /** How generated project.xml/resources.xml look (see src/compss/compss-config.ts). */
    compss: Type.Object(
      {
        installDir: Type.String({ default: '/opt/COMPSs/' }),
        workingDirBase: Type.String({ default: '/tmp/COMPSsWorker' }),
        user: Type.Optional(Type.String({ minLength: 1 })),
        portsBase: Type.Integer({ default: 43001, minimum: 1024, maximum: 65535 }),
        portsPerJob: Type.Integer({ default: 20, minimum: 2, maximum: 65535 }),
        portSlots: Type.Integer({ default: 100, minimum: 1, maximum: 65535 }),
        sharedDisks: Type.Optional(Type.Array(Type.Object({ name: Type.String({ minLength: 1 }), mountPoint: Type.String() }))),
        adaptorProperties: Type.Optional(Type.Record(Type.String(), Type.String())),
        remoteExecutionCommand: Type.Optional(Type.String()),
        application: Type.Optional(
          Type.Object({
            appDir: Type.Optional(Type.String()),
            pythonpath: Type.Optional(Type.String()),
            classpath: Type.Optional(Type.String()),
            libraryPath: Type.Optional(Type.String()),
          }),
        ),
        /** The runcompss the compss runtime starts: a path, or a name found on PATH. */
        runcompss: Type.String({ default: 'runcompss', minLength: 1 }),
      },
      { default: {}, additionalProperties: false },
    ),
    runtime: Type.Object(
      {
        /** Between SIGTERM and SIGKILL to a master's process group, as SLURM's KillWait. */
        killGraceMs: Type.Integer({ default: 5000, minimum: 0 }),
        /** Daemon environment variables every master gets (then --export, then SLURM_ and GRM_ ones). */
        envAllowList: Type.Array(Type.String(), {
          default: ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'USER', 'LOGNAME', 'SHELL', 'TMPDIR'],
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    logs: Type.Object(
      {
        batchLines: Type.Integer({ default: 5000, minimum: 1 }),
        flushIntervalMs: Type.Integer({ default: 100, minimum: 1 }),
        maxLineBytes: Type.Integer({ default: 16384, minimum: 256 }),
        /** 0 = unlimited */
        maxLinesPerJob: Type.Integer({ default: 0, minimum: 0 }),
        pollIntervalMs: Type.Integer({ default: 250, minimum: 10 }),
      },
      { default: {}, additionalProperties: false },
    ),
    /** The GRM's own queue, named after slurm.conf's SchedulerParameters. */
    scheduler: Type.Object(
      {
        /** Eligible jobs looked at per dispatch pass (default_queue_depth). */
        queueDepth: Type.Integer({ default: 100, minimum: 1, maximum: 100000 }),
        /** Largest array index + 1 (MaxArraySize). */
        maxArraySize: Type.Integer({ default: 1001, minimum: 1, maximum: 4000001 }),
      },
      { default: {}, additionalProperties: false },
    ),
    reconcile: Type.Object(
      {
        /** node-cron expression (with seconds) */
        schedule: Type.String({ default: '*/30 * * * * *' }),
      },
      { default: {}, additionalProperties: false },
    ),
    retention: Type.Object(
      {
        schedule: Type.String({ default: '17 3 * * *' }),
        /** Ended jobs older than this lose their logs and folder; 0 = keep forever. */
        maxAgeDays: Type.Number({ default: 30, minimum: 0 }),
        /** Total job-folder + log size cap; 0 = no cap. */
        maxTotalMiB: Type.Integer({ default: 0, minimum: 0 }),
      },
      { default: {}, additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type GrmConfig = Static<typeof ConfigSchema>;
