/**
 * The SLURM backend: each GRM job becomes one "holder" batch job (holder-job.ts) that owns
 * the allocation; the GRM runs the job's master itself with SLURM_JOB_ID=<holder>.
 *
 * This file tracks the holders and decides for them (allocate, adopt, hand over, release,
 * restore); how a holder is submitted is holder-submitter.ts, the poller that reads SLURM's
 * view of them holder-poller.ts.
 *
 * Events (same semantics as the simulator):
 * - 'granted' once, the first time a poll sees the holder running, with its Allocation;
 * - 'pending' when a waiting holder's reason (SLURM's state_reason) is first known or changes;
 * - 'ended' when a holder the GRM has not released ends by itself: TIMEOUT, NODE_FAIL,
 *   CANCELLED (someone else's scancel, or the holder vanished from squeue), FAILED otherwise.
 *   The holder stays tracked (list() reports ENDED) until release().
 * When and how they are polled: holder-poller.ts. allocate() adopts a live holder
 * with comment grm:<instance>:<jobId> left from before (found once after a start, and again
 * after an allocate that failed midway), so a retried allocate never submits twice; only a
 * holder owned by the account GRM submits for is adopted (a comment is anyone's to write).
 */
import type {
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
import { SlurmInfoCache } from './info-cache.js';
import { slurmForecast } from './slurm-forecast.js';
import { FORECAST_JOBS } from '../../simulate/forecast.js';
import type { Tracked } from './holder-status.js';
import { HolderPoller } from './holder-poller.js';
import { PollPace } from './poll-pace.js';
import { holderComment, holderJobName } from './holder-job.js';
import { HolderSubmitter, type HolderKind } from './holder-submitter.js';
import { pickTaker, shapeKey } from './handover.js';
import { requestFitError } from '../request-fit.js';
import { slurmFitPartition } from './sinfo-parse.js';
import { SlurmCommands, type WaitingSalloc } from './slurm-commands.js';
import { SQUEUE_WAITING_FORMAT, parseSqueueWaiting, type SqueueHolder } from './squeue-parse.js';
import { restoredRequest } from '../restored-request.js';

export type { HolderKind } from './holder-submitter.js';

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

export class SlurmBackend implements ResourceBackend {
  readonly kind = 'slurm' as const;
  readonly commands: SlurmCommands;
  private readonly poller: HolderPoller;
  private readonly submitter: HolderSubmitter;
  private readonly onError: (error: unknown) => void;
  private readonly tracked = new Map<string, Tracked>();
  /** Holders this GRM released: list() no longer reports them while SLURM remembers them. */
  private readonly released = new Set<string>();
  private readonly listeners: ((event: BackendEvent) => void)[] = [];
  /** sinfo and scontrol's partitions, reused for infoCacheMs. */
  private readonly info: SlurmInfoCache;

  /** Live holders of this instance found in SLURM, by GRM job id: loaded at the first allocate. */
  private leftovers: Promise<Map<number, SqueueHolder>> | undefined;
  /** Jobs whose allocate failed after it may have reached SLURM: look for their holder again. */
  private readonly unsure = new Set<number>();
  private readonly reuseAllocations: boolean;
  private readonly instance: string;
  private readonly holderAccount: (user: string) => { uid: number; gid: number } | null;

  constructor(options: SlurmBackendOptions) {
    this.commands = new SlurmCommands({
      ...(options.binDir !== undefined ? { binDir: options.binDir } : {}),
      ...(options.slurmConf !== undefined ? { slurmConf: options.slurmConf } : {}),
      ...(options.commandTimeoutMs !== undefined ? { timeoutMs: options.commandTimeoutMs } : {}),
      ...(options.env !== undefined ? { env: options.env } : {}),
    });
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(options.instance)) throw new Error(`invalid GRM instance id ${JSON.stringify(options.instance)}`);
    this.instance = options.instance;
    this.holderAccount = options.holderAccount ?? (() => null);
    this.onError = options.onError ?? (() => {});
    const infoCacheMs = options.infoCacheMs ?? 5000;
    this.reuseAllocations = options.reuseAllocations ?? true;
    this.info = new SlurmInfoCache(this.commands, infoCacheMs);
    this.submitter = new HolderSubmitter({
      commands: this.commands,
      instance: this.instance,
      holderAccount: this.holderAccount,
      holderWorkDir: options.holderWorkDir,
      holder: options.holder ?? 'auto',
      infoCacheMs,
    });
    this.poller = new HolderPoller({
      commands: this.commands,
      pace: new PollPace({ intervalMs: options.pollIntervalMs ?? 2000 }),
      instance: this.instance,
      tracked: this.tracked,
      released: this.released,
      emit: (event) => this.emit(event),
      onError: this.onError,
    });
  }

  // ------------------------------------------------------------------ validation

  /** The shared fit check on what sinfo/scontrol report, then `sbatch --test-only`. */
  async validate(request: ResourceRequest): Promise<void> {
    const [partitions, nodes] = await Promise.all([this.info.partitions(), this.info.nodes()]);
    const problem = requestFitError(slurmFitPartition(partitions, nodes, request.partition), request);
    if (problem) throw problem;
    // SLURM's own final word (its messages are kept by the command wrapper).
    await this.submitter.testOnly(request);
  }

  // ------------------------------------------------------------------ allocations

  async allocate(request: ResourceRequest): Promise<string> {
    for (const t of this.tracked.values()) if (t.request.jobId === request.jobId && t.status !== 'ENDED') return t.backendId;
    const existing = await this.leftover(request);
    if (existing) return this.track(existing, request);
    try {
      const { backendId, salloc } = await this.submitter.submit(request);
      if (!salloc) return this.track(backendId, request);
      const id = this.track(backendId, request, salloc);
      void salloc.exited.then(() => {
        const t = this.tracked.get(id);
        if (t?.salloc === salloc) delete t.salloc;
        // granted, or cancelled/refused while waiting: the poll says which
        if (t) this.poller.schedule(0);
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
      const scan = this.poller.holders().then((hs) => new Map(hs.filter((h) => h.phase !== 'ENDED').map((h) => [h.grmJobId, h])));
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
    if (!(await this.submitter.cluster()).setPriority) return false; // only an operator may raise a time limit
    const waiting = [...this.tracked.values()].filter((w) => w.status === 'PENDING');
    const foreign = this.poller.lastStatuses.some(
      (j) => j.phase === 'PENDING' && !this.tracked.has(j.slurmJobId) && !this.released.has(j.slurmJobId) && j.partition.split(',').includes(allocation.partition),
    );
    const picked = pickTaker(from, waiting, foreign, (r) => shapeKey(this.submitter.sbatchArgs(r)));
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
    this.tracked.set(from.backendId, { backendId: from.backendId, request: { ...taker.request }, status: 'RUNNING', allocation: handed, since: this.poller.nextSeq() });
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
      this.poller.statuses(),
      this.commands.squeueLines(SQUEUE_WAITING_FORMAT).then(parseSqueueWaiting),
    ]);
    const holders = new Map([...this.tracked.values()].filter((t) => t.status === 'PENDING').map((t) => [t.backendId, t.request]));
    return slurmForecast({ nodes, partitions, jobs, waitingJobs, holders, waiting, now: Date.now(), maxJobs: FORECAST_JOBS });
  }

  /** Holders of this cluster's kind ('auto': decided once, by its InactiveLimit). */
  async holderKind(): Promise<HolderKind> {
    return (await this.submitter.cluster()).kind;
  }

  private track(backendId: string, request: ResourceRequest, salloc?: WaitingSalloc): string {
    if (!this.tracked.has(backendId)) {
      this.tracked.set(backendId, { backendId, request: { ...request }, status: 'PENDING', since: this.poller.nextSeq(), ...(salloc ? { salloc } : {}) });
    }
    if (!salloc) this.poller.kick();
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
    if ([...this.tracked.values()].some((t) => t.status === 'PENDING' && !t.salloc)) this.poller.kick();
  }

  list(): Promise<BackendAllocationStatus[]> {
    return this.poller.allocations();
  }

  restore(jobId: number, allocation: Allocation, exclusive: boolean): void {
    if (this.tracked.has(allocation.backendId)) return;
    const request = restoredRequest(jobId, allocation, exclusive);
    this.tracked.set(allocation.backendId, {
      backendId: allocation.backendId,
      request,
      status: 'RUNNING',
      allocation: structuredClone(allocation),
      since: this.poller.nextSeq(),
    });
    this.poller.kick();
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
    this.poller.kick();
  }

  async nodes(): Promise<NodeInfo[]> {
    const [nodes, jobs] = await Promise.all([this.info.freshNodes(), this.poller.statuses()]);
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
    this.poller.start();
  }

  /** Waiting sallocs are abandoned, not cancelled: their jobs stay queued for the next start. */
  async stop(): Promise<void> {
    this.poller.halt();
    for (const t of this.tracked.values()) t.salloc?.abandon();
    await this.poller.settled();
  }

  /** One poll now (after any poll in flight); rejects when squeue fails. */
  pollNow(): Promise<void> {
    return this.poller.pollNow();
  }

  // ------------------------------------------------------------------ internals

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
