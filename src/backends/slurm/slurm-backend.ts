/**
 * The SLURM backend: each GRM job becomes one "holder" batch job (holder-job.ts) that owns
 * the allocation; the GRM runs the job's master itself with SLURM_JOB_ID=<holder>.
 *
 * Events (same semantics as the simulator):
 * - 'granted' once, the first time a poll sees the holder running, with its Allocation;
 * - 'pending' when a waiting holder's reason (SLURM's state_reason) is first known or changes;
 * - 'ended' when a holder the GRM has not released ends by itself: TIMEOUT, NODE_FAIL,
 *   CANCELLED (someone else's scancel, or the holder vanished from squeue), FAILED otherwise.
 *   The holder stays tracked (list() reports ENDED) until release().
 * One poller (setTimeout chain, unref'd) reads squeue's lines once per poll for all holders.
 * A holder whose salloc still waits needs no fast polls: salloc exits at the grant, and that
 * exit triggers the poll that reports it. Holders without one (batch holders, or adopted after
 * a restart) are polled at the pace of poll-pace.ts: within 100 ms of a submit or a release, at
 * most 1 s apart while one waits; with none waiting, every pollIntervalMs.
 * A failed poll goes to onError and the poller keeps going. allocate() adopts a live holder
 * with comment grm:<instance>:<jobId> left from before (found once after a start, and again
 * after an allocate that failed midway), so a retried allocate never submits twice; only a
 * holder owned by the account GRM submits for is adopted (a comment is anyone's to write).
 */
import { expandHostlist } from '../../hostlist/hostlist.js';
import type {
  AllocatedNode,
  Allocation,
  BackendAllocationStatus,
  BackendEvent,
  NodeInfo,
  NodeUpdate,
  PartitionInfo,
  ResourceBackend,
  ResourceRequest,
} from '../resource-backend.js';
import { checkNodeUpdate } from '../resource-backend.js';
import { AcceptanceCache } from './acceptance-cache.js';
import { SlurmInfoCache } from './info-cache.js';
import { slurmForecast } from './slurm-forecast.js';
import { FORECAST_JOBS } from '../../simulate/forecast.js';
import { judgeHolder, type Tracked } from './holder-status.js';
import { PollPace } from './poll-pace.js';
import { HOLDER_SCRIPT, holderComment, holderJobName, holderSallocArgs, holderSbatchArgs, type HolderJobOptions } from './holder-job.js';
import { pickTaker, shapeKey } from './handover.js';
import { requestFitError } from '../request-fit.js';
import { slurmFitPartition } from './sinfo-parse.js';
import { SlurmCommands, type WaitingSalloc } from './slurm-commands.js';
import {
  parseJobDetail,
  parseSqueueHolders,
  parseSqueueStatus,
  SQUEUE_HOLDER_FORMAT,
  SQUEUE_STATUS_FORMAT,
  SQUEUE_WAITING_FORMAT,
  parseSqueueWaiting,
  type SqueueHolder,
  type SqueueJobStatus,
} from './squeue-parse.js';
import { restoredRequest } from '../restored-request.js';

export interface SlurmBackendOptions {
  /** Directory of sbatch/squeue/...; default PATH. */
  binDir?: string;
  /** slurm.conf to use (SLURM_CONF); default the environment's. */
  slurmConf?: string;
  /** Poll interval; default 2000 ms. */
  pollIntervalMs?: number;
  /** Timeout of each SLURM command; default 30 000 ms. */
  commandTimeoutMs?: number;
  /** --chdir of holder jobs; default /tmp. */
  holderWorkDir?: string;
  /** This GRM's id, in every holder's comment: holders of other GRMs on the cluster are not ours. */
  instance: string;
  /** The account a user's holders are submitted for (sbatch --uid/--gid, as root); null: the daemon's own. */
  holderAccount?: (user: string) => { uid: number; gid: number } | null;
  /** Failed polls (slurmctld unreachable, ...); the poller keeps going. Default: ignored. */
  onError?: (error: unknown) => void;
  /** Base environment of the commands; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** How long sinfo/partition answers are reused by validate(); default 5000 ms. */
  infoCacheMs?: number;
  /**
   * The holder kind (holder-job.ts): 'salloc', 'batch', or 'auto' (default): salloc unless
   * the cluster sets InactiveLimit, which ends an allocation whose salloc is gone.
   */
  holder?: HolderKind | 'auto';
  /**
   * A finished job's holder goes straight to the next waiting job of the same shape and owner
   * when SLURM would have chosen it anyway (handover.ts); needs an operator (root, SlurmUser).
   * Default true.
   */
  reuseAllocations?: boolean;
}

export type HolderKind = 'salloc' | 'batch';

/** Request shapes whose --test-only acceptance is remembered at once. */
const TEST_ONLY_CACHE_SIZE = 256;

export class SlurmBackend implements ResourceBackend {
  readonly kind = 'slurm' as const;
  readonly commands: SlurmCommands;
  private readonly pace: PollPace;
  /** sbatch --test-only acceptances per request shape, for infoCacheMs. */
  private readonly testOnlyCache: AcceptanceCache;
  private readonly holderWorkDir: string | undefined;
  private readonly onError: (error: unknown) => void;
  private readonly infoCacheMs: number;
  private readonly tracked = new Map<string, Tracked>();
  /** Holders this GRM released: list() no longer reports them while SLURM remembers them. */
  private readonly released = new Set<string>();
  private readonly listeners: ((event: BackendEvent) => void)[] = [];
  private started = false;
  private timer: NodeJS.Timeout | undefined;
  private pollSeq = 0;
  private pollChain: Promise<void> = Promise.resolve();
  /** sinfo and scontrol's partitions, reused for infoCacheMs. */
  private readonly info: SlurmInfoCache;

  /** Live holders of this instance found in SLURM, by GRM job id: loaded at the first allocate. */
  private leftovers: Promise<Map<number, SqueueHolder>> | undefined;
  /** Jobs whose allocate failed after it may have reached SLURM: look for their holder again. */
  private readonly unsure = new Set<number>();
  private readonly holderOption: HolderKind | 'auto';
  private readonly reuseAllocations: boolean;
  /** The last poll's view of every job: who else waits in SLURM's queue. */
  private lastStatuses: SqueueJobStatus[] = [];
  private clusterAnswer: Promise<{ kind: HolderKind; setPriority: boolean }> | undefined;
  private readonly instance: string;
  private readonly holderAccount: (user: string) => { uid: number; gid: number } | null;

  constructor(options: SlurmBackendOptions) {
    this.commands = new SlurmCommands({
      ...(options.binDir !== undefined ? { binDir: options.binDir } : {}),
      ...(options.slurmConf !== undefined ? { slurmConf: options.slurmConf } : {}),
      ...(options.commandTimeoutMs !== undefined ? { timeoutMs: options.commandTimeoutMs } : {}),
      ...(options.env !== undefined ? { env: options.env } : {}),
    });
    this.pace = new PollPace({ intervalMs: options.pollIntervalMs ?? 2000 });
    this.holderWorkDir = options.holderWorkDir;
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(options.instance)) throw new Error(`invalid GRM instance id ${JSON.stringify(options.instance)}`);
    this.instance = options.instance;
    this.holderAccount = options.holderAccount ?? (() => null);
    this.onError = options.onError ?? (() => {});
    this.infoCacheMs = options.infoCacheMs ?? 5000;
    this.holderOption = options.holder ?? 'auto';
    this.reuseAllocations = options.reuseAllocations ?? true;
    this.info = new SlurmInfoCache(this.commands, this.infoCacheMs);
    this.testOnlyCache = new AcceptanceCache({ ttlMs: this.infoCacheMs, maxKeys: TEST_ONLY_CACHE_SIZE, now: () => Date.now() });
  }

  // ------------------------------------------------------------------ validation

  /** The shared fit check on what sinfo/scontrol report, then `sbatch --test-only`. */
  async validate(request: ResourceRequest): Promise<void> {
    const [partitions, nodes] = await Promise.all([this.info.partitions(), this.info.nodes()]);
    const problem = requestFitError(slurmFitPartition(partitions, nodes, request.partition), request);
    if (problem) throw problem;
    // SLURM's own final word (its messages are kept by the command wrapper).
    await this.testOnly(this.sbatchArgs(request));
  }

  /** `sbatch --test-only`, asked once per request shape: the holder's argv but its name and comment. */
  private testOnly(args: string[]): Promise<unknown> {
    const key = args.filter((a) => !a.startsWith('--job-name=') && !a.startsWith('--comment=')).join('\0');
    return this.testOnlyCache.ask(key, () => this.commands.sbatchTestOnly(args, HOLDER_SCRIPT));
  }

  // ------------------------------------------------------------------ allocations

  async allocate(request: ResourceRequest): Promise<string> {
    for (const t of this.tracked.values()) if (t.request.jobId === request.jobId && t.status !== 'ENDED') return t.backendId;
    const existing = await this.leftover(request);
    if (existing) return this.track(existing, request);
    try {
      const { kind, setPriority } = await this.cluster();
      const options = { ...this.holderOptions(request), setPriority };
      if (kind === 'batch') return this.track(await this.commands.sbatch(holderSbatchArgs(request, options), HOLDER_SCRIPT), request);
      const salloc = await this.commands.salloc(holderSallocArgs(request, options));
      const id = this.track(salloc.jobId, request, salloc);
      void salloc.exited.then(() => {
        const t = this.tracked.get(id);
        if (t?.salloc === salloc) delete t.salloc;
        // granted, or cancelled/refused while waiting: the poll says which
        if (t) this.schedule(0);
      });
      return id;
    } catch (e) {
      this.unsure.add(request.jobId);
      throw e;
    }
  }

  /** A live holder of this job submitted before (by an earlier run of GRM, or an allocate that failed midway). */
  private async leftover(request: ResourceRequest): Promise<string | undefined> {
    if (this.unsure.has(request.jobId) || !this.leftovers) {
      const scan = this.holders().then((hs) => new Map(hs.filter((h) => h.phase !== 'ENDED').map((h) => [h.grmJobId, h])));
      scan.catch(() => (this.leftovers = undefined));
      this.leftovers = scan;
      this.unsure.delete(request.jobId);
    }
    const leftovers = await this.leftovers;
    const found = leftovers.get(request.jobId);
    if (!found || this.released.has(found.slurmJobId)) return undefined;
    leftovers.delete(request.jobId);
    const owner = this.holderAccount(request.user)?.uid ?? process.getuid?.() ?? found.uid;
    return found.uid === owner ? found.slurmJobId : undefined;
  }

  /**
   * Gives a finished job's allocation to the waiting holder SLURM would start next, if it asks
   * for the same (handover.ts): the holder gets the taker's comment, name and time limit (from
   * now; written first, so a restart adopts it for the taker), the taker's own request is
   * withdrawn. False: nothing was handed over, the caller gives the allocation back.
   */
  private async handOver(from: Tracked, allocation: Allocation): Promise<boolean> {
    if (!(await this.cluster()).setPriority) return false; // only an operator may raise a time limit
    const waiting = [...this.tracked.values()].filter((w) => w.status === 'PENDING');
    const foreign = this.lastStatuses.some(
      (j) => j.phase === 'PENDING' && !this.tracked.has(j.slurmJobId) && !this.released.has(j.slurmJobId) && j.partition.split(',').includes(allocation.partition),
    );
    const picked = pickTaker(from, waiting, foreign, (r) => shapeKey(this.sbatchArgs(r)));
    const taker = picked && this.tracked.get(picked.backendId);
    if (!taker) return false;
    const now = Date.now();
    const minutes = taker.request.timeLimitMinutes;
    const limit = minutes === null ? 'UNLIMITED' : String(Math.ceil((now - allocation.startTime) / 60_000) + minutes);
    try {
      await this.commands.run('scontrol', [
        'update',
        `JobId=${from.backendId}`,
        `Comment=${holderComment(this.instance, taker.request.jobId)}`,
        `JobName=${holderJobName(taker.request)}`,
        `TimeLimit=${limit}`,
      ]);
    } catch (e) {
      this.onError(e);
      return false;
    }
    // granted or withdrawn while scontrol ran: the renamed holder goes back to SLURM
    if (this.tracked.get(taker.backendId) !== taker || taker.status !== 'PENDING') return false;
    this.tracked.delete(taker.backendId);
    this.released.add(taker.backendId);
    const handed: Allocation = { ...structuredClone(allocation), startTime: now, endTime: minutes === null ? null : now + minutes * 60_000 };
    this.tracked.set(from.backendId, { backendId: from.backendId, request: { ...taker.request }, status: 'RUNNING', allocation: handed, since: this.pollSeq + 1 });
    setImmediate(() => {
      if (this.tracked.get(from.backendId)?.request.jobId === taker.request.jobId) {
        this.emit({ type: 'granted', jobId: taker.request.jobId, allocation: structuredClone(handed), replaces: taker.backendId });
      }
    });
    this.commands.scancel([taker.backendId]).catch((e: unknown) => this.onError(e));
    return true;
  }

  /**
   * The start forecast from SLURM's own nodes and jobs, GRM's or not (slurm-forecast.ts), then
   * `waiting`: sinfo and partitions as cached for validate(), two squeues (states; waiting jobs' priorities and whole-node wishes).
   */
  async forecast(waiting: ResourceRequest[]): Promise<Map<number, number | null>> {
    const [nodes, partitions, jobs, waitingJobs] = await Promise.all([
      this.info.nodes(),
      this.info.partitions(),
      this.statuses(),
      this.commands.squeueLines(SQUEUE_WAITING_FORMAT).then(parseSqueueWaiting),
    ]);
    const holders = new Map([...this.tracked.values()].filter((t) => t.status === 'PENDING').map((t) => [t.backendId, t.request]));
    return slurmForecast({ nodes, partitions, jobs, waitingJobs, holders, waiting, now: Date.now(), maxJobs: FORECAST_JOBS });
  }

  /** Holders of this cluster's kind ('auto': decided once, by its InactiveLimit). */
  async holderKind(): Promise<HolderKind> {
    return (await this.cluster()).kind;
  }

  /** The holder kind, and whether GRM may set priorities (root or SlurmUser): read once. */
  private cluster(): Promise<{ kind: HolderKind; setPriority: boolean }> {
    this.clusterAnswer ??= this.commands.clusterConfig().then((c) => {
      const uid = process.getuid?.() ?? -1;
      const kind: HolderKind = this.holderOption !== 'auto' ? this.holderOption : c.inactiveLimitSeconds > 0 ? 'batch' : 'salloc';
      return { kind, setPriority: uid === 0 || uid === c.slurmUserUid };
    });
    this.clusterAnswer.catch(() => (this.clusterAnswer = undefined));
    return this.clusterAnswer;
  }

  private track(backendId: string, request: ResourceRequest, salloc?: WaitingSalloc): string {
    if (!this.tracked.has(backendId)) {
      this.tracked.set(backendId, { backendId, request: { ...request }, status: 'PENDING', since: this.pollSeq + 1, ...(salloc ? { salloc } : {}) });
    }
    if (!salloc) this.kick();
    return backendId;
  }

  /** The holder job's own limit: slurmctld ends it (TIMEOUT) and GRM follows, as for any limit. */
  async setTimeLimit(backendId: string, minutes: number): Promise<void> {
    await this.commands.run('scontrol', ['update', `JobId=${backendId}`, `TimeLimit=${minutes}`]);
  }

  async release(backendId: string, jobId?: number): Promise<void> {
    const t = this.tracked.get(backendId);
    // handed to another job since: it is that job's now
    if (t && jobId !== undefined && t.request.jobId !== jobId) return;
    this.tracked.delete(backendId);
    if (t?.status === 'RUNNING' && t.allocation && this.reuseAllocations && (await this.handOver(t, t.allocation))) return;
    this.released.add(backendId);
    try {
      await this.commands.scancel([backendId]);
    } catch (e) {
      // Not released after all (slurmctld unreachable): list() shows it again, so the
      // reconciler finds an allocation no live job owns and releases it once SLURM answers.
      this.released.delete(backendId);
      throw e;
    }
    // the freed nodes go to a waiting holder at once: one without a salloc is noticed by polls
    if ([...this.tracked.values()].some((t) => t.status === 'PENDING' && !t.salloc)) this.kick();
  }

  async list(): Promise<BackendAllocationStatus[]> {
    const [holders, jobs] = await Promise.all([this.holders(), this.statuses()]);
    const byId = new Map(jobs.map((j) => [j.slurmJobId, j]));
    const out: BackendAllocationStatus[] = [];
    for (const h of holders) {
      if (this.released.has(h.slurmJobId)) continue;
      const status: BackendAllocationStatus = { jobId: h.grmJobId, backendId: h.slurmJobId, state: h.phase };
      if (h.phase === 'PENDING') status.reason = byId.get(h.slurmJobId)?.reason ?? 'None';
      if (h.phase === 'ENDED') status.reason = h.state;
      out.push(status);
    }
    return out;
  }

  restore(jobId: number, allocation: Allocation, exclusive: boolean): void {
    if (this.tracked.has(allocation.backendId)) return;
    const request = restoredRequest(jobId, allocation, exclusive);
    this.tracked.set(allocation.backendId, {
      backendId: allocation.backendId,
      request,
      status: 'RUNNING',
      allocation: structuredClone(allocation),
      since: this.pollSeq + 1,
    });
    this.kick();
  }

  /**
   * `srun --jobid=<holder> --overlap -w <node> true` on every node, at once, each bounded in time;
   * as the holder's user when it was submitted for one (SLURM refuses root a step in it).
   */
  async preflight(allocation: Allocation): Promise<{ node: string; reason: string }[]> {
    const user = this.tracked.get(allocation.backendId)?.request.user;
    const as = user === undefined ? null : this.holderAccount(user);
    const results = await Promise.all(
      allocation.nodes.map(async (n) => {
        try {
          await this.commands.run('srun', [`--jobid=${allocation.backendId}`, '--overlap', '-N1', '-n1', '-w', n.name, 'true'], undefined, { as });
          return undefined;
        } catch (e) {
          return { node: n.name, reason: e instanceof Error ? e.message : String(e) };
        }
      }),
    );
    return results.filter((r): r is { node: string; reason: string } => r !== undefined);
  }

  /** The allocation of a granted holder this backend tracks, or undefined. */
  allocationOf(backendId: string): Allocation | undefined {
    const t = this.tracked.get(backendId);
    return t?.status === 'RUNNING' && t.allocation ? structuredClone(t.allocation) : undefined;
  }

  /**
   * scontrol update on the real cluster (the daemon must be root or SlurmUser). A node taken
   * down ends its jobs NODE_FAIL in SLURM; the next poll, soon, reports GRM's holders among them.
   */
  async updateNode(name: string, update: NodeUpdate): Promise<void> {
    checkNodeUpdate(update);
    await this.commands.updateNode(name, update.state === 'down' ? 'DOWN' : update.state === 'drain' ? 'DRAIN' : 'RESUME', update.reason);
    this.kick();
  }

  async nodes(): Promise<NodeInfo[]> {
    const [nodes, jobs] = await Promise.all([this.info.freshNodes(), this.statuses()]);
    const byNode = new Map<string, string[]>();
    for (const j of jobs) {
      if (j.phase !== 'RUNNING') continue;
      for (const n of j.nodes) {
        const list = byNode.get(n.name) ?? [];
        list.push(j.slurmJobId);
        byNode.set(n.name, list);
      }
    }
    for (const n of nodes) n.allocations = byNode.get(n.name) ?? [];
    return nodes;
  }

  /** SLURM's partitions, as seen within infoCacheMs: asked per submission, not worth an RPC each. */
  async partitions(): Promise<PartitionInfo[]> {
    return (await this.info.partitions()).map((p) => ({
      name: p.name,
      isDefault: p.isDefault,
      maxTimeMinutes: p.maxTimeMinutes,
      defaultTimeMinutes: p.defaultTimeMinutes,
      nodes: [...p.nodes],
      state: p.state,
    }));
  }

  onEvent(listener: (event: BackendEvent) => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.schedule(0);
  }

  /** Waiting sallocs are abandoned, not cancelled: their jobs stay queued for the next start. */
  async stop(): Promise<void> {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const t of this.tracked.values()) t.salloc?.abandon();
    await this.pollChain;
  }

  /** One poll now (after any poll in flight); rejects when squeue fails. */
  pollNow(): Promise<void> {
    const run = this.pollChain.then(() => this.poll());
    this.pollChain = run.catch(() => {});
    return run;
  }

  // ------------------------------------------------------------------ internals

  private sbatchArgs(request: ResourceRequest): string[] {
    return holderSbatchArgs(request, this.holderOptions(request));
  }

  private holderOptions(request: ResourceRequest): HolderJobOptions {
    return {
      instance: this.instance,
      account: this.holderAccount(request.user),
      ...(this.holderWorkDir !== undefined ? { workDir: this.holderWorkDir } : {}),
    };
  }

  /** Every job's state (no comments: they are read by holders() only). */
  private async statuses(): Promise<SqueueJobStatus[]> {
    return parseSqueueStatus(await this.commands.squeueLines(SQUEUE_STATUS_FORMAT), expandHostlist);
  }

  /**
   * This instance's holders (another GRM's are plain SLURM jobs to this one). A comment may
   * hold a newline and forge lines; a holder line counts only when its job id is printed once
   * and the comment-free status lines show that job with the same owner.
   */
  private async holders(): Promise<SqueueHolder[]> {
    const [text, statuses] = await Promise.all([this.commands.squeueLines(SQUEUE_HOLDER_FORMAT), this.statuses()]);
    const owners = new Map(statuses.map((j) => [j.slurmJobId, j.uid]));
    return parseSqueueHolders(text).filter((h) => h.grmInstance === this.instance && owners.get(h.slurmJobId) === h.uid);
  }

  private schedule(delayMs: number): void {
    if (!this.started) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pollNow()
        .catch((e) => this.onError(e))
        .finally(() => this.schedule(this.pace.after([...this.tracked.values()].some((h) => h.status === 'PENDING' && !h.salloc))));
    }, delayMs);
    this.timer.unref();
  }

  /** A poll soon (after a submit: SLURM usually starts a fitting job at once), then fast while it waits. */
  private kick(): void {
    if (this.started) this.schedule(this.pace.kick());
  }

  private async poll(): Promise<void> {
    const seq = ++this.pollSeq;
    if (this.tracked.size === 0) return;
    this.lastStatuses = await this.statuses();
    const jobs = new Map(this.lastStatuses.map((j) => [j.slurmJobId, j]));
    for (const id of this.released) if (!jobs.has(id)) this.released.delete(id);
    const details = await this.grantDetails(seq, jobs);
    const events: BackendEvent[] = [];
    for (const t of [...this.tracked.values()]) {
      if (t.status === 'ENDED' || t.since > seq) continue;
      events.push(...judgeHolder(t, jobs.get(t.backendId), details.get(t.backendId)));
    }
    for (const ev of events) {
      // A release() while squeue ran has the last word.
      const id = ev.type === 'granted' ? ev.allocation.backendId : ev.backendId;
      if (this.tracked.has(id)) this.emit(ev);
    }
  }

  /**
   * Per-node CPUs, memory and GPUs of the holders this poll sees granted, from scontrol's
   * detail (one call each, at once); a holder whose detail fails gets squeue's even split.
   */
  private async grantDetails(seq: number, jobs: Map<string, SqueueJobStatus>): Promise<Map<string, AllocatedNode[]>> {
    const granted = [...this.tracked.values()].filter((t) => t.status === 'PENDING' && t.since <= seq && (jobs.get(t.backendId)?.nodes.length ?? 0) > 0);
    const out = new Map<string, AllocatedNode[]>();
    await Promise.all(
      granted.map(async (t) => {
        try {
          const { nodes } = parseJobDetail(await this.commands.showJobDetail(t.backendId), expandHostlist);
          if (nodes.length > 0) out.set(t.backendId, nodes);
        } catch (e) {
          this.onError(e);
        }
      }),
    );
    return out;
  }

  /** A throwing listener neither stops the others nor the poller; its error is rethrown later. */
  private emit(event: BackendEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        setImmediate(() => {
          throw err;
        });
      }
    }
  }
}
