/**
 * From granted nodes to an ended job: writes the COMPSs files for exactly those nodes,
 * starts the isolated master (as its user's account when the daemon is root, see
 * src/runtime/run-as.ts), follows its output, and when it exits releases the nodes,
 * drains the last lines and records how the job ended. Each state change is written before
 * the step it announces.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Allocation, BackendEvent, ResourceBackend } from '../backends/resource-backend.js';
import type { CompssConfig } from '../compss/compss-config.js';
import { pickPortRange, type PortRange } from '../compss/ports.js';
import { isGrmError } from '../errors.js';
import { SPEC_FILE, readMasterRecord } from '../runtime/master-files.js';
import { launchMaster, reattachMaster, type ExitStatus, type MasterHandle } from '../runtime/master-launcher.js';
import { NO_MAPPING, daemonUid, masterIdentity } from '../runtime/run-as.js';
import { DEFAULT_OUTPUT_DEVICES } from '../runtime/safe-files.js';
import type { JobStore } from '../store/job-store.js';
import type { JobRunnerPort } from './dispatcher.js';
import { exitState } from './job-state.js';
import { backendEndIntent, endRun, type RequeuePolicy } from './run-end.js';
import { untilStored, type Refusals } from './until-stored.js';
import type { JobRecord } from './job-types.js';
import { DirectoryFollower } from '../logs/dir-follower.js';
import { TASK_SOURCE_PREFIX } from '../logs/srun-label.js';
import { prepareMaster } from './master-launch.js';
import { TASK_OUTPUT_DIR } from './job-folder.js';
import { OutputPolicy, jobDirOf, outputFilesOf, type OutputFile } from './output-policy.js';

export { jobDirOf } from './output-policy.js';

export interface OutputWatch {
  stop(options: { drain: boolean }): Promise<void>;
}

/** What the runner needs from log aggregation. */
export interface JobOutputPort {
  /**
   * Follows these files (from the stored offsets) until stopped. `owner`: the uid the files
   * must belong to, when the job runs as another account than the daemon's.
   */
  watch(jobId: number, files: { source: string; path: string }[], options?: { owner?: number }): OutputWatch;
}

export interface JobRunnerOptions {
  store: JobStore;
  backend: ResourceBackend;
  output: JobOutputPort;
  dataDir: string;
  killGraceMs: number;
  envAllowList: string[];
  daemonEnv: NodeJS.ProcessEnv;
  compss: Partial<CompssConfig> & { runcompss: string };
  /** Host name the COMPSs workers reach the master at. */
  masterHost: string;
  /** SLURM_* client settings (SLURM_CONF) the master needs to reach its allocation. */
  slurmEnv: Record<string, string>;
  /** How often a COMPSs job's log folder is scanned for new files. */
  logScanIntervalMs: number;
  onError: (error: unknown, context: string) => void;
  /** Who masters run as and where their paths may go; default: the daemon's account, no roots. */
  paths?: OutputPolicy;
  /** Character devices an output may be (runtime.outputDevices); default /dev/null. */
  outputDevices?: readonly string[];
  /** Jobs whose nodes fail go back to the queue (runtime.jobRequeue, maxBatchRequeue); default never. */
  requeue?: RequeuePolicy;
}

const NO_REQUEUE: RequeuePolicy = { byDefault: false, maxRestarts: 0 };

interface RunningMaster {
  handle: MasterHandle;
  watch: OutputWatch;
  finished: Promise<void>;
}

/** How long a restarted daemon waits for a supervisor that an earlier one was still launching. */
const LAUNCH_WAIT_MS = 30_000;

export class JobRunner implements JobRunnerPort {
  private readonly masters = new Map<number, RunningMaster>();
  /** Set when the daemon stops: masters go on without it; a later daemon reattaches them. */
  private detached = false;
  /** Jobs between "RUNNING written" and "master supervised": reconciliation leaves them alone. */
  private readonly starting = new Set<number>();
  /** COMPSs port blocks of the jobs this daemon started, so concurrent jobs never share one. */
  private readonly ports = new Map<number, PortRange>();

  private readonly paths: OutputPolicy;
  private readonly outputDevices: readonly string[];

  constructor(private readonly o: JobRunnerOptions) {
    const identity = (user: string) => masterIdentity(user, { daemonUid: daemonUid(), runAsUser: false, resolve: NO_MAPPING });
    this.paths = o.paths ?? new OutputPolicy({ dataDir: o.dataDir, roots: [], identity });
    this.outputDevices = o.outputDevices ?? DEFAULT_OUTPUT_DEVICES;
  }

  async onGranted(event: Extract<BackendEvent, { type: 'granted' }>): Promise<void> {
    const { store, backend } = this.o;
    const { allocation } = event;
    const job = store.get(event.jobId);
    // A grant for a job that is gone, no longer waits for nodes (ended, or requeued), or
    // waits for another allocation (asked for again meanwhile): nobody will use these nodes,
    // and the job's record keeps what it had (no nodes shown for a job that never got them).
    const ours = job?.backendId === null || job?.backendId === allocation.backendId || job?.backendId === event.replaces;
    if (!job || job.state !== 'ALLOCATING' || !ours) {
      await backend.release(allocation.backendId, event.jobId);
      if (job) store.addEvent(job.id, `released ${allocation.nodeList} (${backend.kind} ${allocation.backendId}): granted after the job stopped waiting for it`, 'backend');
      return;
    }
    store.saveAllocation(job.id, backend.kind, allocation);
    store.patch(job.id, { backendId: allocation.backendId, nodeList: allocation.nodeList, numNodes: allocation.nodes.length });
    store.addEvent(job.id, `allocated ${allocation.nodeList} (${backend.kind} ${allocation.backendId})`, 'backend');
    const current = store.require(job.id);
    if (current.endIntent) {
      // Cancelled (or requeued) while waiting for nodes: give them straight back.
      await this.release(current);
      if (store.require(job.id).state === 'ALLOCATING') {
        endRun(store, job.id, 'ALLOCATING', { otherwise: 'CANCELLED', why: 'ended before its master started', actor: 'dispatcher' });
      }
      return;
    }
    await this.startMaster(current, allocation);
  }

  private async startMaster(job: JobRecord, allocation: Allocation): Promise<void> {
    const { store } = this.o;
    const jobDir = jobDirOf(this.o.dataDir, job.id);
    let running: JobRecord | undefined;
    this.starting.add(job.id);
    try {
      // who it runs as is decided again now: the user's mapping may have changed since submit
      const identity = this.paths.identity(job.user);
      if (identity.kind === 'refused') throw new Error(identity.reason);
      if (job.runtime === 'compss') {
        // COMPSs starts its workers over the network: a node that does not answer would
        // leave the master hanging, so the job fails now, naming the node.
        const silent = await this.o.backend.preflight(allocation);
        if (silent.length > 0) {
          throw new Error(`pre-flight: ${silent.map((s) => `node ${s.node} did not answer (${s.reason.split('\n')[0]})`).join('; ')}`);
        }
        store.addEvent(job.id, `pre-flight: ${allocation.nodes.length} node(s) answered`, 'dispatcher');
      }
      const ports = pickPortRange(job.id, this.o.compss, this.ports.values());
      this.ports.set(job.id, ports);
      const prepared = await prepareMaster(job, allocation, { jobDir, identity, ports, paths: this.paths, outputDevices: this.outputDevices, ...this.o });
      // Written before the launch: a crash right after finds a RUNNING job to reattach or fail.
      running = store.transition(job.id, 'ALLOCATING', 'RUNNING', 'master starting', 'dispatcher', {
        startTime: this.o.store.now(),
        commandLine: [prepared.command, ...prepared.args],
      });
      const handle = await launchMaster({ jobId: job.id, jobDir, ...prepared });
      // The daemon stopped while the master was starting (its store may be closed already):
      // let go of the supervisor, as detach() does for the others; the next daemon reattaches
      // it from master.json. Holding it would keep this process alive through its IPC channel.
      if (this.detached) return handle.release();
      const as = prepared.runAs ? `, uid ${prepared.runAs.uid} gid ${prepared.runAs.gid}` : '';
      store.addEvent(job.id, `master started (pid ${handle.pid ?? '-'}, process group ${handle.pgid}${as})`, 'master');
      this.follow(running, handle, prepared.files);
      // A cancel that came while the master was starting found nothing to stop: honour it now.
      if (store.require(job.id).endIntent) await this.stopMaster(job.id);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.o.onError(e, `starting the master of job ${job.id}`);
      this.ports.delete(job.id);
      const from = running ? 'RUNNING' : 'ALLOCATING';
      store.transition(job.id, from, 'COMPLETING', `master could not start: ${message}`, 'dispatcher', { endIntent: 'FAILED' });
      await this.release(store.require(job.id));
      const reason = message.startsWith('pre-flight:') ? message.slice(0, 300) : 'MasterStartFailed';
      store.transition(job.id, 'COMPLETING', 'FAILED', `master could not start: ${message}`, 'dispatcher', { endTime: this.o.store.now(), reason });
    } finally {
      this.starting.delete(job.id);
    }
  }

  private follow(job: JobRecord, handle: MasterHandle, files: OutputFile[]): void {
    // A launch that finishes after the daemon began stopping: the next daemon reattaches it.
    if (this.detached) return handle.release();
    const watch = this.followOutput(job, files, handle.runAsUid);
    const finished = handle.exited
      .then((status) =>
        untilStored((refusals) => this.onMasterExit(job.id, status, refusals), {
          stopped: () => this.detached,
          onRefused: (e, ms) => this.o.onError(e, `finishing job ${job.id}: the store cannot be written; trying again in ${ms / 1000} s`),
        }).then(() => undefined),
      )
      .catch((e) => this.o.onError(e, `finishing job ${job.id}`))
      .finally(() => {
        this.masters.delete(job.id);
        this.ports.delete(job.id);
      });
    this.masters.set(job.id, { handle, watch, finished });
  }

  /**
   * The master's stdout/stderr, every per-task file under tasks/ (srun -o "%t"), and for
   * COMPSs jobs every file COMPSs writes under the job's log folder: each its own source,
   * found as it appears.
   */
  private followOutput(job: JobRecord, files: OutputFile[], owner: number | null): OutputWatch {
    // files the job writes are read only if its account owns them (see src/runtime/safe-files.ts)
    const options = owner === null ? {} : { owner };
    // an allowed device (-o /dev/null) has nothing to follow
    const tailed = files.filter((f) => !this.outputDevices.includes(f.path));
    const watches: OutputWatch[] = [this.o.output.watch(job.id, tailed, options)];
    const jobDir = jobDirOf(this.o.dataDir, job.id);
    const folders: [string, string][] = [[TASK_OUTPUT_DIR, TASK_SOURCE_PREFIX]];
    if (job.runtime === 'compss') folders.push(['compss', 'compss']);
    const followers = folders.map(([dir, prefix]) =>
      new DirectoryFollower({
        dir: path.join(jobDir, dir),
        prefix,
        intervalMs: this.o.logScanIntervalMs,
        onFile: (source, file) => watches.push(this.o.output.watch(job.id, [{ source, path: file }], options)),
      }).start(),
    );
    return {
      async stop(options) {
        for (const f of followers) f.stop();
        await Promise.all(watches.map((w) => w.stop(options)));
      },
    };
  }

  /** Safe to run again after the store refused a write (until-stored.ts): it goes on from where that one stopped. */
  private async onMasterExit(jobId: number, status: ExitStatus, refusals?: Refusals): Promise<void> {
    const { store } = this.o;
    const job = store.require(jobId);
    // no exit code and no signal: the supervisor was lost, so how the master ended is unknown
    const how = status.signal ? `killed by ${status.signal}` : status.exitCode === null ? 'exit status unknown' : `exit code ${status.exitCode}`;
    if (job.state === 'RUNNING') {
      const late = refusals?.count ? `; it ended at ${status.endedAt}, written late: the store refused it ${refusals.count === 1 ? 'once' : `${refusals.count} times`} (${(refusals.first as Error).message})` : '';
      store.transition(jobId, 'RUNNING', 'COMPLETING', `master ended: ${how}${status.reason ? ` (${status.reason})` : ''}${late}`, 'master', {
        exitCode: status.exitCode,
        exitSignal: status.signal,
      });
    }
    await this.masters.get(jobId)?.watch.stop({ drain: true });
    await this.release(job);
    endRun(store, jobId, 'COMPLETING', {
      otherwise: exitState(status.exitCode, status.signal),
      why: 'job ended $END',
      actor: 'dispatcher',
      failReason: status.startFailed ? 'MasterStartFailed' : status.signal ? `Signal ${status.signal}` : status.exitCode === null ? 'MasterLost' : 'NonZeroExitCode',
    });
  }

  async onBackendEnded(event: Extract<BackendEvent, { type: 'ended' }>): Promise<void> {
    const { store } = this.o;
    const job = store.get(event.jobId);
    if (!job || job.backendId !== event.backendId) return;
    if (job.state === 'RUNNING') {
      // Written first: the master's exit, whenever it comes, ends the job this way (or requeues it).
      const decided = job.endIntent ? { intent: job.endIntent, why: '' } : backendEndIntent(job, event.state, this.o.requeue ?? NO_REQUEUE);
      store.patch(job.id, { endIntent: decided.intent });
      store.addEvent(job.id, `backend ended the allocation: ${event.state} (${event.reason})${decided.why ? `; ${decided.why}` : ''}`, 'backend');
      // SIGTERM first, SIGKILL after the grace: a training job can checkpoint
      await this.stopMaster(job.id);
    } else if (job.state === 'ALLOCATING') {
      store.markReleased(job.id);
      const end = event.state === 'TIMEOUT' || event.state === 'COMPLETED' ? 'CANCELLED' : event.state;
      endRun(store, job.id, 'ALLOCATING', { otherwise: end, why: `backend ended the allocation: ${event.reason}`, actor: 'backend' });
    }
  }

  /** SIGTERM to the master's group, SIGKILL after `graceMs` (default runtime.killGraceMs). */
  async stopMaster(jobId: number, graceMs = this.o.killGraceMs): Promise<boolean> {
    const master = this.masters.get(jobId);
    if (!master) return false;
    await master.handle.terminate(graceMs);
    await master.finished;
    return true;
  }

  /** A restarted daemon picks up the masters an earlier one started. */
  recover(): void {
    const { store } = this.o;
    for (const job of store.inStates(['RUNNING'])) {
      this.reattach(job).catch((e) => this.o.onError(e, `reattaching the master of job ${job.id}`));
    }
  }

  private async reattach(job: JobRecord): Promise<void> {
    const { store } = this.o;
    const jobDir = jobDirOf(this.o.dataDir, job.id);
    let handle = reattachMaster(jobDir, { jobId: job.id });
    // The previous daemon stopped while launching: the supervisor may still be starting.
    for (let waited = 0; !handle && fs.existsSync(path.join(jobDir, SPEC_FILE)) && waited < LAUNCH_WAIT_MS; waited += 100) {
      await new Promise((r) => setTimeout(r, 100));
      handle = reattachMaster(jobDir, { jobId: job.id });
    }
    this.starting.add(job.id);
    try {
      if (handle) {
        // Its exit status, if it ended meanwhile, is in exit.json; its output resumes from the stored offsets.
        store.addEvent(job.id, `master reattached after a daemon restart (process group ${handle.pgid})`, 'reconcile');
        this.follow(job, handle, outputFilesOf(job, jobDir, store.allocation(job.id)?.nodes[0]?.name ?? 'localhost'));
        return;
      }
    } finally {
      this.starting.delete(job.id);
    }
    // RUNNING was written but the master never started (a crash in between).
    await this.onMasterExit(job.id, { exitCode: null, signal: null, endedAt: new Date().toISOString(), reason: 'master lost across a daemon restart' });
  }

  /**
   * A job a crash caught COMPLETING: its master had ended, but what it wrote after the last
   * stored line was still to be read. Read from the stored offsets to the end, as
   * onMasterExit's drain would have, before the job ends (the soak lost those lines).
   */
  async drainOutput(job: JobRecord): Promise<void> {
    const jobDir = jobDirOf(this.o.dataDir, job.id);
    const files = outputFilesOf(job, jobDir, this.o.store.allocation(job.id)?.nodes[0]?.name ?? 'localhost');
    await this.followOutput(job, files, readMasterRecord(jobDir, job.id)?.runAsUid ?? null).stop({ drain: true });
  }

  /**
   * Daemon shutdown: stop following the masters without ending them. Their output stays in
   * their files, and the next daemon resumes each tail from the stored offset.
   */
  async detach(): Promise<void> {
    this.detached = true;
    for (const master of this.masters.values()) {
      master.handle.release();
      await master.watch.stop({ drain: false });
    }
    this.masters.clear();
  }

  /** Waits for every master's end to be recorded (shutdown, tests). */
  async settle(): Promise<void> {
    await Promise.all([...this.masters.values()].map((m) => m.finished));
  }

  runningJobIds(): number[] {
    return [...this.masters.keys(), ...this.starting];
  }

  private async release(job: JobRecord): Promise<void> {
    const allocation = this.o.store.allocation(job.id);
    const backendId = allocation?.backendId ?? job.backendId;
    if (!backendId) return;
    try {
      await this.o.backend.release(backendId, job.id);
      this.o.store.markReleased(job.id);
    } catch (e) {
      // Reconciliation retries releases the backend still holds.
      this.o.onError(e, `releasing ${backendId} of job ${job.id}`);
      if (!isGrmError(e)) throw e;
    }
  }

}
