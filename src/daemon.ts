/**
 * The composition root: the one place that builds every part and wires them together.
 * Tests build the same daemon with other settings (a temp data dir, port 0, a small cluster).
 */
import { StartForecast } from './jobs/start-forecast.js';
import { QueuePolicy } from './jobs/queue-policy.js';
import { resolvePolicyConfig } from './policy/policy-config.js';
import { PolicyStore } from './store/policy-store.js';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './api/app.js';
import type { ResourceBackend } from './backends/resource-backend.js';
import { SimulatorBackend, wallClock, type Clock } from './backends/simulator/simulator-backend.js';
import { SlurmBackend } from './backends/slurm/slurm-backend.js';
import { SLURM_COMMAND_NAMES } from './backends/slurm/slurm-commands.js';
import { createDaemonMetrics } from './metrics/daemon-metrics.js';
import { ScrapeToken } from './metrics/scrape-token.js';
import { boundUrl, checkBinding, readTls } from './config/binding.js';
import { clusterSpecFromConfig } from './config/cluster-from-config.js';
import type { GrmConfig } from './config/config-schema.js';
import { loadConfig } from './config/load-config.js';
import { isGrmError } from './errors.js';
import { compressHostlist } from './hostlist/hostlist.js';
import { Dispatcher } from './jobs/dispatcher.js';
import { JobRunner, jobDirOf } from './jobs/job-runner.js';
import { JobService } from './jobs/job-service.js';
import { OutputPolicy } from './jobs/output-policy.js';
import { daemonUid, masterIdentity, type RunAsResolver } from './runtime/run-as.js';
import { LogPipeline } from './logs/log-pipeline.js';
import { Maintenance } from './maintenance.js';
import { Shutdown, handleStopSignals, type ShutdownReport } from './shutdown.js';
import type { Db } from './store/database.js';
import { openStore } from './store/store-open.js';
import { JobStore } from './store/job-store.js';
import { QueueStore } from './store/queue-store.js';
import { NodeStateStore } from './store/node-state-store.js';
import { LogSearch } from './store/log-search.js';
import { LogStore } from './store/log-store.js';
import { MetricStore } from './store/metric-store.js';
import { ReportStore } from './store/report-store.js';
import { AuditStore } from './store/audit-store.js';
import { UserStore } from './store/user-store.js';
import { AuditLog } from './users/audit-log.js';
import { adminTokenPath, daemonRunAs, firstAdminName, readAdminTokenFile, writeSecretFile } from './users/first-admin.js';
import { isUserName } from './users/user-rules.js';
import { UserService } from './users/user-service.js';
import { ACTIVE_STATES, TERMINAL_STATES } from './jobs/job-types.js';

export const VERSION = '0.1.0';

export interface Daemon {
  config: GrmConfig;
  app: FastifyInstance;
  db: Db;
  store: JobStore;
  logStore: LogStore;
  /** Full-text index of the log lines (its own file, built by a worker thread). */
  logSearch: LogSearch;
  backend: ResourceBackend;
  dispatcher: Dispatcher;
  runner: JobRunner;
  jobs: JobService;
  /** Users, tokens, audit; runAsOf(user) for the runtime. */
  users: UserService;
  logs: LogPipeline;
  maintenance: Maintenance;
  /** Whether it is stopping (the API then refuses changes with 503). */
  shutdown: Shutdown;
  /** Listens; resolves to the base URL. */
  listen(): Promise<string>;
  /** Refuses changes, stops every part, leaves masters running; what it waited for. A second call shares the first's. */
  stop(): Promise<ShutdownReport>;
}

export interface CreateDaemonOptions {
  env?: NodeJS.ProcessEnv;
  /** A backend built by the caller (tests); default: from config. */
  backend?: ResourceBackend;
  /** Start cron schedules (reconcile, retention); tests call them directly instead. */
  schedules?: boolean;
  /** The daemon's time (tests: a ManualClock); default the wall clock. */
  clock?: Clock;
  /** The local account each user's masters run as when the daemon is root (default: the users part's mapping, users.runAsOf). */
  runAs?: RunAsResolver;
  /** Whether a user is an admin (default: the users part's roles, users.isAdmin). Admins' -o/-e/-D are not kept to runtime.outputRoots. */
  isAdmin?: (user: string) => boolean;
  /** Awaited while stopping, after changes are refused and before the server closes (tests hold a drain open with it). */
  onDraining?: () => Promise<void>;
}

function buildBackend(
  config: GrmConfig,
  store: JobStore,
  clock: Clock,
  onError: (e: unknown, context: string) => void,
  holderAccount: (user: string) => { uid: number; gid: number } | null,
  nodeStates: NodeStateStore,
): ResourceBackend {
  if (config.backend === 'simulator') {
    // Ids continue after the last one stored, so a restarted simulator never reuses one.
    return new SimulatorBackend(clusterSpecFromConfig(config.cluster), clock, { firstId: store.lastBackendSerial('sim-') + 1, nodeStates });
  }
  return new SlurmBackend({
    instance: instanceId(config.dataDir),
    ...(config.slurm.binDir ? { binDir: config.slurm.binDir } : {}),
    ...(config.slurm.slurmConf ? { slurmConf: config.slurm.slurmConf } : {}),
    pollIntervalMs: config.slurm.pollIntervalMs,
    commandTimeoutMs: config.slurm.commandTimeoutMs,
    holder: config.slurm.holder,
    reuseAllocations: config.slurm.reuseAllocations,
    holderAccount,
    onError: (e) => onError(e, 'SLURM poll'),
  });
}

/** The cluster's size for the job-size factor: the configured cluster (the simulator's; with SLURM until sinfo answers). */
function clusterSize(config: GrmConfig): { nodes: number; cpus: number } {
  const spec = clusterSpecFromConfig(config.cluster);
  return { nodes: spec.nodes.length, cpus: spec.nodes.reduce((sum, n) => sum + n.cpus, 0) };
}

export async function createDaemon(config: GrmConfig, options: CreateDaemonOptions = {}): Promise<Daemon> {
  const env = options.env ?? process.env;
  // refused before anything is opened: a daemon that may not listen must not touch the store
  checkBinding(config);
  const https = readTls(config);
  const scrapeToken = config.metrics.tokenFile ? ScrapeToken.fromFile(config.metrics.tokenFile) : undefined;
  const givenAdminToken = config.auth.adminTokenFile === '' ? undefined : readAdminTokenFile(path.resolve(config.auth.adminTokenFile));
  // the store first: one that cannot be used stops the start before anything else is touched
  const dbFile = path.join(config.dataDir, 'grm.sqlite');
  const db = openStore(dbFile);
  fs.mkdirSync(path.join(config.dataDir, 'jobs'), { recursive: true });
  const clock = options.clock ?? wallClock;
  const store = new JobStore(db, () => clock.now());
  const queue = new QueueStore(db, store);
  const metrics = new MetricStore(db, config.logs.maxMetricsPerJob);
  const logStore = new LogStore(db, metrics);
  const now = () => clock.now();
  const users = new UserService({
    store: new UserStore(db, now),
    audit: new AuditLog({ store: new AuditStore(db), now, maxFailureRows: config.auth.auditMaxFailureRows }),
    now,
    tokenLifetimeDays: config.auth.tokenLifetimeDays,
  });
  // First start (no user yet): an admin named after the daemon's OS user and running as it,
  // whose token (new, or auth.adminTokenFile's) is written to <dataDir>/admin.token (0600) for
  // the grm command here to find.
  const adminName = firstAdminName(isUserName);
  const keepToken = (token: string) => writeSecretFile(adminTokenPath(config.dataDir), `${token}\n`);
  const bootstrapped = users.bootstrap(adminName, daemonRunAs(), keepToken, givenAdminToken);
  let app: FastifyInstance | undefined;
  const onError = (error: unknown, context: string) => {
    if (app) app.log.error({ err: error }, context);
    else console.error(context, error);
  };
  // Who each user's masters run as, and where their -o/-e/-D may go: asked at submit and at start.
  const identity = (user: string) => masterIdentity(user, { daemonUid: daemonUid(), runAsUser: config.runtime.runAsUser, resolve: options.runAs ?? ((user) => users.runAsOf(user)) });
  const paths = new OutputPolicy({ dataDir: config.dataDir, roots: config.runtime.outputRoots, identity, isAdmin: options.isAdmin ?? ((user) => users.isAdmin(user)) });
  const holderAccount = (user: string) => {
    const who = identity(user);
    return who.kind === 'user' ? { uid: who.runAs.uid, gid: who.runAs.gid } : null;
  };
  const backend = options.backend ?? buildBackend(config, store, clock, onError, holderAccount, new NodeStateStore(db));
  const logs = new LogPipeline({ store: logStore, config: config.logs, onError });
  const searchFile = path.join(config.dataDir, 'grm-search.sqlite');
  const logSearch = new LogSearch({ db, file: searchFile, onError: (e) => onError(e, 'log search index') });
  // Every recorded job event is also a line of the job's log, source "grm"; a terminal one
  // (after its line) also tells live log readers that the job's log is complete.
  store.onEvent((event) => {
    logs.grmLine(event.jobId, event.toState ? `${event.fromState ?? 'new'} -> ${event.toState}: ${event.reason}` : event.reason);
    if (event.toState !== null && TERMINAL_STATES.has(event.toState)) logs.jobEnded(event.jobId, event.toState);
  });

  const runner = new JobRunner({
    store,
    backend,
    output: logs,
    dataDir: config.dataDir,
    killGraceMs: config.runtime.killGraceMs,
    requeue: { byDefault: config.runtime.jobRequeue, maxRestarts: config.runtime.maxBatchRequeue },
    envAllowList: config.runtime.envAllowList,
    daemonEnv: env,
    compss: config.compss,
    masterHost: os.hostname(),
    // With SLURM, a master runs srun/squeue into its allocation: it needs the cluster's config.
    slurmEnv: backend.kind === 'slurm' ? slurmClientEnv(config, env) : {},
    logScanIntervalMs: Math.max(config.logs.pollIntervalMs, 200),
    onError,
    paths,
    outputDevices: config.runtime.outputDevices,
  });
  // Parts hear of each other through events, not callbacks: a job's every state change is a
  // store event (the dispatcher wakes on it, the log feed writes it), grants and ends come as
  // backend events.
  const policy = new QueuePolicy({
    config: resolvePolicyConfig(config.policy, { queueDepth: config.scheduler.queueDepth }),
    store,
    policyStore: new PolicyStore(db),
    clock,
    cluster: clusterSize(config),
    // with SLURM the job-size factor is relative to the cluster sinfo shows
    ...(backend.kind === 'slurm' ? { sizeOf: () => backend.nodes().then((ns) => ({ nodes: ns.length, cpus: ns.reduce((sum, n) => sum + n.cpus, 0) })) } : {}),
    calcPeriodMs: config.policy.calcPeriodSeconds * 1000,
    onError,
  });
  const dispatcher = new Dispatcher({
    store,
    queue,
    clock,
    backend,
    runner,
    policy,
    lookAhead: config.policy.lookAhead,
    maxConcurrentMasters: config.maxConcurrentMasters,
    queueDepth: config.policy.queueDepth ?? config.scheduler.queueDepth,
    scanLimit: config.policy.scanLimit,
    onError,
  });
  // a limit raised at run time may let waiting jobs go: the next pass looks at them
  policy.onLimitsChanged(() => dispatcher.wake());
  const jobs = new JobService({ store, queue, backend, lifecycle: dispatcher, clock, maxArraySize: config.scheduler.maxArraySize, accounts: users, isAdmin: (user) => users.isAdmin(user), paths, policy });
  const maintenance = new Maintenance({
    db,
    store,
    backend,
    runner,
    dataDir: config.dataDir,
    retention: config.retention,
    onReport: (what, report) => app?.log.info({ report }, `${what} done`),
    onError,
  });

  // /metrics: read from the parts at each scrape, latencies from their events
  const prometheus = createDaemonMetrics({
    db,
    files: [dbFile, searchFile],
    version: VERSION,
    backend,
    ...(backend instanceof SlurmBackend ? { commands: { names: SLURM_COMMAND_NAMES, onCommand: (l) => backend.commands.onCommand(l) } } : {}),
    store,
    dispatcher,
    runner,
    search: logSearch,
    onError,
  });

  const startedAt = Date.now();
  const shutdown = new Shutdown(config.shutdownTimeoutMs);
  app = await buildApp({
    shutdown,
    logger: config.logLevel === 'silent' ? false : { level: config.logLevel },
    bodyLimit: config.limits.bodyBytes,
    rateLimit: config.rateLimit,
    ...(https ? { https } : {}),
    services: {
      jobs,
      policy,
      logs: logStore,
      metrics,
      logFeed: logs,
      search: logSearch,
      reports: new ReportStore(db),
      users,
      backend,
      forecast: new StartForecast({ store, queue, backend, clock, onError: (e) => onError(e, 'start forecast') }),
      jobDir: (id) => jobDirOf(config.dataDir, id),
      compressHostlist,
      jobsByBackendId: () =>
        new Map(store.inStates([...ACTIVE_STATES]).flatMap((j) => (j.backendId ? [[j.backendId, j.id] as const] : []))),
      version: VERSION,
      startedAt,
      problems: () => logs.problems(),
      logStoragePaused: () => logs.problems()[0] ?? null,
      limits: config.limits,
      prometheus,
      ...(scrapeToken ? { scrapeToken } : {}),
    },
  });
  if (bootstrapped) app.log.info(`first start: created admin "${adminName}"; its token is in ${adminTokenPath(config.dataDir)} (mode 0600)`);

  // Give the backend back what running jobs still hold (the simulator keeps no state; the
  // SLURM backend follows the holder jobs again).
  for (const job of store.inStates(['RUNNING', 'COMPLETING'])) {
    const allocation = store.allocation(job.id);
    if (allocation && allocation.releasedTime === null) backend.restore(job.id, allocation, job.description.exclusive ?? false);
  }
  await backend.start();
  logSearch.start();
  // Jobs caught between steps first (ALLOCATING, COMPLETING), then the masters still running.
  await maintenance.recoverAfterRestart();
  runner.recover();
  // the usage the limits read, rebuilt before the first pass reads it
  policy.start();
  dispatcher.start();
  if (options.schedules !== false) maintenance.schedule(config.reconcile.schedule, config.retention.schedule);

  let stopping: Promise<ShutdownReport> | undefined;
  const steps = (): { name: string; run(): unknown }[] => [
    { name: 'scheduling', run: () => (maintenance.stop(), policy.stop(), dispatcher.stop()) },
    ...(options.onDraining ? [{ name: 'drain hook', run: options.onDraining }] : []),
    // reads go on until here; open log streams are ended by their preClose hook
    { name: 'requests in flight', run: () => app!.close() },
    // Masters keep running (they outlive the daemon); their output waits in their files.
    { name: 'log tails', run: () => runner.detach() },
    { name: 'log batches', run: () => logs.close() },
    { name: 'search index', run: () => logSearch.close() },
    { name: 'backend', run: () => backend.stop() },
    { name: 'store', run: () => db.close() },
  ];
  const stop = async (): Promise<ShutdownReport> => {
    const mastersLeftRunning = runner.runningJobIds();
    return { steps: await shutdown.run(steps()), mastersLeftRunning };
  };
  return {
    config,
    app,
    db,
    store,
    logStore,
    logSearch,
    backend,
    dispatcher,
    runner,
    jobs,
    users,
    logs,
    maintenance,
    shutdown,
    async listen() {
      return app!.listen({ host: config.host, port: config.port });
    },
    stop() {
      stopping ??= stop();
      return stopping;
    },
  };
}

/** This GRM's id, made once per data dir: it marks the SLURM holder jobs that are ours. */
function instanceId(dataDir: string): string {
  const file = path.join(dataDir, 'instance-id');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    const id = randomBytes(6).toString('hex');
    fs.writeFileSync(file, `${id}\n`, { flag: 'wx' });
    return fs.readFileSync(file, 'utf8').trim();
  }
}

function slurmClientEnv(config: GrmConfig, env: NodeJS.ProcessEnv): Record<string, string> {
  const conf = config.slurm.slurmConf || env.SLURM_CONF;
  return conf ? { SLURM_CONF: conf } : {};
}

/** `grm daemon` / `npm start`: load config, start, stop cleanly on SIGINT/SIGTERM. */
export async function runDaemon(options: { env: NodeJS.ProcessEnv; cwd: string }): Promise<void> {
  let daemon: Daemon;
  try {
    const config = loadConfig({ env: options.env, cwd: options.cwd });
    daemon = await createDaemon(config, { env: options.env });
    await daemon.listen();
    // the address bound, not a guess: 0.0.0.0 says so, and https when TLS is on
    const url = boundUrl(daemon.app.server.address(), config.tls.cert !== '');
    daemon.app.log.info(`GRM ${VERSION} listening on ${url} (backend ${config.backend}, data ${config.dataDir})`);
  } catch (e) {
    if (isGrmError(e)) {
      process.stderr.write(`grm daemon: error: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  handleStopSignals({
    stop: () => daemon.stop(),
    shutdown: daemon.shutdown,
    log: { info: (m) => daemon.app.log.info(m), error: (m) => daemon.app.log.error(m) },
    exit: (code) => process.exit(code),
  });
}
