/**
 * What users can do with jobs: submit, cancel, look. Submissions are checked against the
 * backend's partitions and limits before anything is stored, so a job that could never run
 * is refused at once with SLURM's reason, as sbatch does.
 */
import type { ResourceBackend } from '../backends/resource-backend.js';
import { GrmError, isGrmError } from '../errors.js';
import type { JobFilter, JobStore } from '../store/job-store.js';
import { dependencyJobIds } from './dependency.js';
import type { JobDescription, JobRecord } from './job-types.js';
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
}

export class JobService {
  constructor(
    private readonly store: JobStore,
    private readonly backend: ResourceBackend,
    private readonly lifecycle: JobLifecycle,
  ) {}

  async submit(body: JobDescription, user: string): Promise<SubmitResult> {
    const script = body.script;
    if (typeof script !== 'string' || script.length === 0) {
      throw new GrmError('E_SCRIPT_INVALID', 'script is required: the batch script text, starting with a #! line', {
        field: 'script',
      });
    }
    // Directives in the script apply unless the request itself sets the option, as in sbatch.
    const fromScript = parseScriptDirectives(script);
    const { script: _s, environment: _e, argv: _a, ...requestOptions } = body;
    const description = mergeDescriptions(fromScript.description, requestOptions);
    const submitTime = Date.now();
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
    if (description.dependency) {
      for (const id of dependencyJobIds(description.dependency)) {
        if (!this.store.get(id)) {
          throw new GrmError('E_REQUEST_INVALID', `Job dependency problem: job ${id} does not exist`, { field: 'dependency' });
        }
      }
    }
    const job = this.store.insert(
      {
        name: description.name ?? 'sbatch',
        user,
        partition: partitionName,
        description: partitionName ? { ...description, partition: partitionName } : description,
        script,
        argv: body.argv ?? [],
        runtime: description.runtime ?? 'command',
        environment: body.environment ?? {},
        timeLimitMinutes: timeLimit,
        nice: description.nice ?? 0,
        submitTime,
      },
      `user:${user}`,
    );
    this.lifecycle.wake();
    return { job, warnings: [...new Set([...warnings, ...recordedOnlyWarnings(description, this.backend.kind)])] };
  }

  get(id: number): JobRecord {
    return this.store.require(id);
  }

  list(filter: JobFilter): { jobs: JobRecord[]; total: number } {
    return this.store.list(filter);
  }

  events(id: number) {
    this.store.require(id);
    return this.store.events(id);
  }

  allocation(id: number) {
    return this.store.allocation(id);
  }

  async cancel(id: number, user: string): Promise<JobRecord> {
    const job = this.store.require(id);
    return this.lifecycle.cancel(job, `user:${user}`);
  }
}
