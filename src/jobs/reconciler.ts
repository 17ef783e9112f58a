/**
 * Backend state vs store: run at start (jobs caught mid-step by a daemon crash) and
 * periodically (allocations the backend holds that no live job owns, jobs whose master is
 * gone). Every correction is an event on the job, so the timeline says what happened.
 */
import type { ResourceBackend } from '../backends/resource-backend.js';
import type { JobStore } from '../store/job-store.js';
import type { JobRecord } from './job-types.js';
import { exitState, isTerminal } from './job-state.js';
import { endRun } from './run-end.js';

const ACTOR = 'reconcile';

export interface ReconcileReport {
  /** backend ids released because no live job owns them */
  releasedOrphans: string[];
  /** jobs put back in the queue */
  requeued: number[];
  /** jobs ended because their master or allocation was gone */
  ended: number[];
}

export interface RunnerView {
  runningJobIds(): number[];
  /** Stores what the job's ended master wrote after the last stored line. */
  drainOutput(job: JobRecord): Promise<void>;
}

export class Reconciler {
  constructor(
    private readonly store: JobStore,
    private readonly backend: ResourceBackend,
    private readonly runner: RunnerView,
  ) {}

  /**
   * After a restart: ALLOCATING jobs go back to PENDING and are asked for again (a backend
   * that still holds their request, as SLURM does, adopts it instead of submitting twice);
   * COMPLETING jobs are finished, once the rest of their output is stored.
   */
  async recoverAfterRestart(): Promise<ReconcileReport> {
    const report: ReconcileReport = { releasedOrphans: [], requeued: [], ended: [] };
    for (const job of this.store.inStates(['ALLOCATING'])) {
      if (job.endIntent) {
        await this.releaseQuietly(job);
        const after = endRun(this.store, job.id, 'ALLOCATING', { otherwise: 'CANCELLED', why: 'ended during a daemon restart', actor: ACTOR });
        (after.state === 'PENDING' ? report.requeued : report.ended).push(job.id);
        continue;
      }
      this.store.transition(job.id, 'ALLOCATING', 'PENDING', 'requeued after a daemon restart', ACTOR, {
        backendId: null,
        nodeList: null,
        numNodes: 0,
        reason: 'None',
      });
      report.requeued.push(job.id);
    }
    for (const job of this.store.inStates(['COMPLETING'])) {
      await this.runner.drainOutput(job);
      await this.releaseQuietly(job);
      const after = endRun(this.store, job.id, 'COMPLETING', { otherwise: exitState(job.exitCode, job.exitSignal), why: 'completed after a daemon restart', actor: ACTOR });
      (after.state === 'PENDING' ? report.requeued : report.ended).push(job.id);
    }
    return report;
  }

  /** Periodic: release allocations nobody owns; end RUNNING jobs that have no master. */
  async reconcile(): Promise<ReconcileReport> {
    const report: ReconcileReport = { releasedOrphans: [], requeued: [], ended: [] };
    for (const held of await this.backend.list()) {
      if (held.state === 'ENDED') continue;
      const job = this.store.get(held.jobId);
      const owned = job && !isTerminal(job.state) && (job.backendId === null || job.backendId === held.backendId);
      if (!owned) {
        await this.backend.release(held.backendId, held.jobId);
        if (job) this.store.addEvent(job.id, `released orphan allocation ${held.backendId}`, ACTOR);
        report.releasedOrphans.push(held.backendId);
      }
    }
    const supervised = new Set(this.runner.runningJobIds());
    for (const job of this.store.inStates(['RUNNING'])) {
      if (supervised.has(job.id)) continue;
      // Re-read: the master may have ended between the two reads.
      const current = this.store.require(job.id);
      if (current.state !== 'RUNNING' || supervised.has(job.id)) continue;
      this.store.transition(job.id, 'RUNNING', 'COMPLETING', 'no master supervises this job', ACTOR, { endIntent: current.endIntent ?? 'FAILED' });
      await this.releaseQuietly(current);
      const after = endRun(this.store, job.id, 'COMPLETING', { otherwise: 'FAILED', why: 'master lost', actor: ACTOR });
      (after.state === 'PENDING' ? report.requeued : report.ended).push(job.id);
    }
    return report;
  }

  private async releaseQuietly(job: JobRecord): Promise<void> {
    const backendId = this.store.allocation(job.id)?.backendId ?? job.backendId;
    if (!backendId) return;
    try {
      await this.backend.release(backendId, job.id);
      this.store.markReleased(job.id);
    } catch (e) {
      this.store.addEvent(job.id, `release of ${backendId} failed: ${(e as Error).message}`, ACTOR);
    }
  }
}
