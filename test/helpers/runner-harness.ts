/**
 * A job runner on a real SQLite store (time is a ManualClock) and real masters, for the
 * runner's unit suites: a backend that records what it is asked (and the job's state at each
 * release), an output port that reads the master's files when the runner drains them, and a
 * teardown that ends every master and removes every file, also when a test fails half-way.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import type { Allocation, BackendEvent } from '../../src/backends/resource-backend.js';
import { ManualClock } from '../../src/backends/simulator/clock.js';
import { JobRunner, jobDirOf, type JobOutputPort, type OutputWatch } from '../../src/jobs/job-runner.js';
import type { JobDescription, JobRecord, JobState } from '../../src/jobs/job-types.js';
import { readMasterRecord } from '../../src/runtime/master-files.js';
import { isGroupAlive, signalGroup } from '../../src/runtime/proc.js';
import { openDatabase, type Db } from '../../src/store/database.js';
import { JobStore } from '../../src/store/job-store.js';
import { RecordingBackend } from './recording-backend.js';
import { waitUntil } from './wait.js';


export const T0 = Date.parse('2026-12-01T00:00:00Z');

/** Notes the job's state at each release; can hold a release open until the test lets it go. */
export class ReleaseRecordingBackend extends RecordingBackend {
  readonly releases: { backendId: string; state: JobState | 'gone' }[] = [];
  stateOf: (backendId: string) => JobState | 'gone' = () => 'gone';
  private holding: Promise<void> | undefined;

  /** The next release() waits until the returned function is called. */
  holdNextRelease(): () => void {
    let open!: () => void;
    this.holding = new Promise((resolve) => (open = resolve));
    return open;
  }

  override async release(backendId: string): Promise<void> {
    this.releases.push({ backendId, state: this.stateOf(backendId) });
    const holding = this.holding;
    this.holding = undefined;
    await super.release(backendId);
    if (holding) await holding;
  }
}

interface Watched {
  jobId: number;
  files: { source: string; path: string }[];
  /** Each stop, with the job's state when it came. */
  stops: { drain: boolean; state: JobState }[];
  /** What the draining stops read, as `source: line`. */
  lines: string[];
}

/** The JobOutputPort fake: a draining stop reads each file whole, as a tail drained to its end would deliver it. */
export class RecordingOutput implements JobOutputPort {
  readonly watches: Watched[] = [];
  constructor(private readonly stateOf: (jobId: number) => JobState) {}

  watch(jobId: number, files: { source: string; path: string }[]): OutputWatch {
    const w: Watched = { jobId, files, stops: [], lines: [] };
    this.watches.push(w);
    return {
      stop: async ({ drain }) => {
        w.stops.push({ drain, state: this.stateOf(jobId) });
        if (!drain) return;
        for (const f of files) {
          const text = fs.existsSync(f.path) ? fs.readFileSync(f.path, 'utf8') : '';
          for (const line of text.split('\n').filter((l) => l !== '')) w.lines.push(`${f.source}: ${line}`);
        }
      },
    };
  }
}

export interface Shared {
  dir: string;
  clock: ManualClock;
  /** Stops of every daemon on this data dir, run in reverse at teardown. */
  stops: (() => Promise<void>)[];
}

export interface Harness {
  dir: string;
  dataDir: string;
  clock: ManualClock;
  db: Db;
  store: JobStore;
  backend: ReleaseRecordingBackend;
  output: RecordingOutput;
  runner: JobRunner;
  /** What onError was told, as its context. */
  errors: string[];
  /** A job the dispatcher has sent to the backend: ALLOCATING, backend id b<id>. */
  allocating(script: string, description?: JobDescription): JobRecord;
  granted(jobId: number): Extract<BackendEvent, { type: 'granted' }>;
  grant(jobId: number): Promise<void>;
  jobDir(jobId: number): string;
  /** Daemon shutdown: detach the runner (masters go on), close the database. */
  stop(): Promise<void>;
  /** The next daemon on the same data dir and clock. */
  restart(): Harness;
}

export function harness(t: Test, shared?: Shared): Harness {
  const root = shared ?? { dir: fs.mkdtempSync(path.join(os.tmpdir(), 'grm-runner-')), clock: new ManualClock(T0), stops: [] };
  const { dir, clock } = root;
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const db = openDatabase(path.join(dir, 'grm.sqlite'));
  const store = new JobStore(db, () => clock.now());
  const backend = new ReleaseRecordingBackend();
  backend.stateOf = (backendId) => store.list().jobs.find((j) => store.allocation(j.id)?.backendId === backendId)?.state ?? 'gone';
  const output = new RecordingOutput((id) => store.require(id).state);
  const errors: string[] = [];
  const runner = new JobRunner({
    store,
    backend,
    output,
    dataDir,
    killGraceMs: 10_000,
    envAllowList: ['PATH'],
    daemonEnv: { PATH: '/usr/bin:/bin' },
    compss: { runcompss: '/bin/false' },
    masterHost: 'localhost',
    slurmEnv: {},
    logScanIntervalMs: 200,
    onError: (_e, context) => errors.push(context),
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await runner.detach();
    db.close();
  };
  root.stops.push(stop);
  if (!shared) {
    // Also when the test failed half-way: no daemon follows, no master outlives it, no files stay.
    t.teardown(async () => {
      for (const s of root.stops.reverse()) await s();
      const jobs = path.join(dataDir, 'jobs');
      for (const name of fs.existsSync(jobs) ? fs.readdirSync(jobs) : []) {
        const master = readMasterRecord(path.join(jobs, name));
        if (!master) continue;
        signalGroup(master.pgid, 'SIGKILL');
        await waitUntil(`job ${name}'s processes to end`, () => !isGroupAlive(master.pgid), { timeoutMs: 10_000 });
      }
      fs.rmSync(dir, { recursive: true, force: true });
    });
  }
  const granted = (jobId: number): Extract<BackendEvent, { type: 'granted' }> => {
    const allocation: Allocation = {
      backendId: `b${jobId}`,
      partition: 'batch',
      nodes: [{ name: 'n1', cpus: 2, memoryMiB: 1024, gpus: 0 }],
      nodeList: 'n1',
      startTime: clock.now(),
      endTime: null,
    };
    return { type: 'granted', jobId, allocation };
  };
  return {
    dir,
    dataDir,
    clock,
    db,
    store,
    backend,
    output,
    runner,
    errors,
    allocating(script, description = {}) {
      const job = store.insert(
        { name: 'job', user: 'alice', partition: 'batch', description, script, argv: [], runtime: 'command', environment: {}, timeLimitMinutes: null, nice: 0, submitTime: clock.now() },
        'test',
      );
      return store.transition(job.id, 'PENDING', 'ALLOCATING', 'sent to backend', 'dispatcher', { backendId: `b${job.id}` });
    },
    granted,
    grant: (jobId) => runner.onGranted(granted(jobId)),
    jobDir: (jobId) => jobDirOf(dataDir, jobId),
    stop,
    restart: () => harness(t, root),
  };
}

/**
 * The job's event log, one string per event: `[actor] FROM>TO reason` for a state change,
 * `[actor] reason` for a note; pids, process groups and the temp dir made stable.
 */
export function timeline(h: Harness, jobId: number): string[] {
  return h.store.events(jobId).map((e) => {
    const reason = e.reason
      .split(h.dir)
      .join('<dir>')
      .replace(/pid \d+/g, 'pid N')
      .replace(/process group \d+/g, 'process group N');
    return e.toState ? `[${e.actor}] ${e.fromState ?? 'new'}>${e.toState} ${reason}` : `[${e.actor}] ${reason}`;
  });
}

/** The fields of a job that say how it ended. */
export function ending(job: JobRecord) {
  return { state: job.state, reason: job.reason, endIntent: job.endIntent, exitCode: job.exitCode, exitSignal: job.exitSignal, endTime: job.endTime };
}

export const pgidOf = (h: Harness, jobId: number): number => {
  const master = readMasterRecord(h.jobDir(jobId));
  if (!master) throw new Error(`job ${jobId} has no master.json`);
  return master.pgid;
};

export const BEGINNING = ['[test] new>PENDING submitted', '[dispatcher] PENDING>ALLOCATING sent to backend', '[backend] allocated n1 (simulator b1)'];
