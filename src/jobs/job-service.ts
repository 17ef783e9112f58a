/**
 * What users can do with jobs: submit, cancel, look. Submissions are checked against the
 * backend's partitions and limits before anything is stored, so a job that could never run
 * is refused at once with SLURM's reason, as sbatch does.
 */
import type { QueuePolicy } from './queue-policy.js';
import type { ResourceBackend } from '../backends/resource-backend.js';
import type { Clock } from '../backends/simulator/clock.js';
import { checkCompssApplication, hasApplicationFile } from '../compss/compss-app.js';
import { GrmError, isGrmError } from '../errors.js';
import type { JobFilter } from '../store/job-list.js';
import type { JobStore } from '../store/job-store.js';
import type { QueueStore } from '../store/queue-store.js';
import { arrayOf } from './job-arrays.js';
import { dependencyJobIds } from './dependency.js';
import { compressIndices, expandIndices } from './array-tasks.js';
import { Eligibility, holdReason, isHold } from './eligibility.js';
import { isTerminal } from './job-state.js';
import { givenFields, loweredTimeLimit, updatedDescription, type JobUpdate } from './job-update.js';
import type { JobDescription, JobRecord, JobSummaryRecord } from './job-types.js';
import type { OutputPolicy } from './output-policy.js';
import { choosePartition, effectiveTimeLimit, toResourceRequest } from './resource-request.js';
import { mergeDescriptions, parseScriptDirectives, recordedOnlyWarnings } from '../sbatch/sbatch-options.js';

export interface SubmitResult {
  job: JobRecord;
  warnings: string[];
}

/** What the service needs of the dispatcher: a nudge, and the cancel of a live job. */
export interface JobLifecycle {
  wake(): void;
  cancel(job: JobRecord, actor: string): Promise<JobRecord>;
  /** Back to the queue (held when `hold`), its run stopped first if it has one. */
  requeue(job: JobRecord, actor: string, hold: boolean): Promise<JobRecord>;
}

export interface JobServiceOptions {
  store: JobStore;
  queue: QueueStore;
  backend: ResourceBackend;
  lifecycle: JobLifecycle;
  clock: Clock;
  /** MaxArraySize: array indices must be below it. */
  maxArraySize?: number;
  /** Which account a job is charged to (the users part); refuses an account the user may not charge. */
  accounts?: { charge(user: string, requested: string | undefined): string | undefined };
  /** Whether a user sees every job (an admin); others see only their own, also through --dependency. */
  isAdmin?: (user: string) => boolean;
  /** Who the job would run as, and where its -o/-e/-D may go: refused now rather than at start. */
  paths?: Pick<OutputPolicy, 'checkRequest'>;
  /** The queue policy: refuses what is over a submit limit, gives the job its priority. */
  policy?: Pick<QueuePolicy, 'admitSubmission' | 'actsOnQos'>;
}

export class JobService {
  private readonly store: JobStore;
  private readonly backend: ResourceBackend;
  private readonly lifecycle: JobLifecycle;
  private readonly eligibility: Eligibility;

  constructor(private readonly options: JobServiceOptions) {
    this.store = options.store;
    this.backend = options.backend;
    this.lifecycle = options.lifecycle;
    this.eligibility = new Eligibility(options.queue);
  }

  async submit(body: JobDescription, user: string): Promise<SubmitResult> {
    // a COMPSs Java or C app is named (application), not sent: it has no script
    const named = !hasApplicationFile(body);
    const script = body.script ?? (named ? '' : undefined);
    if (typeof script !== 'string' || (script.length === 0 && !named)) {
      throw new GrmError('E_SCRIPT_INVALID', 'script is required: the batch script text, starting with a #! line', {
        field: 'script',
      });
    }
    // Directives in the script apply unless the request itself sets the option, as in sbatch;
    // a client that applied them already (grm sbatch) is not parsed twice.
    const { script: _s, environment: _e, argv: _a, directives_applied: applied, ...requestOptions } = body;
    const context = { maxArraySize: this.options.maxArraySize ?? 1001 };
    const fromScript =
      applied || named ? { description: {}, warnings: [] } : parseScriptDirectives(script, context, requestOptions.runtime ? { runtime: requestOptions.runtime } : {});
    const asked = mergeDescriptions(fromScript.description, requestOptions);
    checkCompssApplication(body.script === undefined ? asked : { ...asked, script });
    this.options.paths?.checkRequest(asked, user, asked.name ?? 'sbatch');
    // the account asked for, if the user may charge it; none asked, the user's default
    const account = this.options.accounts ? this.options.accounts.charge(user, asked.account) : asked.account;
    const description = account === undefined ? asked : { ...asked, account };
    const submitTime = this.options.clock.now();
    const warnings = [...fromScript.warnings];
    let partitionName = description.partition ?? '';
    let timeLimit: number | null = description.time_limit === undefined || description.time_limit === 'UNLIMITED' ? null : description.time_limit;
    try {
      const partition = choosePartition(description.partition, await this.backend.partitions());
      // Checked before storing: a request that can never run is refused, nothing is written.
      await this.backend.validate(toResourceRequest(0, user, description, partition, submitTime));
      partitionName = partition.name;
      timeLimit = effectiveTimeLimit(description, partition);
    } catch (e) {
      // An unreachable backend does not stop submissions: the job waits (BackendUnavailable)
      // and is checked and sent when the backend answers again.
      if (!(isGrmError(e) && e.code === 'E_BACKEND_UNAVAILABLE')) throw e;
      warnings.push(`the ${this.backend.kind} backend is unreachable (${e.message}); the job is queued and checked when it answers`);
    }
    const dependsOn = this.dependsOn(description.dependency, user);
    const name = description.name ?? 'sbatch';
    const beginTime = description.begin_time ? Date.parse(description.begin_time) : null;
    const dependency = description.dependency ?? null;
    const hold = description.hold ? ('user' as const) : null;
    const blocked = this.eligibility.blocker({ id: 0, user, name, beginTime, dependency, hold }, submitTime);
    const array = description.array ? arrayOf(description.array, this.options.maxArraySize) : undefined;
    const storedDescription = partitionName ? { ...description, partition: partitionName } : description;
    const priority = this.options.policy?.admitSubmission(
      { id: 0, user, partition: partitionName, submitTime, beginTime, timeLimitMinutes: timeLimit, description: storedDescription },
      array?.count ?? 1,
    );
    const job = this.store.insert(
      {
        name,
        user,
        partition: partitionName,
        description: storedDescription,
        script,
        argv: body.argv ?? [],
        runtime: description.runtime ?? 'command',
        environment: body.environment ?? {},
        timeLimitMinutes: timeLimit,
        nice: description.nice ?? 0,
        ...(priority !== undefined ? { priority } : {}),
        submitTime,
        blocked,
        beginTime,
        dependency,
        dependsOn,
        ...(array ? { array } : {}),
      },
      `user:${user}`,
    );
    this.lifecycle.wake();
    // warnings for what was asked: a default account is not the user's option
    const recordedOnly = recordedOnlyWarnings(asked, this.backend.kind).filter((w) => !(this.options.policy?.actsOnQos && w.includes('--qos')));
    return { job, warnings: [...new Set([...warnings, ...recordedOnly])] };
  }

  get(id: number): JobRecord {
    return this.store.require(id);
  }

  list(filter: JobFilter): { jobs: JobSummaryRecord[]; total: number } {
    return this.store.list(filter);
  }

  events(id: number) {
    this.store.require(id);
    return this.store.events(id);
  }

  allocation(id: number) {
    return this.store.allocation(id);
  }

  /**
   * scancel: a job; an array (every task, started or not); or some tasks of an array
   * (`tasks`), a task not started yet being split off the array's record and cancelled.
   */
  async cancel(id: number, user: string, tasks: number[] | null = null): Promise<JobRecord[]> {
    const job = this.store.require(id);
    const actor = `user:${user}`;
    const isArray = job.arrayJobId === job.id;
    if (tasks === null) {
      const targets = isArray ? [job, ...this.store.arrayTasks(id).filter((t) => t.id !== id)] : [job];
      const live = targets.filter((t) => !isTerminal(t.state));
      if (live.length === 0) return [await this.lifecycle.cancel(job, actor)];
      const cancelled: JobRecord[] = [];
      for (const t of live) cancelled.push(await this.lifecycle.cancel(this.store.require(t.id), actor));
      return cancelled;
    }
    if (!isArray) throw new GrmError('E_JOB_NOT_FOUND', `Invalid job id specified: ${id} is not a job array`, { field: 'id' });
    const cancelled: JobRecord[] = [];
    for (const index of tasks) {
      const task = this.taskOf(id, index, actor);
      if (!task) throw new GrmError('E_JOB_NOT_FOUND', `Invalid job id specified: ${id}_${index} (no such task)`, { field: 'id' });
      cancelled.push(await this.lifecycle.cancel(task, actor));
    }
    return cancelled;
  }

  /**
   * scontrol requeue / requeuehold: a job (or every task of an array) that runs or ended goes
   * back to the queue as SLURM does it; refused for pending jobs and for --no-requeue jobs.
   */
  async requeue(id: number, user: string, hold = false): Promise<JobRecord[]> {
    const job = this.store.require(id);
    const targets = job.arrayJobId === job.id ? [job, ...this.store.arrayTasks(id).filter((t) => t.id !== id)] : [job];
    const movable = targets.filter((t) => t.state !== 'PENDING');
    if (movable.length === 0) throw new GrmError('E_JOB_STATE', `Job is pending execution for job ${id}`, { field: 'id' });
    if (job.description.requeue === false) {
      throw new GrmError('E_JOB_STATE', `Requested operation is presently disabled for job ${id} (it was submitted with --no-requeue)`, { field: 'id' });
    }
    const requeued: JobRecord[] = [];
    for (const t of movable) requeued.push(await this.lifecycle.requeue(this.store.require(t.id), `user:${user}`, hold));
    this.lifecycle.wake();
    return requeued;
  }

  /**
   * Holds a pending job (scontrol hold): it stays PENDING, out of the eligible queue. An admin's
   * hold is JobHeldAdmin unless asked for a user hold (uhold); only an admin releases it.
   */
  hold(id: number, user: string, by: 'user' | 'admin' = 'user'): JobRecord {
    const job = this.requirePending(id);
    // an admin hold is not weakened to a user one by the job's owner holding it again
    if (by === 'user' && job.blocked === 'JobHeldAdmin') return job;
    this.store.setBlocked(job.id, holdReason(by), `user:${user}`, `held by ${user}`);
    return this.store.require(id);
  }

  /** Releases a held job: back to what it waits on (begin time, dependency) or the queue. */
  release(id: number, user: string): JobRecord {
    const job = this.requirePending(id);
    if (!isHold(job.blocked)) return job;
    if (job.blocked === 'JobHeldAdmin' && !(this.options.isAdmin?.(user) ?? true)) {
      throw new GrmError('E_PERMISSION_DENIED', `Access/permission denied: job ${id} is held by an admin (JobHeldAdmin); ask an admin to release it`, { field: 'id' });
    }
    const blocker = this.eligibility.blocker(job, this.options.clock.now());
    this.store.setBlocked(job.id, blocker, `user:${user}`, `released by ${user}`);
    this.lifecycle.wake();
    return this.store.require(id);
  }

  /**
   * scontrol update: a pending job's request, checked again as at submit; a running job's
   * time limit, lowered only (then the backend ends it at the new limit).
   */
  async update(id: number, user: string, changes: JobUpdate): Promise<JobRecord> {
    const job = this.store.require(id);
    const actor = `user:${user}`;
    const why = `updated by ${user}: ${givenFields(changes).map((k) => `${k}=${String(changes[k])}`).join(' ')}`;
    if (job.state === 'ALLOCATING' || job.state === 'RUNNING') {
      const minutes = loweredTimeLimit(job, changes);
      const updated = this.store.setTimeLimit(id, minutes, actor, why);
      // written first: a crash here leaves the lower limit stored, applied at the next grant or restore
      if (updated.backendId) await this.backend.setTimeLimit(updated.backendId, minutes);
      return updated;
    }
    if (job.state !== 'PENDING') throw new GrmError('E_JOB_STATE', `Job/step already completing or completed for job ${id} (${job.state})`, { field: 'id' });
    const description = updatedDescription(job, changes);
    // a new name changes what %x in -o/-e expands to
    if (changes.name !== undefined) this.options.paths?.checkRequest(description, job.user, description.name ?? job.name);
    const partition = choosePartition(description.partition, await this.backend.partitions());
    await this.backend.validate(toResourceRequest(id, job.user, description, partition, job.submitTime));
    const dependency = description.dependency ?? null;
    const dependsOn = this.dependsOn(dependency ?? undefined, user);
    if (dependsOn.includes(id)) throw new GrmError('E_REQUEST_INVALID', `Job dependency problem: job ${id} cannot depend on itself`, { field: 'dependency' });
    const name = description.name ?? job.name;
    const beginTime = description.begin_time ? Date.parse(description.begin_time) : null;
    const blocked = isHold(job.blocked) ? job.blocked : this.eligibility.blocker({ id, user: job.user, name, beginTime, dependency }, this.options.clock.now());
    const fields = { name, partition: partition.name, description: { ...description, partition: partition.name } };
    const timeLimitMinutes = effectiveTimeLimit(description, partition);
    const updated = this.store.updatePending(id, { ...fields, timeLimitMinutes, nice: description.nice ?? 0, dependency, dependsOn, beginTime, blocked }, actor, why);
    this.lifecycle.wake();
    return updated;
  }

  /**
   * The jobs a dependency names, each of which must exist and be one the caller may see: another
   * user's job reads as missing, as everywhere else in the API (no existence leak).
   */
  private dependsOn(dependency: string | undefined, caller: string): number[] {
    const ids = dependency ? dependencyJobIds(dependency) : [];
    const seesAll = this.options.isAdmin?.(caller) ?? true;
    for (const id of ids) {
      const job = this.store.get(id);
      if (!job || (!seesAll && job.user !== caller)) throw new GrmError('E_REQUEST_INVALID', `Job dependency problem: job ${id} does not exist`, { field: 'dependency' });
    }
    return ids;
  }

  private requirePending(id: number): JobRecord {
    const job = this.store.require(id);
    if (job.state !== 'PENDING') {
      throw new GrmError('E_JOB_STATE', `Job is no longer pending execution for job ${id} (${job.state})`, { field: 'id' });
    }
    return job;
  }

  /** The row of task `index` of an array, split off the array's record if not started yet. */
  private taskOf(arrayId: number, index: number, actor: string): JobRecord | undefined {
    const started = this.store.arrayTasks(arrayId).find((t) => t.arrayTaskId === index);
    if (started) return started;
    const record = this.store.require(arrayId);
    if (record.arrayTasks === null || record.state !== 'PENDING') return undefined;
    const left = expandIndices(record.arrayTasks);
    if (!left.includes(index)) return undefined;
    return this.store.takeArrayTask(arrayId, index, compressIndices(left.filter((i) => i !== index)), actor);
  }
}
