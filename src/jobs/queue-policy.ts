/**
 * GRM's queue policy at work (the pure rules are src/policy/): the priority each pending job
 * holds in the queue order's index, the usage the limits read, and the fair-share usage the
 * jobs' runs are charged with.
 *
 * - Priority is computed at submit and again every `calcPeriodMs` for every pending job (as
 *   slurmctld's PriorityCalcPeriod), only when a factor that changes with time (age, fair
 *   share) has a weight; with every weight 0 (the default) it is 1 and the order stays FIFO.
 * - The usage tracker is rebuilt at start from the jobs that are not finished, then follows
 *   every state change (the store's events): O(tree depth) per change, never a rescan.
 * - Fair share: a run is charged its CPU-seconds (decayed, src/policy/fair-share.ts) at each
 *   recalculation and at its end; the ledger is saved with the time the running jobs were
 *   charged up to, so a restart charges them from there. A crash loses at most one period's
 *   usage, never a job.
 * A job as the policy sees it is policy-job.ts; sacctmgr's limit changes, limit-targets.ts.
 */
import type { Clock, TimerHandle } from '../backends/simulator/clock.js';
import { GrmError } from '../errors.js';
import type { AccountTree } from '../policy/account-tree.js';
import { UsageLedger, fairShareTable, type FairShareTable, type SshareRow } from '../policy/fair-share.js';
import { checkRun, checkSubmit, type LimitContext } from '../policy/limits.js';
import type { LimitChanges } from '../policy/limit-changes.js';
import { buildAccountTree, resolveQos, type PolicyConfig } from '../policy/policy-config.js';
import type { PolicyJob } from '../policy/policy-types.js';
import { selectVictims, type RunningJob, type Victim } from '../policy/preemption.js';
import { priorityCalculator, sprioRow, type ClusterSize, type JobPriority, type SprioRow } from '../policy/priority.js';
import { UsageTracker } from '../policy/usage-tracker.js';
import type { JobStore } from '../store/job-store.js';
import type { PolicyStore } from '../store/policy-store.js';
import { isTerminal } from './job-state.js';
import type { JobEvent, JobRecord } from './job-types.js';
import { applyLimitTarget, limitsInForce, storedChange, targetName, type LimitsOf, type LimitTarget } from './limit-targets.js';
import { fromPolicyRow, policyJobOf, type PolicySource } from './policy-job.js';

export interface QueuePolicyOptions {
  config: PolicyConfig;
  store: JobStore;
  policyStore: PolicyStore;
  clock: Clock;
  /** The cluster's nodes and CPUs, for the job-size factor (until sizeOf answers). */
  cluster: ClusterSize;
  /**
   * The cluster's size as the backend sees it (SLURM: sinfo), read again at each recalculation;
   * absent: `cluster` holds (the simulator's is the configured one).
   */
  sizeOf?: () => Promise<ClusterSize>;
  /** PriorityCalcPeriod. */
  calcPeriodMs: number;
  onError: (error: unknown, context: string) => void;
}

/** Pending jobs read per page by a recalculation (bounded memory whatever the queue's length). */
const PAGE = 5000;

interface Charging {
  assoc: string;
  cpus: number;
  from: number;
}

export class QueuePolicy {
  readonly tree: AccountTree;
  readonly tracker: UsageTracker;
  readonly limits: LimitContext;
  private readonly ledger: UsageLedger;
  private readonly charging = new Map<number, Charging>();
  private table: FairShareTable;
  private cluster: ClusterSize;
  private calc: (job: PolicyJob, now: number) => JobPriority;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private readonly changeListeners: (() => void)[] = [];
  private calculating = false;
  /** Whether a factor moves with time, so priorities must be recalculated. */
  private readonly timeDependent: boolean;

  constructor(private readonly o: QueuePolicyOptions) {
    this.tree = buildAccountTree(o.config);
    this.tracker = new UsageTracker(this.tree);
    this.limits = { tree: this.tree, qos: o.config.qos };
    this.ledger = new UsageLedger(o.config.halfLifeMs, o.policyStore.usage());
    const w = o.config.priority.weights;
    this.timeDependent = w.age > 0 || w.fairshare > 0;
    this.table = this.refreshTable();
    this.cluster = o.cluster;
    this.calc = this.calculator();
  }

  /** Rebuilds the usage from the unfinished jobs, follows the store, recalculates on a timer. */
  start(): void {
    this.applyStoredLimits();
    const chargedAt = this.o.policyStore.chargedAt();
    for (const r of this.o.policyStore.active()) {
      const { job, startTime } = fromPolicyRow(r);
      const pj = this.policyJob(job);
      this.tracker.started(pj);
      if (r.state === 'RUNNING' && startTime !== null) this.charging.set(pj.id, this.chargingOf(pj, Math.max(startTime, chargedAt ?? startTime)));
    }
    for (let after = 0; ; ) {
      const page = this.o.policyStore.pendingPage(after, PAGE);
      for (const r of page) this.tracker.submitted(this.policyJob(fromPolicyRow(r).job));
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.id;
    }
    this.o.store.onEvent((e) => this.onEvent(e));
    void this.recalculate().catch((e) => this.o.onError(e, 'priority calculation'));
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  /** The job as the policy sees it (its QOS resolved: the asked one or the default). */
  policyJob(job: PolicySource): PolicyJob {
    const asked = job.description.qos;
    const qos = asked && this.o.config.qos.has(asked) ? asked : this.o.config.defaultQos;
    return policyJobOf(job, qos);
  }

  /**
   * The submit check: an unknown QOS, or a submit limit (MaxSubmitJobs...) or a strict size
   * or time limit, refused with SLURM's words. Returns the job's priority now.
   */
  admitSubmission(job: PolicySource, count: number): number {
    // with QOSes configured GRM acts on --qos, and refuses one it does not know, as sbatch;
    // without, --qos is recorded (and passed to SLURM, which checks it)
    if (this.actsOnQos) resolveQos(job.description.qos, this.o.config);
    const pj = this.policyJob(job);
    const refusal = checkSubmit(pj, this.tracker, this.limits, count);
    if (refusal) throw new GrmError('E_POLICY_LIMIT', refusal.message, { field: refusal.reason.startsWith('QOS') ? 'qos' : 'account' });
    return this.calc(pj, this.o.clock.now()).priority;
  }

  /**
   * sacctmgr modify: changes the limits of an account, a user association or a QOS now (no
   * restart), saved so they hold after one; a job waiting on a limit that went up is looked
   * at again by the next pass (the listeners wake the dispatcher). Returns the limits in force.
   */
  modifyLimits(target: LimitTarget, changes: LimitChanges): Record<string, number> {
    const next = this.applyLimits(target, changes);
    this.o.policyStore.saveLimitOverride(target.kind, targetName(target, this.tree), next);
    for (const fn of this.changeListeners) fn();
    return next;
  }

  /** The account of a user's association when none is named. */
  defaultAccountOf(user: string): string {
    return this.tree.association(user).key.split('/')[0]!;
  }

  /** Called after limits changed at run time. */
  onLimitsChanged(fn: () => void): void {
    this.changeListeners.push(fn);
  }

  /** Every limit in force: accounts, user associations and QOSes that have any. */
  limitsInForce(): LimitsOf[] {
    return limitsInForce(this.tree, this.o.config.qos);
  }

  private applyLimits(target: LimitTarget, changes: LimitChanges): Record<string, number> {
    return applyLimitTarget(this.tree, this.o.config.qos, target, changes);
  }

  /** Limits set at run time by an earlier daemon, over the configuration's. */
  private applyStoredLimits(): void {
    for (const o of this.o.policyStore.limitOverrides()) {
      try {
        const { target, changes } = storedChange(o);
        this.applyLimits(target, changes);
      } catch (e) {
        // an account or QOS the configuration no longer has: its old limits have nothing to hold
        this.o.onError(e, `limits of ${o.kind} ${o.name} set at run time`);
      }
    }
  }

  /**
   * The running jobs to preempt for a job waiting for nodes (src/policy/preemption.ts), with
   * `freeNodes` idle nodes in its partition; [] when its QOS may preempt none of them.
   */
  victimsFor(job: JobRecord, running: JobRecord[], freeNodes: number): Victim[] {
    if (!this.mayPreempt(job)) return [];
    const pj = this.policyJob(job);
    const candidates: RunningJob[] = running
      .filter((r) => r.partition === job.partition && r.startTime !== null)
      .map((r) => ({ id: r.id, qos: this.policyJob(r).qos, priority: r.priority, startTime: r.startTime!, nodes: r.numNodes }));
    return selectVictims(pj.qos, pj.nodes - freeNodes, candidates, this.o.config.qos);
  }

  /** Whether the job's QOS may preempt any other QOS (checked before anything is asked of the backend). */
  mayPreempt(job: JobRecord): boolean {
    const qos = this.policyJob(job).qos;
    return qos !== undefined && (this.o.config.qos.get(qos)?.preempt.length ?? 0) > 0;
  }

  /** Whether QOSes are configured: --qos then picks one (its priority, limits, preemption). */
  get actsOnQos(): boolean {
    return this.o.config.qos.size > 0;
  }

  /** The limit a job waits on (SLURM's reason name), or null when it may start now. */
  runLimit(job: JobRecord): string | null {
    return checkRun(this.policyJob(job), this.tracker, this.limits);
  }

  /**
   * Pending jobs' priorities now, as sprio shows them, in job id order a page at a time
   * (`after`: the last id of the previous page); `user`: only theirs.
   */
  sprio(o: { after: number; limit: number; user?: string; normalised?: boolean }): { rows: SprioRow[]; more: boolean } {
    const now = this.o.clock.now();
    const page = this.o.policyStore.pendingPage(o.after, o.limit + 1, o.user);
    const rows = page.slice(0, o.limit).map((r) => {
      const pj = this.policyJob(fromPolicyRow(r).job);
      return sprioRow(pj, this.calc(pj, now), o.normalised ?? false);
    });
    return { rows, more: page.length > o.limit };
  }

  /** The fair-share tree as sshare shows it, usage charged up to now. */
  sshare(): SshareRow[] {
    this.chargeRunning(this.o.clock.now());
    this.table = this.refreshTable();
    return this.table.rows;
  }

  /** The backend's size, when it tells one; a failed read keeps the last (the job-size factor waits, nothing else). */
  private async refreshClusterSize(): Promise<boolean> {
    if (!this.o.sizeOf) return false;
    try {
      const size = await this.o.sizeOf();
      if (size.nodes <= 0 || size.cpus <= 0 || (size.nodes === this.cluster.nodes && size.cpus === this.cluster.cpus)) return false;
      this.cluster = size;
      return this.o.config.priority.weights.jobSize > 0;
    } catch (e) {
      this.o.onError(e, 'cluster size for the job-size factor');
      return false;
    }
  }

  /**
   * Charges the running jobs, saves the ledger, and (when a factor moves with time) gives
   * every pending job its priority now; then again after calcPeriodMs.
   */
  async recalculate(): Promise<void> {
    if (this.stopped || this.calculating) return;
    this.calculating = true;
    try {
      const resized = await this.refreshClusterSize();
      const now = this.o.clock.now();
      this.chargeRunning(now);
      this.o.policyStore.saveUsage(this.ledger.entries(), now);
      this.table = this.refreshTable();
      this.calc = this.calculator();
      if (this.timeDependent || resized) await this.reprioritise(now);
      this.timer?.cancel();
      if (!this.stopped) this.timer = this.o.clock.setTimer(now + this.o.calcPeriodMs, () => void this.recalculate().catch((e) => this.o.onError(e, 'priority calculation')));
    } finally {
      this.calculating = false;
    }
  }

  /**
   * Every pending job's priority, a page at a time with a turn of the event loop between
   * pages: 100,000 jobs take about a second, which must not stop the API for that long.
   */
  private async reprioritise(now: number): Promise<void> {
    for (let after = 0; !this.stopped; ) {
      const page = this.o.policyStore.pendingPage(after, PAGE);
      const changes: [number, number][] = [];
      for (const r of page) {
        const p = this.calc(this.policyJob(fromPolicyRow(r).job), now).priority;
        if (p !== r.priority) changes.push([r.id, p]);
      }
      if (changes.length > 0) this.o.policyStore.setPriorities(changes);
      if (page.length < PAGE) return;
      after = page[page.length - 1]!.id;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private onEvent(e: JobEvent): void {
    if (e.toState === null) {
      // an array's task split off (it arrives as a PENDING job of its own): the record stands for one less
      const job = this.o.store.get(e.jobId);
      if (job && job.arrayJobId === job.id) this.tracker.resized(this.policyJob(job));
      return;
    }
    if (e.toState === e.fromState) return;
    const to = e.toState;
    if (isTerminal(to)) {
      this.endCharge(e.jobId, e.time);
      this.tracker.ended(e.jobId);
      return;
    }
    const job = this.o.store.get(e.jobId);
    if (!job) return;
    const pj = this.policyJob(job);
    if (to === 'PENDING') {
      if (e.fromState !== null) {
        this.endCharge(e.jobId, e.time);
        this.tracker.requeued(e.jobId);
      }
      this.tracker.submitted(pj);
    } else {
      this.tracker.started(pj);
      if (to === 'RUNNING' && !this.charging.has(pj.id)) this.charging.set(pj.id, this.chargingOf(pj, e.time));
    }
  }

  private chargingOf(pj: PolicyJob, from: number): Charging {
    return { assoc: this.tree.association(pj.user, pj.account).key, cpus: pj.cpus, from };
  }

  private endCharge(jobId: number, at: number): void {
    const c = this.charging.get(jobId);
    if (!c) return;
    this.charging.delete(jobId);
    if (at > c.from) this.ledger.chargeRun(c.assoc, c.cpus, c.from, at);
  }

  private chargeRunning(now: number): void {
    for (const c of this.charging.values()) {
      if (now <= c.from) continue;
      this.ledger.chargeRun(c.assoc, c.cpus, c.from, now);
      c.from = now;
    }
  }

  private refreshTable(): FairShareTable {
    return fairShareTable(this.tree, this.ledger, this.o.clock.now(), { dampening: this.o.config.fairShareDampening });
  }

  private calculator(): (job: PolicyJob, now: number) => JobPriority {
    return priorityCalculator(this.o.config.priority, this.cluster, (job) => this.fairShareOf(job));
  }

  /** A job's fair-share factor; a user seen for the first time joins the table first (not a 0). */
  private fairShareOf(job: PolicyJob): number {
    const key = this.tree.association(job.user, job.account).key;
    if (!this.table.row(key)) this.table = this.refreshTable();
    return this.table.factor(key);
  }
}
