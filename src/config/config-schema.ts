/**
 * The one configuration of the daemon, as a TypeBox schema: validation, defaults, TypeScript
 * types and documentation come from the same place.
 */
import { Type, type Static } from '@sinclair/typebox';
import { CEILINGS, DEFAULT_LIMITS } from './input-ceilings.js';

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

/** A count limit; absent = no limit (sacctmgr's -1). */
const Count = Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967294 }));

/** GrpJobs, GrpSubmitJobs, GrpTRES=node/cpu/gres/gpu: totals of an association (and all below it) or a QOS. */
const GRP_COUNTS = { grpJobs: Count, grpSubmitJobs: Count, grpNodes: Count, grpCpus: Count, grpGpus: Count };

/** An association's limits, named as sacctmgr names them (see src/policy/policy-types.ts). */
const AssocLimits = Type.Object(
  {
    /** MaxJobs: running jobs of one user (on an account: the default of its users) */
    maxJobs: Count,
    /** MaxSubmitJobs: pending + running jobs of one user (on an account: the default of its users) */
    maxSubmitJobs: Count,
    /** MaxWallDurationPerJob, SLURM time spelling ("1-00:00:00", "90") */
    maxWall: Type.Optional(Type.String({ minLength: 1 })),
    ...GRP_COUNTS,
  },
  { default: {}, additionalProperties: false },
);

const QosLimits = Type.Object(
  {
    maxJobsPerUser: Count,
    maxSubmitJobsPerUser: Count,
    /** MaxTRESPerUser=node/cpu/gres/gpu */
    maxNodesPerUser: Count,
    maxCpusPerUser: Count,
    maxGpusPerUser: Count,
    /** MaxWall, SLURM time spelling */
    maxWall: Type.Optional(Type.String({ minLength: 1 })),
    ...GRP_COUNTS,
  },
  { default: {}, additionalProperties: false },
);

/** QOS names; accounts and users are spelled as the users part spells them (lower case, src/users/user-rules.ts). */
const QosName = Type.String({ pattern: '^[A-Za-z0-9_.-]+$', maxLength: 64 });
const ACCOUNT_PATTERN = '^[a-z0-9_][a-z0-9_.-]{0,63}$';
const AccountName = Type.String({ pattern: ACCOUNT_PATTERN });
const UserName = Type.String({ pattern: '^[a-z_][a-z0-9_.-]{0,31}$' });
const Weight = Type.Integer({ default: 0, minimum: 0, maximum: 4294967295 });

/**
 * GRM's own queue policy (src/policy/), in slurm.conf's and sacctmgr's terms. The defaults are
 * SLURM's (every PriorityWeight* 0), so all jobs have the same priority and the queue keeps
 * submit order, with no limits and no preemption.
 */
const Policy = Type.Object(
  {
    weights: Type.Object(
      {
        /** PriorityWeightAge, PriorityWeightFairshare, PriorityWeightJobSize, PriorityWeightPartition, PriorityWeightQOS */
        age: Weight,
        fairshare: Weight,
        jobSize: Weight,
        partition: Weight,
        qos: Weight,
      },
      { default: {}, additionalProperties: false },
    ),
    /** PriorityMaxAge, SLURM time spelling */
    maxAge: Type.String({ default: '7-0', minLength: 1 }),
    /** PriorityFavorSmall */
    favorSmall: Type.Boolean({ default: false }),
    /** PriorityCalcPeriod, seconds: how often pending jobs' priorities and the usage are brought up to date */
    calcPeriodSeconds: Type.Integer({ default: 300, minimum: 1, maximum: 86400 }),
    /** PriorityDecayHalfLife, SLURM time spelling; "0" = no decay */
    decayHalfLife: Type.String({ default: '7-0', minLength: 1 }),
    /** FairShareDampeningFactor */
    fairShareDampening: Type.Number({ default: 1, minimum: 1, maximum: 10000 }),
    /** PriorityJobFactor of each partition, by name (the partition factor is this over the largest). */
    partitions: Type.Record(Type.String(), Type.Integer({ minimum: 0, maximum: 65533 }), { default: {} }),
    /** The account tree under root (sacctmgr add account ... parent=... fairshare=...). */
    accounts: Type.Array(
      Type.Object(
        {
          name: AccountName,
          parent: Type.String({ default: 'root', pattern: ACCOUNT_PATTERN }),
          shares: Type.Integer({ default: 1, minimum: 0, maximum: 4294967294 }),
          limits: AssocLimits,
        },
        { additionalProperties: false },
      ),
      { default: [] },
    ),
    /** User associations (sacctmgr add user ... account=... fairshare=...); a user may be in several accounts. */
    users: Type.Array(
      Type.Object(
        {
          name: UserName,
          account: AccountName,
          shares: Type.Integer({ default: 1, minimum: 0, maximum: 4294967294 }),
          limits: AssocLimits,
        },
        { additionalProperties: false },
      ),
      { default: [] },
    ),
    /** Where users and accounts the tree does not list are charged. */
    defaultAccount: Type.String({ default: 'default', pattern: ACCOUNT_PATTERN }),
    /** Shares of a user association made on first sight. */
    defaultShares: Type.Integer({ default: 1, minimum: 0, maximum: 4294967294 }),
    qos: Type.Array(
      Type.Object(
        {
          name: QosName,
          priority: Type.Integer({ default: 0, minimum: 0, maximum: 4294967294 }),
          limits: QosLimits,
          /** Preempt: the QOSes this one's jobs may preempt */
          preempt: Type.Array(QosName, { default: [] }),
          /** PreemptMode of this QOS's jobs when they are preempted (SUSPEND is not supported) */
          preemptMode: Type.Union([Type.Literal('requeue'), Type.Literal('cancel'), Type.Literal('off')], { default: 'requeue' }),
          /** GraceTime, seconds: between the signal to a preempted job and its requeue */
          graceSeconds: Type.Integer({ default: 0, minimum: 0, maximum: 86400 }),
          /** Flags=DenyOnLimit: refuse at submit a job over a size or wall-time limit instead of holding it */
          denyOnLimit: Type.Boolean({ default: false }),
        },
        { additionalProperties: false },
      ),
      { default: [] },
    ),
    /** The QOS of jobs that ask for none; empty = none (then only association limits apply). */
    defaultQos: Type.String({ default: '' }),
    /**
     * Admitted jobs the backend may hold waiting for resources, so it can backfill around them
     * (16: as many as the default maxConcurrentMasters lets the dispatcher send today).
     */
    lookAhead: Type.Integer({ default: 16, minimum: 0, maximum: 100000 }),
    /** Jobs tested against the resources per admission pass; absent = scheduler.queueDepth. */
    queueDepth: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
    /** Jobs looked at per admission pass, those skipped for a limit or a blocked partition included. */
    scanLimit: Type.Integer({ default: 10000, minimum: 1, maximum: 10000000 }),
  },
  { default: {}, additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1', minLength: 1 }),
    port: Type.Integer({ default: 8080, minimum: 0, maximum: 65535 }),
    /**
     * HTTPS: PEM files of the key and its certificate (both, or neither for plain HTTP on
     * loopback). A host other than loopback is refused without them (src/config/binding.ts).
     */
    tls: Type.Object(
      {
        key: Type.String({ default: '' }),
        cert: Type.String({ default: '' }),
      },
      { default: {}, additionalProperties: false },
    ),
    /** What one request may carry; a refusal names the setting (see src/config/input-ceilings.ts). */
    limits: Type.Object(
      {
        bodyBytes: Type.Integer({ default: DEFAULT_LIMITS.bodyBytes, minimum: 1024, maximum: CEILINGS.bodyBytes }),
        scriptBytes: Type.Integer({ default: DEFAULT_LIMITS.scriptBytes, minimum: 16, maximum: CEILINGS.scriptBytes }),
        argvItems: Type.Integer({ default: DEFAULT_LIMITS.argvItems, minimum: 0, maximum: CEILINGS.argvItems }),
        argvBytes: Type.Integer({ default: DEFAULT_LIMITS.argvBytes, minimum: 0, maximum: CEILINGS.argvBytes }),
        environmentItems: Type.Integer({ default: DEFAULT_LIMITS.environmentItems, minimum: 0, maximum: CEILINGS.environmentItems }),
        environmentBytes: Type.Integer({ default: DEFAULT_LIMITS.environmentBytes, minimum: 0, maximum: CEILINGS.environmentBytes }),
        nameChars: Type.Integer({ default: DEFAULT_LIMITS.nameChars, minimum: 1, maximum: CEILINGS.nameChars }),
      },
      { default: {}, additionalProperties: false },
    ),
    /** Requests per window for each bearer token or, without one, each address; 429 beyond. */
    rateLimit: Type.Object(
      {
        /**
         * 0 = no limit. 100 a second on average: a script submitting a thousand jobs in a loop
         * passes, a client flooding the daemon is stopped.
         */
        max: Type.Integer({ default: 6000, minimum: 0, maximum: 100_000_000 }),
        windowMs: Type.Integer({ default: 60_000, minimum: 1000, maximum: 86_400_000 }),
      },
      { default: {}, additionalProperties: false },
    ),
    dataDir: Type.String({ default: './var', minLength: 1 }),
    backend: Type.Union([Type.Literal('simulator'), Type.Literal('slurm')], { default: 'simulator' }),
    /**
     * SIGTERM/SIGINT: how long the daemon may take to stop (refuse changes, finish requests,
     * store buffered lines; masters keep running). Past it, it exits 1 naming the step it
     * waited for. 8 s: under systemd's TimeoutStopSec (90 s) and docker stop's 10 s.
     */
    shutdownTimeoutMs: Type.Integer({ default: 8000, minimum: 100, maximum: 3_600_000 }),
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
        /**
         * How a job's allocation is held (src/backends/slurm/holder-job.ts): `salloc --no-shell`
         * (the grant is pushed to GRM), a sleeping batch job, or auto: salloc unless the
         * cluster sets InactiveLimit.
         */
        holder: Type.Union([Type.Literal('auto'), Type.Literal('salloc'), Type.Literal('batch')], { default: 'auto' }),
        /** A finished job's holder goes to the next waiting job of the same shape (src/backends/slurm/handover.ts). */
        reuseAllocations: Type.Boolean({ default: true }),
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
        /**
         * slurm.conf's JobRequeue: a job whose nodes fail under it goes back to the queue unless
         * it was submitted with --no-requeue (false: only jobs submitted with --requeue do).
         */
        jobRequeue: Type.Boolean({ default: true }),
        /** slurm.conf's MaxBatchRequeue: after this many restarts a node failure ends the job NODE_FAIL. */
        maxBatchRequeue: Type.Integer({ default: 5, minimum: 0, maximum: 4095 }),
        /** Daemon environment variables every master gets (then --export, then SLURM_ and GRM_ ones). */
        envAllowList: Type.Array(Type.String(), {
          default: ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'USER', 'LOGNAME', 'SHELL', 'TMPDIR'],
        }),
        /**
         * A daemon running as root runs each master as its user's mapped uid/gid/groups, and
         * refuses jobs of unmapped users (never as root). false: masters run as the daemon's
         * own account (see README, "Users, files and isolation").
         */
        runAsUser: Type.Boolean({ default: true }),
        /**
         * Absolute folders non-admins' -o/-e/-D must be under. Empty: anywhere when masters run
         * as a non-root account (the OS decides), /tmp and the job's folder when as root.
         */
        outputRoots: Type.Array(Type.String({ pattern: '^/', maxLength: 4096 }), { default: [] }),
        /** Character devices an -o/-e may name (e.g. #SBATCH -o /dev/null); any other FIFO, socket or device is refused. */
        outputDevices: Type.Array(Type.String({ pattern: '^/', maxLength: 4096 }), { default: ['/dev/null'] }),
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
        /** Training metric points kept per job (GRM_METRIC lines); later ones stay in the log only. */
        maxMetricsPerJob: Type.Integer({ default: 100_000, minimum: 0, maximum: 100_000_000 }),
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
    policy: Policy,
    /** Bearer tokens and the audit log (every route but a few public ones needs a token). */
    auth: Type.Object(
      {
        /**
         * A file holding the first admin's token (a secret mounted by Kubernetes or swarm), used on
         * the first start instead of a new random one; empty: a new one. Either way it is written to
         * <dataDir>/admin.token. A file that is missing or holds no token stops the daemon.
         */
        adminTokenFile: Type.String({ default: '' }),
        /** Lifetime of a new token unless its issuer gives one (grm user token --expires); 0 = never expires. */
        tokenLifetimeDays: Type.Number({ default: 90, minimum: 0, maximum: 3660 }),
        /** Authentication-failure rows the audit log keeps at most (oldest dropped); admin actions are always kept. */
        auditMaxFailureRows: Type.Integer({ default: 100000, minimum: 100, maximum: 100000000 }),
      },
      { default: {}, additionalProperties: false },
    ),
    /** GET /metrics (Prometheus): besides an admin's token, the token in this file opens it (empty: none). */
    metrics: Type.Object(
      {
        /** A file holding the scrape token (at least 32 characters), as Prometheus' credentials_file reads it. */
        tokenFile: Type.String({ default: '' }),
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
