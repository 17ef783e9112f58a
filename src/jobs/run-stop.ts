/**
 * Stopping a job's run on request: scancel, scontrol requeue, and preemption (a QOS's Preempt=
 * list). Each writes its decision (the end intent) before anything is stopped, so whoever acts
 * next (the runner, a grant, the master's exit) honours it. Apart from dispatcher.ts, which
 * starts runs: the dispatcher hands cancel/requeue here, and the backend's "waits for
 * Resources" events to preemptFor.
 */
import type { ResourceBackend } from '../backends/resource-backend.js';
import type { Clock } from '../backends/simulator/clock.js';
import { GrmError, isGrmError } from '../errors.js';
import type { JobStore } from '../store/job-store.js';
import { holdReason } from './eligibility.js';
import { isRequeue, isTerminal } from './job-state.js';
import type { EndIntent, JobRecord } from './job-types.js';
import type { QueuePolicy } from './queue-policy.js';
import { endRun } from './run-end.js';

/** What stopping a run needs of the part that runs masters. */
export interface MasterStopper {
  /** Stops the master of a job whose end intent is already written (SIGKILL after graceMs). */
  stopMaster(jobId: number, graceMs?: number): Promise<boolean>;
}

export interface RunStopperOptions {
  store: JobStore;
  clock: Clock;
  backend: Pick<ResourceBackend, 'release' | 'nodes'>;
  runner: MasterStopper;
  /** Preemption's rules (victims, who may preempt); absent: no preemption. */
  policy?: Pick<QueuePolicy, 'victimsFor' | 'mayPreempt'> | undefined;
}

export class RunStopper {
  /** Jobs that preempted others for their current wait (not again until they get nodes). */
  private readonly preempting = new Set<number>();

  constructor(private readonly options: RunStopperOptions) {}

  async cancel(job: JobRecord, actor: string): Promise<JobRecord> {
    const { store } = this.options;
    if (isTerminal(job.state)) {
      throw new GrmError('E_JOB_STATE', `Job/step already completing or completed (${job.state})`, {
        field: 'id',
      });
    }
    if (job.state === 'PENDING') {
      return store.transition(job.id, 'PENDING', 'CANCELLED', `cancelled by ${actor}`, actor, { endTime: this.options.clock.now() });
    }
    if (job.state === 'COMPLETING') return job;
    return this.stopRun(job, 'CANCELLED', actor, `cancel requested by ${actor}`);
  }

  /**
   * scontrol requeue: a job that ended goes straight back to the queue; one that holds or
   * awaits nodes is stopped first (its master gets SIGTERM, then its nodes are released),
   * the decision written before anything is stopped.
   */
  async requeue(job: JobRecord, actor: string, hold: boolean): Promise<JobRecord> {
    const { store } = this.options;
    const intent = hold ? 'REQUEUE_HOLD' : 'REQUEUE';
    if (isTerminal(job.state)) {
      return store.requeue(job.id, job.state, hold ? holdReason('user') : null, actor, `requeued by ${actor}${hold ? ' (held)' : ''}`);
    }
    if (job.endIntent && !isRequeue(job.endIntent)) {
      throw new GrmError('E_JOB_STATE', `Job/step already completing or completed for job ${job.id} (ending ${job.endIntent})`, { field: 'id' });
    }
    if (job.state === 'COMPLETING') {
      // its run's last step (endRun) reads this decision when it comes
      store.patch(job.id, { endIntent: intent });
      store.addEvent(job.id, `requeue requested by ${actor}`, actor);
      return store.require(job.id);
    }
    return this.stopRun(job, intent, actor, `requeue requested by ${actor}`);
  }

  /** A job that got nodes (or left ALLOCATING) may preempt again at its next wait. */
  waitEnded(jobId: number): void {
    this.preempting.delete(jobId);
  }

  /**
   * Preemption (a QOS's Preempt= list): a job that waits for nodes may take them from running
   * jobs of the QOSes its own may preempt; the policy picks the fewest, lowest-priority,
   * latest-started ones. Each is told first (its events: "Preempted"; its master SIGTERM, then
   * SIGKILL after its QOS's GraceTime, so a training job can checkpoint), then requeued (keeping
   * its submit time, so its place) or cancelled, as its QOS's PreemptMode says. Once per wait.
   */
  async preemptFor(job: JobRecord): Promise<void> {
    const { store, backend, policy } = this.options;
    // most waits cannot preempt anything: no backend query for them (a pending event comes every poll)
    if (!policy || this.preempting.has(job.id) || !policy.mayPreempt(job)) return;
    const free = (await backend.nodes()).filter((n) => n.state === 'idle' && (!job.partition || n.partitions.includes(job.partition))).length;
    const victims = policy.victimsFor(job, store.inStates(['RUNNING']), free);
    if (victims.length === 0) return;
    this.preempting.add(job.id);
    store.addEvent(job.id, `preempting ${victims.map((v) => `job ${v.id}`).join(', ')} for its nodes`, 'policy');
    await Promise.all(
      victims.map(async (v) => {
        const victim = store.get(v.id);
        if (!victim || victim.state !== 'RUNNING' || victim.endIntent) return;
        const why = `Preempted by job ${job.id} (PreemptMode=${v.mode.toUpperCase()}, GraceTime=${v.graceSeconds}s)`;
        await this.stopRun(victim, v.mode === 'cancel' ? 'CANCELLED' : 'REQUEUE', 'policy', why, v.graceSeconds * 1000);
      }),
    );
  }

  /** Ends the run of a job that holds or awaits nodes as `intent` says (written first). */
  private async stopRun(job: JobRecord, intent: EndIntent, actor: string, why: string, graceMs?: number): Promise<JobRecord> {
    const { store, backend, runner } = this.options;
    // The decision is written first; whoever acts next (runner, grant, exit) honours it.
    store.patch(job.id, { endIntent: intent });
    store.addEvent(job.id, why, actor);
    if (await runner.stopMaster(job.id, graceMs)) return store.require(job.id);
    const current = store.require(job.id);
    if (current.state === 'ALLOCATING') {
      if (current.backendId) await backend.release(current.backendId, job.id);
      store.markReleased(job.id);
      try {
        return endRun(store, job.id, 'ALLOCATING', { otherwise: 'CANCELLED', why: intent === 'CANCELLED' ? `cancelled by ${actor}` : `asked for by ${actor}`, actor });
      } catch (e) {
        if (!(isGrmError(e) && e.code === 'E_JOB_STATE')) throw e;
      }
    }
    return store.require(job.id);
  }
}
