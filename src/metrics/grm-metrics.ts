/**
 * The daemon's Prometheus metrics, named as the SLURM exporters operators already scrape name
 * theirs (slurm_partition_jobs, slurm_node_count_per_state, slurm_cpus_idle, ...) with `grm_`
 * in place of `slurm_`.
 *
 * Two kinds, on purpose:
 *  - gauges of what is (jobs, nodes, CPUs, masters, store size, search lag) are read from the
 *    store and the backend when Prometheus scrapes (`render`): nothing in the hot paths keeps
 *    them, and they cannot drift from the store across restarts;
 *  - latencies and command errors are events: the composition root feeds them in from the
 *    parts' typed events (metric-events.ts).
 * One Registry per daemon (never prom-client's global one), so several daemons in one process
 * (tests) keep their numbers apart.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { NodeInfo } from '../backends/resource-backend.js';
import type { JobCount, LogLineStats } from '../store/stats-store.js';
import { clusterUsage, NODE_STATES, type ResourceCounts } from './cluster-usage.js';

/** What a scrape reads; the composition root binds it to the store, backend, runner and index. */
export interface ScrapeSources {
  jobCounts(): JobCount[];
  pendingByReason(): { reason: string; count: number }[];
  queueLength(): number;
  runningByUser(): { user: string; count: number }[];
  nodes(): Promise<NodeInfo[]>;
  mastersRunning(): number;
  logLines(): LogLineStats;
  /** Database files and their WAL, with their sizes. */
  storeFiles(): { file: string; bytes: number }[];
  /** The clock log lines are stamped with (the aggregator's: the wall clock). */
  wallNow(): number;
}

export interface GrmMetricsOptions {
  sources: ScrapeSources;
  version: string;
  backend: string;
  /** Backend commands known up front (SLURM's): their series start at 0 rather than at the first call. */
  commands?: readonly string[];
  /** process_* and nodejs_* metrics of prom-client (default on). */
  processMetrics?: boolean;
  /** A source that failed during a scrape (the scrape goes on without it). */
  onError?: (error: unknown, context: string) => void;
}

let processRegistry: Registry | undefined;

/**
 * process_* and nodejs_* belong to the process, not to a daemon: collected once per process
 * (prom-client's collectors keep observers and timers that are never released), shown by
 * every daemon's /metrics.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

const g = (registry: Registry, name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers: [registry] });

export class GrmMetrics {
  readonly registry = new Registry();
  private readonly jobs;
  private readonly jobsPending;
  private readonly jobsRunning;
  private readonly pendingReason;
  private readonly queueLength;
  private readonly userRunning;
  private readonly nodeStates;
  private readonly backendUp;
  private readonly cpus;
  private readonly gpus;
  private readonly masters;
  private readonly storeSize;
  private readonly logIngested;
  private readonly searchLagLines;
  private readonly searchLagSeconds;
  private readonly schedulerPass;
  private readonly dispatch;
  private readonly commandDuration;
  private readonly commandErrors;

  constructor(private readonly o: GrmMetricsOptions) {
    const r = this.registry;
    const info = g(r, 'grm_info', 'The GRM daemon: its version and backend (always 1)', ['version', 'backend']);
    info.set({ version: o.version, backend: o.backend }, 1);
    this.jobs = g(r, 'grm_partition_jobs', 'Jobs the store holds by partition and state (ended ones until retention drops them)', ['partition', 'state']);
    this.jobsPending = g(r, 'grm_jobs_pending', 'Jobs waiting to start, as squeue shows them: PENDING, or ALLOCATING with no nodes yet');
    this.jobsRunning = g(r, 'grm_jobs_running', 'Jobs RUNNING');
    this.pendingReason = g(r, 'grm_jobs_pending_by_reason', 'Jobs waiting to start (grm_jobs_pending) by the reason squeue shows', ['reason']);
    this.queueLength = g(r, 'grm_queue_length', 'Pending jobs nothing blocks (hold, begin time, dependency): the queue a dispatch pass reads');
    this.userRunning = g(r, 'grm_user_jobs_running', 'Jobs RUNNING per user', ['user']);
    this.backendUp = g(r, 'grm_backend_up', 'Whether the backend answered this scrape (0: slurmctld unreachable; node and CPU series keep their last values)');
    this.nodeStates = g(r, 'grm_node_count_per_state', 'Nodes per state (idle, mixed, allocated, drained, down)', ['state']);
    this.cpus = resourceGauges(r, 'cpus', 'CPUs');
    this.gpus = resourceGauges(r, 'gpus', 'GPUs');
    this.masters = g(r, 'grm_masters_running', 'Runtime masters this daemon runs or is starting');
    this.storeSize = g(r, 'grm_store_size_bytes', 'Bytes on disk of each SQLite file of the store and its write-ahead log', ['file']);
    this.logIngested = new Counter({ name: 'grm_log_lines_ingested_total', help: 'Log lines stored over the store\'s life', registers: [r] });
    this.searchLagLines = g(r, 'grm_log_search_lag_lines', 'Log lines stored and not yet in the full-text search index');
    this.searchLagSeconds = g(r, 'grm_log_search_lag_seconds', 'Age of the oldest log line not yet searchable (0 when all are)');
    this.schedulerPass = new Histogram({
      name: 'grm_scheduler_pass_duration_seconds',
      help: 'Duration of one dispatch pass over the pending queue (slurmctld\'s main scheduling cycle)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [r],
    });
    this.dispatch = new Histogram({
      name: 'grm_job_dispatch_duration_seconds',
      help: 'From a job sent to the backend (ALLOCATING) to its master running (RUNNING): its wait in the backend\'s queue, the grant and the master\'s start',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
      registers: [r],
    });
    this.commandDuration = new Histogram({
      name: 'grm_backend_command_duration_seconds',
      help: 'Duration of the backend\'s commands (sbatch, salloc, squeue, scancel, scontrol, sinfo, srun; none with the simulator)',
      labelNames: ['command'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [r],
    });
    this.commandErrors = new Counter({ name: 'grm_backend_command_errors_total', help: 'Backend commands that failed (non-zero exit, timeout, missing binary)', labelNames: ['command'], registers: [r] });
    for (const command of o.commands ?? []) {
      this.commandDuration.zero({ command });
      this.commandErrors.inc({ command }, 0);
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text, read fresh from the sources. */
  async render(): Promise<string> {
    await this.collect();
    if (this.o.processMetrics === false) return this.registry.metrics();
    return Registry.merge([this.registry, processMetrics()]).metrics();
  }

  observeSchedulingPass(seconds: number): void {
    this.schedulerPass.observe(seconds);
  }

  observeDispatch(seconds: number): void {
    this.dispatch.observe(Math.max(0, seconds));
  }

  observeCommand(command: string, seconds: number, ok: boolean): void {
    this.commandDuration.observe({ command }, seconds);
    if (!ok) this.commandErrors.inc({ command });
  }

  private async collect(): Promise<void> {
    const s = this.o.sources;
    // a controller that does not answer must not cost the scrape GRM's own series
    const nodes = await s.nodes().catch((e: unknown) => {
      this.o.onError?.(e, 'metrics: the backend\'s nodes');
      return null;
    });
    this.backendUp.set(nodes ? 1 : 0);
    if (nodes) this.collectNodes(nodes);
    this.collectJobs();
    this.masters.set(s.mastersRunning());
    this.storeSize.reset();
    for (const f of s.storeFiles()) this.storeSize.set({ file: f.file }, f.bytes);
    const lines = s.logLines();
    // a counter read from the store: the store's count is the truth, monotone across restarts
    this.logIngested.reset();
    this.logIngested.inc(lines.ingested);
    this.searchLagLines.set(lines.unindexed);
    this.searchLagSeconds.set(lines.oldestUnindexedTime === null ? 0 : Math.max(0, (s.wallNow() - lines.oldestUnindexedTime) / 1000));
  }

  private collectNodes(nodes: NodeInfo[]): void {
    const usage = clusterUsage(nodes);
    for (const state of NODE_STATES) this.nodeStates.set({ state }, usage.nodesByState[state]);
    setResources(this.cpus, usage.cpus);
    setResources(this.gpus, usage.gpus);
  }

  private collectJobs(): void {
    const s = this.o.sources;
    // label sets of jobs, users and reasons that no longer exist must go, not stay at their last value
    this.jobs.reset();
    let running = 0;
    for (const c of s.jobCounts()) {
      this.jobs.set({ partition: c.partition, state: c.state }, c.count);
      if (c.state === 'RUNNING') running += c.count;
    }
    this.jobsRunning.set(running);
    let waiting = 0;
    this.pendingReason.reset();
    for (const r of s.pendingByReason()) {
      this.pendingReason.set({ reason: r.reason }, r.count);
      waiting += r.count;
    }
    this.jobsPending.set(waiting);
    this.queueLength.set(s.queueLength());
    this.userRunning.reset();
    for (const u of s.runningByUser()) this.userRunning.set({ user: u.user }, u.count);
  }
}

type ResourceGauges = Record<keyof ResourceCounts, Gauge>;

function resourceGauges(r: Registry, unit: 'cpus' | 'gpus', what: string): ResourceGauges {
  return {
    total: g(r, `grm_${unit}_total`, `${what} of every node`),
    allocated: g(r, `grm_${unit}_allocated`, `${what} allocated to jobs`),
    idle: g(r, `grm_${unit}_idle`, `${what} free on nodes that take work`),
    other: g(r, `grm_${unit}_other`, `${what} free on drained or down nodes (unusable)`),
  };
}

function setResources(gauges: ResourceGauges, counts: ResourceCounts): void {
  for (const key of Object.keys(gauges) as (keyof ResourceCounts)[]) gauges[key].set(counts[key]);
}
