/**
 * The dispatcher takes PENDING jobs to the backend in priority order, within the GRM's own
 * policy (begin time, dependencies, max concurrent masters), and routes the backend's
 * events (granted, pending reason, ended) to the job runner. It runs on events — submit,
 * grant, master exit — coalesced into one pass, plus a timer for begin times and retries.
 */
import type { BackendEvent, PartitionInfo, ResourceBackend } from '../backends/resource-backend.js';
import { GrmError, isGrmError } from '../errors.js';
import type { JobStore } from '../store/job-store.js';
import { evaluateDependency } from './dependency.js';
import type { JobLifecycle } from './job-service.js';
import { isActive, isTerminal } from './job-state.js';
import type { JobRecord, PendingReason } from './job-types.js';
import { choosePartition, toResourceRequest } from './resource-request.js';

/** What the dispatcher needs of the part that runs masters. */
export interface JobRunnerPort {
  onGranted(event: Extract<BackendEvent, { type: 'granted' }>): Promise<void>;
  onBackendEnded(event: Extract<BackendEvent, { type: 'ended' }>): Promise<void>;
  /** Stops the master of a job whose end intent is already written. */
  stopMaster(jobId: number): Promise<boolean>;
}

export interface DispatcherOptions {
  store: JobStore;
  backend: ResourceBackend;
  runner: JobRunnerPort;
  maxConcurrentMasters: number;
  /** Delay before asking an unavailable backend again. */
  retryDelayMs?: number;
  onError?: (error: unknown, context: string) => void;
}

const ACTOR = 'dispatcher';

export class Dispatcher implements JobLifecycle {
  private scheduled = false;
  private passing = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];
  /** Jobs held by --begin, until when: a pass skips them without re-reading their request. */
  private readonly heldUntil = new Map<number, number>();

  constructor(private readonly options: DispatcherOptions) {}

  start(): void {
    this.options.backend.onEvent((event) => {
      this.handleBackendEvent(event).catch((e) => this.report(e, `backend event ${event.type} for job ${event.jobId}`));
    });
    this.wake();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Asks for a dispatch pass soon; many wakes in one tick make one pass. */
  wake(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.pass();
    });
  }

  /** Resolves when no pass is running or scheduled (tests, shutdown). */
  idle(): Promise<void> {
    if (!this.scheduled && !this.passing) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async cancel(job: JobRecord, actor: string): Promise<JobRecord> {
    const { store, backend, runner } = this.options;
    if (isTerminal(job.state)) {
      throw new GrmError('E_JOB_STATE', `Job/step already completing or completed (${job.state})`, {
        field: 'id',
      });
    }
    if (job.state === 'PENDING') {
      return store.transition(job.id, 'PENDING', 'CANCELLED', `cancelled by ${actor}`, actor, { endTime: Date.now() });
    }
    if (job.state === 'COMPLETING') return job;
    // The decision is written first; whoever acts next (runner, grant, exit) honours it.
    store.patch(job.id, { endIntent: 'CANCELLED' });
    store.addEvent(job.id, `cancel requested by ${actor}`, actor);
    if (await runner.stopMaster(job.id)) return store.require(job.id);
    const current = store.require(job.id);
    if (current.state === 'ALLOCATING') {
      if (current.backendId) await backend.release(current.backendId);
      store.markReleased(job.id);
      try {
        return store.transition(job.id, 'ALLOCATING', 'CANCELLED', `cancelled by ${actor}`, actor, { endTime: Date.now() });
      } catch (e) {
        if (!(isGrmError(e) && e.code === 'E_JOB_STATE')) throw e;
      }
    }
    return store.require(job.id);
  }

  private async pass(): Promise<void> {
    if (this.passing) {
      this.again = true;
      return;
    }
    this.passing = true;
    try {
      await this.dispatchPending();
    } catch (e) {
      this.report(e, 'dispatch pass');
    } finally {
      this.passing = false;
      if (this.again) {
        this.again = false;
        this.wake();
      } else if (!this.scheduled) {
        this.idleWaiters.splice(0).forEach((r) => r());
      }
    }
  }

  private async dispatchPending(): Promise<void> {
    const { store, backend, maxConcurrentMasters } = this.options;
    const pending = store.inStates(['PENDING']);
    const pendingIds = new Set(pending.map((j) => j.id));
    for (const id of this.heldUntil.keys()) if (!pendingIds.has(id)) this.heldUntil.delete(id);
    if (pending.length === 0) return;
    let active = store.countInStates(['ALLOCATING', 'RUNNING', 'COMPLETING']);
    let partitions: PartitionInfo[] | undefined;
    let nextWakeAt = Infinity;
    for (const job of pending) {
      const now = Date.now();
      const heldUntil = this.heldUntil.get(job.id);
      if (heldUntil !== undefined && heldUntil > now) {
        nextWakeAt = Math.min(nextWakeAt, heldUntil);
        continue;
      }
      this.heldUntil.delete(job.id);
      const blocker = this.blocker(job, now);
      if (blocker) {
        store.setReason(job.id, blocker.reason, ACTOR);
        if (blocker.retryAt) {
          this.heldUntil.set(job.id, blocker.retryAt);
          nextWakeAt = Math.min(nextWakeAt, blocker.retryAt);
        }
        continue;
      }
      if (active >= maxConcurrentMasters) {
        store.setReason(job.id, 'MaxMastersLimit', ACTOR);
        continue;
      }
      try {
        partitions ??= await backend.partitions();
      } catch (e) {
        this.markUnavailable(pending, e);
        nextWakeAt = Math.min(nextWakeAt, now + (this.options.retryDelayMs ?? 2000));
        break;
      }
      // Written before the backend is asked: a crash now leaves an ALLOCATING job that
      // reconciliation matches with the backend by its GRM id.
      store.transition(job.id, 'PENDING', 'ALLOCATING', 'sent to backend', ACTOR, { reason: 'None' });
      active++;
      try {
        const partition = choosePartition(job.partition || undefined, partitions);
        // Submitted while the backend was unreachable: the partition is known only now.
        if (!job.partition) store.patch(job.id, { partition: partition.name });
        const request = toResourceRequest(job.id, job.user, job.description, partition, job.submitTime);
        const backendId = await backend.allocate(request);
        const current = store.get(job.id);
        if (current && !current.backendId && !isTerminal(current.state)) store.patch(job.id, { backendId });
      } catch (e) {
        active--;
        if (isGrmError(e) && e.code === 'E_BACKEND_UNAVAILABLE') {
          store.transition(job.id, 'ALLOCATING', 'PENDING', `backend unavailable: ${e.message}`, ACTOR, { reason: 'BackendUnavailable' });
          nextWakeAt = Math.min(nextWakeAt, now + (this.options.retryDelayMs ?? 2000));
          break;
        }
        const message = e instanceof Error ? e.message : String(e);
        store.transition(job.id, 'ALLOCATING', 'FAILED', `backend refused the job: ${message}`, ACTOR, { endTime: Date.now() });
      }
    }
    this.scheduleTimer(nextWakeAt);
  }

  /** The GRM's own reasons to hold a job back, before the backend sees it. */
  private blocker(job: JobRecord, now: number): { reason: PendingReason; retryAt?: number } | undefined {
    const { store } = this.options;
    const begin = job.description.begin_time ? Date.parse(job.description.begin_time) : NaN;
    if (begin > now) return { reason: 'BeginTime', retryAt: begin };
    const spec = job.description.dependency;
    if (spec) {
      const status = evaluateDependency(spec, {
        stateOf: (id) => store.get(id)?.state,
        singletonBusy: store
          .list({ user: job.user, states: ['ALLOCATING', 'RUNNING', 'COMPLETING'] })
          .jobs.some((other) => other.name === job.name && other.id !== job.id && isActive(other.state)),
      });
      if (status === 'waiting') return { reason: 'Dependency' };
      if (status === 'never') return { reason: 'DependencyNeverSatisfied' };
    }
    return undefined;
  }

  private markUnavailable(jobs: JobRecord[], error: unknown): void {
    this.report(error, 'backend partitions');
    for (const job of jobs) this.options.store.setReason(job.id, 'BackendUnavailable', ACTOR);
  }

  private scheduleTimer(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!Number.isFinite(at) || this.stopped) return;
    this.timer = setTimeout(() => this.wake(), Math.max(0, Math.min(at - Date.now(), 2 ** 31 - 1)));
    this.timer.unref();
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
