/**
 * The dispatcher takes PENDING jobs to the backend in priority order, within the GRM's own
 * policy (begin time, dependencies, max concurrent masters), and routes the backend's
 * events (granted, pending reason, ended) to the job runner. It runs on events — submit,
 * grant, master exit — coalesced into one pass, plus a timer for begin times and retries.
 * Stopping runs (cancel, requeue, preemption) is run-stop.ts; the dispatcher hands them on.
 */
import type { BackendEvent, PartitionInfo, ResourceBackend } from '../backends/resource-backend.js';
import type { Clock, TimerHandle } from '../backends/simulator/clock.js';
import { isGrmError } from '../errors.js';
import type { JobStore } from '../store/job-store.js';
import type { QueueEntry, QueueStore } from '../store/queue-store.js';
import { takeFirstIndex } from './array-tasks.js';
import { dependencyJobIds } from './dependency.js';
import { Eligibility } from './eligibility.js';
import type { JobLifecycle } from './job-service.js';
import type { QueuePolicy } from './queue-policy.js';
import { isActive, isTerminal } from './job-state.js';
import type { JobRecord, JobState } from './job-types.js';
import { choosePartition, toResourceRequest } from './resource-request.js';
import { RunStopper, type MasterStopper } from './run-stop.js';

/** What the dispatcher needs of the part that runs masters. */
export interface JobRunnerPort extends MasterStopper {
  onGranted(event: Extract<BackendEvent, { type: 'granted' }>): Promise<void>;
  onBackendEnded(event: Extract<BackendEvent, { type: 'ended' }>): Promise<void>;
}

export interface DispatcherOptions {
  store: JobStore;
  queue: QueueStore;
  clock: Clock;
  /** At most this many jobs of the eligible queue are looked at per pass (default_queue_depth). */
  queueDepth?: number;
  /** Jobs read per pass at most, those skipped for a limit included (policy.scanLimit). */
  scanLimit?: number;
  backend: ResourceBackend;
  runner: JobRunnerPort;
  maxConcurrentMasters: number;
  /**
   * Jobs the backend may hold waiting for nodes at once (policy.lookAhead): beyond them, jobs
   * wait in GRM's queue, in GRM's order, so the backend's own (SLURM's FIFO) cannot reorder
   * them; a few let the backend keep its nodes busy and backfill. Default: no bound.
   */
  lookAhead?: number;
  /** The queue policy's run limits: a job over one waits with its reason, the jobs behind it go on. */
  policy?: Pick<QueuePolicy, 'runLimit' | 'victimsFor' | 'mayPreempt'>;
  /** Delay before asking an unavailable backend again. */
  retryDelayMs?: number;
  onError?: (error: unknown, context: string) => void;
}

const ACTOR = 'dispatcher';
/** Begin times released per pass; more wake another pass. */
const BEGIN_BATCH = 1000;

/** One dispatch pass done: how long it took (ms, the monotonic clock: /metrics). */
export interface PassEvent {
  durationMs: number;
}

interface PassContext {
  active: { count: number };
  /** Sent and not granted yet: the look-ahead in use. */
  awaiting: { count: number };
  partitions: PartitionInfo[] | undefined;
}

export class Dispatcher implements JobLifecycle {
  private scheduled = false;
  private passing = false;
  private again = false;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];
  /** Jobs whose state changed since the last pass: their dependents are re-checked. */
  private readonly changed = new Set<number>();
  private singletonsFreed: { user: string; name: string }[] = [];
  private readonly stopper: RunStopper;
  private readonly eligibility: Eligibility;
  private readonly queueDepth: number;
  private readonly scanLimit: number;
  private readonly passListeners: ((event: PassEvent) => void)[] = [];

  constructor(private readonly options: DispatcherOptions) {
    this.eligibility = new Eligibility(options.queue);
    this.queueDepth = options.queueDepth ?? 100;
    this.scanLimit = options.scanLimit ?? 10_000;
    const { store, clock, backend, runner, policy } = options;
    this.stopper = new RunStopper({ store, clock, backend, runner, policy });
  }

  start(): void {
    this.recheckAllDependencies();
    this.options.store.onEvent((event) => {
      if (event.toState !== null) this.noteChange(event.jobId, event.fromState, event.toState);
    });
    this.options.backend.onEvent((event) => {
      this.handleBackendEvent(event).catch((e) => this.report(e, `backend event ${event.type} for job ${event.jobId}`));
    });
    this.wake();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  onPass(listener: (event: PassEvent) => void): void {
    this.passListeners.push(listener);
  }

  /** Asks for a dispatch pass soon; many wakes in one tick make one pass. */
  wake(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      // stopped in between (shutdown): the store may be closed already
      if (this.stopped) return void this.idleWaiters.splice(0).forEach((r) => r());
      void this.pass();
    });
  }

  /** Resolves when no pass is running or scheduled (tests, shutdown). */
  idle(): Promise<void> {
    if (!this.scheduled && !this.passing) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  cancel(job: JobRecord, actor: string): Promise<JobRecord> {
    return this.stopper.cancel(job, actor);
  }

  /** scontrol requeue (run-stop.ts). */
  requeue(job: JobRecord, actor: string, hold: boolean): Promise<JobRecord> {
    return this.stopper.requeue(job, actor, hold);
  }

  private async pass(): Promise<void> {
    if (this.passing) {
      this.again = true;
      return;
    }
    this.passing = true;
    const started = performance.now();
    try {
      await this.dispatchPending();
    } catch (e) {
      this.report(e, 'dispatch pass');
    } finally {
      this.passing = false;
      const event = { durationMs: performance.now() - started };
      this.passListeners.forEach((l) => l(event));
      if (this.again) {
        this.again = false;
        this.wake();
      } else if (!this.scheduled) {
        this.idleWaiters.splice(0).forEach((r) => r());
      }
    }
  }

  /**
   * One pass, like slurmctld's main scheduler: begin times that have come and dependencies
   * that changed move jobs into the eligible queue, then at most `queueDepth` jobs of its
   * head are looked at, in priority order. Jobs skipped for a limit of their user, account or
   * QOS do not count: as many more are read after them (up to `scanLimit` in all), so a user
   * with many jobs at a limit at the head holds nobody back. Nothing reads the rest.
   */
  private async dispatchPending(): Promise<void> {
    const { queue, clock } = this.options;
    const now = clock.now();
    const moreDue = this.releaseDueBeginTimes(now);
    this.recheckDependents();
    let retryAt = Infinity;
    let after: QueueEntry | undefined;
    for (let budget = this.queueDepth, scanned = 0; budget > 0 && scanned < this.scanLimit; ) {
      const head = queue.head(Math.min(budget, this.scanLimit - scanned), after);
      if (head.length === 0) break;
      const r = await this.dispatchHead(head);
      retryAt = Math.min(retryAt, r.retryAt);
      scanned += head.length;
      if (r.full || head.length < budget) break;
      budget = r.limited;
      after = head[head.length - 1];
    }
    if (moreDue) this.wake();
    const nextBegin = queue.nextBeginTime();
    this.scheduleTimer(Math.min(retryAt, nextBegin ?? Infinity));
  }

  /**
   * Sends the head's jobs (an array's tasks one by one) while master slots are free; once
   * none is, the rest of the head is only told why it waits (no record is read for that).
   */
  private async dispatchHead(head: QueueEntry[]): Promise<{ retryAt: number; limited: number; full: boolean }> {
    const { store, queue, maxConcurrentMasters } = this.options;
    const active = { count: queue.countActive() };
    const awaiting = { count: queue.countAwaitingNodes() };
    const lookAhead = this.options.lookAhead ?? Infinity;
    const ctx: PassContext = { active, awaiting, partitions: undefined };
    let limited = 0;
    for (const entry of head) {
      if (active.count >= maxConcurrentMasters) {
        if (entry.reason !== 'MaxMastersLimit') store.setReason(entry.id, 'MaxMastersLimit', ACTOR);
        continue;
      }
      if (awaiting.count >= lookAhead) {
        // the backend holds as many as it may: the rest wait behind them, in GRM's order
        if (entry.reason !== 'Priority') store.setReason(entry.id, 'Priority', ACTOR);
        continue;
      }
      let job: JobRecord | undefined = store.get(entry.id);
      while (job) {
        if (active.count >= maxConcurrentMasters) {
          store.setReason(job.id, 'MaxMastersLimit', ACTOR);
          break;
        }
        if (awaiting.count >= lookAhead) {
          if (job.reason !== 'Priority') store.setReason(job.id, 'Priority', ACTOR);
          break;
        }
        // over a limit of its user, account or QOS: it waits, and is skipped, not a wall
        const limit = this.options.policy?.runLimit(job) ?? null;
        if (limit !== null) {
          if (job.reason !== limit) store.setReason(job.id, limit, ACTOR);
          limited++;
          break;
        }
        const task = this.nextTask(job);
        if (!task) break;
        if ((await this.send(task, ctx)) === 'unavailable') {
          this.markUnavailable(head);
          return { retryAt: this.options.clock.now() + (this.options.retryDelayMs ?? 2000), limited, full: true };
        }
        // an array's record with tasks left stays at the head: its next task goes next
        job = task.id === job.id ? undefined : store.get(job.id);
        if (job && (job.state !== 'PENDING' || job.arrayTasks === null)) job = undefined;
      }
    }
    // no slot or look-ahead left: nothing after this page could be sent either
    return { retryAt: Infinity, limited, full: active.count >= maxConcurrentMasters || awaiting.count >= lookAhead };
  }

  /** The job itself, or an array's next task (split off), or none when its % limit is reached. */
  private nextTask(job: JobRecord): JobRecord | undefined {
    const { store, queue } = this.options;
    if (job.state !== 'PENDING') return undefined;
    if (job.arrayTasks === null) return job;
    if (job.arrayMaxRunning !== null && queue.countActiveTasks(job.id) >= job.arrayMaxRunning) {
      store.setReason(job.id, 'JobArrayTaskLimit', ACTOR);
      return undefined;
    }
    const { index, rest } = takeFirstIndex(job.arrayTasks);
    return store.takeArrayTask(job.id, index, rest, ACTOR);
  }

  /** Hands one job to the backend; the state change is written before the backend is asked. */
  private async send(job: JobRecord, ctx: PassContext): Promise<'sent' | 'failed' | 'unavailable'> {
    const { store, backend, clock } = this.options;
    try {
      ctx.partitions ??= await backend.partitions();
    } catch (e) {
      this.report(e, 'backend partitions');
      return 'unavailable';
    }
    // A crash after this line leaves an ALLOCATING job that reconciliation matches with the
    // backend by its GRM id.
    store.transition(job.id, 'PENDING', 'ALLOCATING', 'sent to backend', ACTOR, { reason: 'None' });
    ctx.active.count++;
    ctx.awaiting.count++;
    try {
      const partition = choosePartition(job.partition || undefined, ctx.partitions);
      // Submitted while the backend was unreachable: the partition is known only now.
      if (!job.partition) store.patch(job.id, { partition: partition.name });
      const request = { ...toResourceRequest(job.id, job.user, job.description, partition, job.submitTime), priority: job.priority };
      const backendId = await backend.allocate(request);
      const current = store.get(job.id);
      if (current && !current.backendId && !isTerminal(current.state)) store.patch(job.id, { backendId });
      return 'sent';
    } catch (e) {
      ctx.active.count--;
      ctx.awaiting.count--;
      if (isGrmError(e) && e.code === 'E_BACKEND_UNAVAILABLE') {
        store.transition(job.id, 'ALLOCATING', 'PENDING', `backend unavailable: ${e.message}`, ACTOR, { reason: 'BackendUnavailable' });
        return 'unavailable';
      }
      const message = e instanceof Error ? e.message : String(e);
      store.transition(job.id, 'ALLOCATING', 'FAILED', `backend refused the job: ${message}`, ACTOR, { endTime: clock.now() });
      return 'failed';
    }
  }

  /** Jobs whose begin time has come leave BeginTime (for their dependency, or the queue). */
  private releaseDueBeginTimes(now: number): boolean {
    const { store, queue } = this.options;
    const due = queue.dueBeginTimes(now, BEGIN_BATCH);
    for (const job of due) {
      store.setBlocked(job.id, this.eligibility.dependencyBlocker(job), ACTOR, 'begin time reached');
    }
    return due.length === BEGIN_BATCH;
  }

  /** Re-evaluates only the jobs that wait on a job whose state changed since the last pass. */
  private recheckDependents(): void {
    const { store, queue } = this.options;
    if (this.changed.size === 0) return;
    const changed = [...this.changed];
    this.changed.clear();
    const waiting = new Set(queue.dependentsOf(changed));
    for (const key of this.singletonsFreed) for (const id of queue.singletonWaiters(key.user, key.name)) waiting.add(id);
    this.singletonsFreed = [];
    for (const id of waiting) {
      const job = store.get(id);
      if (!job || job.state !== 'PENDING' || job.blocked !== 'Dependency') continue;
      const blocker = this.eligibility.dependencyBlocker(job);
      if (blocker !== 'Dependency') store.setBlocked(id, blocker, ACTOR, blocker ? undefined : 'dependency satisfied');
    }
  }

  /** A state change of a job may free the jobs that depend on it. */
  private noteChange(jobId: number, from: JobState | null, to: JobState): void {
    this.changed.add(jobId);
    if (to !== 'ALLOCATING') this.stopper.waitEnded(jobId);
    if (from !== null && isActive(from) && !isActive(to)) {
      const job = this.options.store.get(jobId);
      if (job) this.singletonsFreed.push({ user: job.user, name: job.name });
    }
    this.wake();
  }

  /** After a restart: re-index and re-check every job waiting on a dependency (once). */
  private recheckAllDependencies(): void {
    const { store, queue } = this.options;
    for (const id of queue.blockedIds('Dependency')) {
      const job = store.require(id);
      queue.setDependsOn(id, dependencyJobIds(job.dependency ?? ''));
      const blocker = this.eligibility.dependencyBlocker(job);
      if (blocker !== 'Dependency') store.setBlocked(id, blocker, ACTOR);
    }
  }

  private markUnavailable(jobs: QueueEntry[]): void {
    for (const job of jobs) if (this.options.store.get(job.id)?.state === 'PENDING') this.options.store.setReason(job.id, 'BackendUnavailable', ACTOR);
  }

  private scheduleTimer(at: number): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (!Number.isFinite(at) || this.stopped) return;
    this.timer = this.options.clock.setTimer(at, () => this.wake());
  }

  private async handleBackendEvent(event: BackendEvent): Promise<void> {
    const { store, runner } = this.options;
    switch (event.type) {
      case 'granted':
        await runner.onGranted(event);
        break;
      case 'pending': {
        const job = store.get(event.jobId);
        if (job?.state === 'ALLOCATING') store.setReason(job.id, event.reason, 'backend');
        if (job?.state === 'ALLOCATING' && event.reason === 'Resources') await this.stopper.preemptFor(job);
        break;
      }
      case 'ended':
        await runner.onBackendEnded(event);
        break;
    }
    this.wake();
  }

  private report(error: unknown, context: string): void {
    if (this.options.onError) this.options.onError(error, context);
    else console.error(`dispatcher: ${context}:`, error);
  }
}
