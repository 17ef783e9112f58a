/**
 * The SLURM backend's poller: one squeue read per poll for all holders, judged by
 * holder-status.ts into 'granted', 'pending' and 'ended' events, with scontrol's per-node detail
 * for the holders a poll sees granted; and the same reads on demand (the holders list() reports,
 * every job's state). Apart from slurm-backend.ts so that the backend holds the allocate/release
 * decisions and this file the reading of SLURM's view.
 *
 * One setTimeout chain (unref'd); polls never overlap (each waits for the one in flight).
 * A holder whose salloc still waits needs no fast polls: salloc exits at the grant, and that
 * exit triggers the poll that reports it. Holders without one (batch holders, or adopted after
 * a restart) are polled at the pace of poll-pace.ts: within 100 ms of a submit or a release, at
 * most 1 s apart while one waits; with none waiting, every pollIntervalMs.
 * A failed poll goes to onError and the poller keeps going.
 *
 * It shares the backend's `tracked` holders and `released` set: it never adds a holder, and
 * drops from `released` only the ids squeue no longer shows.
 */
import { expandHostlist } from '../../hostlist/hostlist.js';
import type { AllocatedNode, BackendAllocationStatus, BackendEvent } from '../resource-backend.js';
import { judgeHolder, type Tracked } from './holder-status.js';
import type { PollPace } from './poll-pace.js';
import type { SlurmCommands } from './slurm-commands.js';
import {
  parseJobDetail,
  parseSqueueHolders,
  parseSqueueStatus,
  SQUEUE_HOLDER_FORMAT,
  SQUEUE_STATUS_FORMAT,
  type SqueueHolder,
  type SqueueJobStatus,
} from './squeue-parse.js';

export interface HolderPollerOptions {
  commands: SlurmCommands;
  pace: PollPace;
  /** This GRM's id: only holders with its comment are ours. */
  instance: string;
  /** The backend's holders, by SLURM job id. */
  tracked: Map<string, Tracked>;
  /** Holders the backend released, while SLURM still shows them. */
  released: Set<string>;
  /** Hands one event to the backend's listeners. */
  emit: (event: BackendEvent) => void;
  onError: (error: unknown) => void;
}

export class HolderPoller {
  private started = false;
  private timer: NodeJS.Timeout | undefined;
  private pollSeq = 0;
  private pollChain: Promise<void> = Promise.resolve();
  /** The last poll's view of every job: who else waits in SLURM's queue. */
  private statusesSeen: SqueueJobStatus[] = [];

  constructor(private readonly o: HolderPollerOptions) {}

  /** The poll sequence a holder tracked from now on is first judged by (Tracked.since). */
  nextSeq(): number {
    return this.pollSeq + 1;
  }

  /** Every job's state as the last poll read it. */
  get lastStatuses(): SqueueJobStatus[] {
    return this.statusesSeen;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(0);
  }

  /** No more polls are scheduled; `settled()` waits for the one in flight. */
  halt(): void {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Resolves when the poll in flight (if any) is done. */
  settled(): Promise<void> {
    return this.pollChain;
  }

  /** One poll now (after any poll in flight); rejects when squeue fails. */
  pollNow(): Promise<void> {
    const run = this.pollChain.then(() => this.poll());
    this.pollChain = run.catch(() => {});
    return run;
  }

  /** The next poll in `delayMs` (replacing the one scheduled), then at the pace's interval. */
  schedule(delayMs: number): void {
    if (!this.started) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pollNow()
        .catch((e) => this.o.onError(e))
        .finally(() => this.schedule(this.o.pace.after([...this.o.tracked.values()].some((h) => h.status === 'PENDING' && !h.salloc))));
    }, delayMs);
    this.timer.unref();
  }

  /** A poll soon (after a submit: SLURM usually starts a fitting job at once), then fast while it waits. */
  kick(): void {
    if (this.started) this.schedule(this.o.pace.kick());
  }

  /** Every job's state (no comments: they are read by holders() only). */
  async statuses(): Promise<SqueueJobStatus[]> {
    return parseSqueueStatus(await this.o.commands.squeueLines(SQUEUE_STATUS_FORMAT), expandHostlist);
  }

  /**
   * This instance's holders (another GRM's are plain SLURM jobs to this one). A comment may
   * hold a newline and forge lines; a holder line counts only when its job id is printed once
   * and the comment-free status lines show that job with the same owner.
   */
  async holders(): Promise<SqueueHolder[]> {
    const [text, statuses] = await Promise.all([this.o.commands.squeueLines(SQUEUE_HOLDER_FORMAT), this.statuses()]);
    const owners = new Map(statuses.map((j) => [j.slurmJobId, j.uid]));
    return parseSqueueHolders(text).filter((h) => h.grmInstance === this.o.instance && owners.get(h.slurmJobId) === h.uid);
  }

  /** This instance's holders as the reconciler reads them, those the backend released left out. */
  async allocations(): Promise<BackendAllocationStatus[]> {
    const [holders, jobs] = await Promise.all([this.holders(), this.statuses()]);
    const byId = new Map(jobs.map((j) => [j.slurmJobId, j]));
    const out: BackendAllocationStatus[] = [];
    for (const h of holders) {
      if (this.o.released.has(h.slurmJobId)) continue;
      const status: BackendAllocationStatus = { jobId: h.grmJobId, backendId: h.slurmJobId, state: h.phase };
      if (h.phase === 'PENDING') status.reason = byId.get(h.slurmJobId)?.reason ?? 'None';
      if (h.phase === 'ENDED') status.reason = h.state;
      out.push(status);
    }
    return out;
  }

  private async poll(): Promise<void> {
    const { tracked, released } = this.o;
    const seq = ++this.pollSeq;
    if (tracked.size === 0) return;
    this.statusesSeen = await this.statuses();
    const jobs = new Map(this.statusesSeen.map((j) => [j.slurmJobId, j]));
    for (const id of released) if (!jobs.has(id)) released.delete(id);
    const details = await this.grantDetails(seq, jobs);
    const events: BackendEvent[] = [];
    for (const t of [...tracked.values()]) {
      if (t.status === 'ENDED' || t.since > seq) continue;
      events.push(...judgeHolder(t, jobs.get(t.backendId), details.get(t.backendId)));
    }
    for (const ev of events) {
      // A release() while squeue ran has the last word.
      const id = ev.type === 'granted' ? ev.allocation.backendId : ev.backendId;
      if (tracked.has(id)) this.o.emit(ev);
    }
  }

  /**
   * Per-node CPUs, memory and GPUs of the holders this poll sees granted, from scontrol's
   * detail (one call each, at once); a holder whose detail fails gets squeue's even split.
   */
  private async grantDetails(seq: number, jobs: Map<string, SqueueJobStatus>): Promise<Map<string, AllocatedNode[]>> {
    const granted = [...this.o.tracked.values()].filter((t) => t.status === 'PENDING' && t.since <= seq && (jobs.get(t.backendId)?.nodes.length ?? 0) > 0);
    const out = new Map<string, AllocatedNode[]>();
    await Promise.all(
      granted.map(async (t) => {
        try {
          const { nodes } = parseJobDetail(await this.o.commands.showJobDetail(t.backendId), expandHostlist);
          if (nodes.length > 0) out.set(t.backendId, nodes);
        } catch (e) {
          this.o.onError(e);
        }
      }),
    );
    return out;
  }
}
