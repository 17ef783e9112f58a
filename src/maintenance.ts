/**
 * The daemon's periodic work on node-cron: reconciliation (backend vs store) and retention.
 * Both are plain methods too, so tests and operators can run them on demand.
 */
import path from 'node:path';
import cron, { type ScheduledTask } from 'node-cron';
import type { ResourceBackend } from './backends/resource-backend.js';
import { Reconciler, type ReconcileReport, type RunnerView } from './jobs/reconciler.js';
import { runRetention, type RetentionPolicy, type RetentionReport } from './logs/retention.js';
import type { Db } from './store/database.js';
import type { JobStore } from './store/job-store.js';

export interface MaintenanceOptions {
  db: Db;
  store: JobStore;
  backend: ResourceBackend;
  runner: RunnerView;
  dataDir: string;
  retention: RetentionPolicy;
  onReport: (what: string, report: unknown) => void;
  onError: (error: unknown, context: string) => void;
}

export class Maintenance {
  private readonly reconciler: Reconciler;
  private tasks: ScheduledTask[] = [];
  private reconciling: Promise<ReconcileReport> | undefined;

  constructor(private readonly o: MaintenanceOptions) {
    this.reconciler = new Reconciler(o.store, o.backend, o.runner);
  }

  recoverAfterRestart(): Promise<ReconcileReport> {
    return this.reconciler.recoverAfterRestart();
  }

  /** One reconciliation at a time; a call during one shares its result. */
  reconcile(): Promise<ReconcileReport> {
    this.reconciling ??= this.reconciler.reconcile().finally(() => (this.reconciling = undefined));
    return this.reconciling;
  }

  retention(now = Date.now()): RetentionReport {
    return runRetention(this.o.db, path.join(this.o.dataDir, 'jobs'), this.o.retention, now);
  }

  schedule(reconcileCron: string, retentionCron: string): void {
    this.tasks.push(
      cron.schedule(reconcileCron, () => {
        this.reconcile().then(
          (r) => (r.releasedOrphans.length || r.ended.length) && this.o.onReport('reconcile', r),
          (e) => this.o.onError(e, 'reconcile'),
        );
      }),
      cron.schedule(retentionCron, () => {
        try {
          const r = this.retention();
          if (r.jobs.length) this.o.onReport('retention', r);
        } catch (e) {
          this.o.onError(e, 'retention');
        }
      }),
    );
  }

  stop(): void {
    for (const t of this.tasks) void t.stop();
    this.tasks = [];
  }
}
