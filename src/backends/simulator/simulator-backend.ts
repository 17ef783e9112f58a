/**
 * The embedded SLURM simulator: a ResourceBackend that grants nodes of a described cluster
 * with SLURM-like rules (scheduler.ts) and enforces time limits with a Clock.
 *
 * Events:
 * - 'granted' when a job starts (backend ids are "sim-1", "sim-2", ... in allocate order);
 * - 'pending' when a waiting job's reason is first known and whenever it changes;
 * - 'ended' when the simulator ends an allocation by itself: TIMEOUT (reason 'TimeLimit') at
 *   startTime + time limit, NODE_FAIL (reason 'NodeDown') when one of its nodes goes down.
 *   The allocation's resources are freed at once; list() keeps reporting it as ENDED until
 *   the GRM calls release() on it.
 * Scheduling passes run on every submit, release, end and node state change, coalesced with
 * setImmediate (settle() runs a due pass at once). No pass runs before start() or after stop().
 * A pass examines at most queueDepth / backfillMaxJobTest jobs (slurm.conf's
 * default_queue_depth / bf_max_job_test, see scheduler.ts); jobs it did not examine keep
 * their last reason and get no event. A bounded pass that started jobs asks for the next
 * pass at once, so a long queue of startable jobs drains pass after pass.
 *
 * Cost per pass: the pending jobs are kept in priority order as they come and go
 * (pending-queue.ts), and the running ones in their own set, so a pass reads only the
 * queue's head and the running allocations: O(depth + running + nodes), not
 * O(queue log queue).
 */
import { compressHostlist } from '../../hostlist/hostlist.js';
import type {
  Allocation,
  AllocationEndState,
  BackendAllocationStatus,
  BackendEvent,
  NodeInfo,
  NodeUpdate,
  PartitionInfo,
  ResourceBackend,
  ResourceRequest,
} from '../resource-backend.js';
import { checkNodeUpdate } from '../resource-backend.js';
import { defaultClusterSpec, validateClusterSpec, type SimulatedClusterSpec } from './cluster-spec.js';
import { wallClock, type Clock, type TimerHandle } from './clock.js';
import type { NodeAdminState, RunningAllocation } from './placement.js';
import { NodeAdmin, type NodeStatePersistence } from './node-admin.js';
import { compareRequestPriority, schedule, type ScheduleOptions } from './scheduler.js';
import { RequestValidator } from './validate-request.js';
import { SortedQueue } from './pending-queue.js';
import { restoredRequest } from '../restored-request.js';
import { FORECAST_JOBS, forecastStarts } from '../../simulate/forecast.js';

export { wallClock, ManualClock, type Clock, type TimerHandle } from './clock.js';

export const END_REASONS = { TIMEOUT: 'TimeLimit', NODE_FAIL: 'NodeDown' } as const;


interface Entry {
  id: string;
  seq: number;
  request: ResourceRequest;
  status: 'PENDING' | 'RUNNING' | 'ENDED';
  /** Last pending reason emitted, or the end reason. */
  reason?: string;
  allocation?: Allocation;
  running?: RunningAllocation;
  timer?: TimerHandle;
}

export type { NodeStatePersistence } from './node-admin.js';

export interface SimulatorBackendOptions extends ScheduleOptions {
  /** The number of the first backend id ("sim-<firstId>"); default 1. */
  firstId?: number;
  /** Node states kept across restarts, as slurmctld keeps them: loaded at construction. */
  nodeStates?: NodeStatePersistence;
}

/** Queue order of pending entries: the request's priority, then allocate order. */
function entryOrder(a: Entry, b: Entry): number {
  return compareRequestPriority(a.request, b.request) || a.seq - b.seq;
}

export class SimulatorBackend implements ResourceBackend {
  readonly kind = 'simulator' as const;
  private readonly spec: SimulatedClusterSpec;
  private readonly clock: Clock;
  private readonly entries = new Map<string, Entry>();
  /** The PENDING entries, in queue order. */
  private readonly queue = new SortedQueue<Entry>(entryOrder);
  /** The RUNNING entries. */
  private readonly runningEntries = new Set<Entry>();
  private readonly validator: RequestValidator;
  private readonly scheduleOptions: ScheduleOptions;
  /** Drained and down nodes, and sinfo's view of the nodes. */
  private readonly admin: NodeAdmin;
  private readonly listeners: ((event: BackendEvent) => void)[] = [];
  private nextId: number;
  private started = false;
  private passHandle: NodeJS.Immediate | undefined;

  constructor(spec: SimulatedClusterSpec = defaultClusterSpec(), clock: Clock = wallClock, options: SimulatorBackendOptions = {}) {
    validateClusterSpec(spec);
    this.spec = structuredClone(spec);
    this.clock = clock;
    this.nextId = options.firstId ?? 1;
    this.validator = new RequestValidator(this.spec);
    this.scheduleOptions = {};
    if (options.queueDepth !== undefined) this.scheduleOptions.queueDepth = options.queueDepth;
    if (options.backfillMaxJobTest !== undefined) this.scheduleOptions.backfillMaxJobTest = options.backfillMaxJobTest;
    this.admin = new NodeAdmin(this.spec, options.nodeStates);
  }

  async validate(request: ResourceRequest): Promise<void> {
    this.validator.check(request);
  }

  async allocate(request: ResourceRequest): Promise<string> {
    this.validator.check(request);
    const seq = this.nextId++;
    const id = `sim-${seq}`;
    const entry: Entry = { id, seq, request: { ...request }, status: 'PENDING' };
    this.entries.set(id, entry);
    this.queue.insert(entry);
    this.requestPass();
    return id;
  }

  async release(backendId: string): Promise<void> {
    const entry = this.entries.get(backendId);
    if (!entry) return;
    entry.timer?.cancel();
    this.entries.delete(backendId);
    if (entry.status === 'PENDING') this.queue.remove(entry);
    if (entry.status === 'RUNNING') this.runningEntries.delete(entry);
    if (entry.status !== 'ENDED') this.requestPass();
  }

  async list(): Promise<BackendAllocationStatus[]> {
    return [...this.entries.values()].map((e) => {
      const status: BackendAllocationStatus = { jobId: e.request.jobId, backendId: e.id, state: e.status };
      if (e.status !== 'RUNNING' && e.reason !== undefined) status.reason = e.reason;
      return status;
    });
  }

  async setTimeLimit(backendId: string, minutes: number): Promise<void> {
    const e = this.entries.get(backendId);
    if (e?.status === 'PENDING') {
      // not granted yet: it starts with the new limit
      e.request = { ...e.request, timeLimitMinutes: minutes };
      this.requestPass();
      return;
    }
    if (!e || e.status !== 'RUNNING' || !e.allocation || !e.running) return;
    const endTime = e.allocation.startTime + minutes * 60_000;
    e.allocation.endTime = endTime;
    e.running.endTime = endTime;
    this.armTimer(e);
    // reservations and backfill read end times: the next pass sees the earlier one
    this.requestPass();
  }

  /**
   * A restarted daemon hands back the allocations its running jobs still hold: the simulator
   * keeps no state of its own, and must not give those nodes away (nor forget their time limit).
   */
  restore(jobId: number, allocation: Allocation, exclusive: boolean): void {
    if (this.entries.has(allocation.backendId)) return;
    const seq = Number(allocation.backendId.replace(/^sim-/, '')) || 0;
    const request = restoredRequest(jobId, allocation, exclusive);
    const entry: Entry = {
      id: allocation.backendId,
      seq,
      request,
      status: 'RUNNING',
      allocation: structuredClone(allocation),
      running: { id: allocation.backendId, exclusive, nodes: structuredClone(allocation.nodes), endTime: allocation.endTime },
    };
    this.entries.set(entry.id, entry);
    this.runningEntries.add(entry);
    this.nextId = Math.max(this.nextId, seq + 1);
    if (this.started) this.armTimer(entry);
  }

  /** Simulated nodes run nothing: a node in service answers, a down one does not. */
  async preflight(allocation: Allocation): Promise<{ node: string; reason: string }[]> {
    return allocation.nodes.flatMap((n) => {
      const reason = this.admin.downReason(n.name);
      return reason === undefined ? [] : [{ node: n.name, reason }];
    });
  }

  /** The allocation of a running job, or undefined. */
  allocationOf(backendId: string): Allocation | undefined {
    const e = this.entries.get(backendId);
    return e?.status === 'RUNNING' && e.allocation ? structuredClone(e.allocation) : undefined;
  }

  async nodes(): Promise<NodeInfo[]> {
    return this.admin.nodeInfos(this.runningAllocations());
  }

  async partitions(): Promise<PartitionInfo[]> {
    return this.spec.partitions.map((p) => ({
      name: p.name,
      isDefault: p.default === true,
      maxTimeMinutes: p.maxTimeMinutes,
      defaultTimeMinutes: p.defaultTimeMinutes ?? null,
      nodes: [...p.nodes],
      state: p.state ?? 'UP',
    }));
  }

  onEvent(listener: (event: BackendEvent) => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (const e of this.runningEntries) this.armTimer(e);
    this.requestPass();
  }

  async stop(): Promise<void> {
    this.started = false;
    if (this.passHandle) clearImmediate(this.passHandle);
    this.passHandle = undefined;
    for (const e of this.runningEntries) {
      e.timer?.cancel();
      delete e.timer;
    }
  }

  /** Runs a scheduling pass now if one is due (tests, trace replay). */
  async settle(): Promise<void> {
    if (!this.passHandle) return;
    clearImmediate(this.passHandle);
    this.passHandle = undefined;
    this.runPass();
  }

  /**
   * Admin: 'drained' keeps running jobs but takes no new ones; 'down' also ends every
   * allocation on the node (NODE_FAIL); 'idle' puts the node back in service.
   */
  setNodeState(name: string, state: NodeAdminState, reason?: string): void {
    // written before it is acted on: a restart keeps it
    this.admin.set(name, state, reason);
    if (state === 'down') {
      for (const e of [...this.runningEntries]) {
        if (e.running!.nodes.some((n) => n.name === name)) {
          this.endAllocation(e, 'NODE_FAIL');
        }
      }
    }
    this.requestPass();
  }

  async updateNode(name: string, update: NodeUpdate): Promise<void> {
    checkNodeUpdate(update);
    this.setNodeState(name, update.state === 'resume' ? 'idle' : update.state === 'drain' ? 'drained' : 'down', update.reason);
  }

  /** The queue replayed on a virtual clock from the running jobs' limits (simulate/forecast.ts). */
  forecast(waiting: ResourceRequest[]): Map<number, number | null> {
    const queue = [...this.queue.view, ...waiting.map((request) => ({ id: `grm-${request.jobId}`, request }))];
    const byId = new Map(queue.map((q) => [q.id, q.request.jobId]));
    const starts = forecastStarts(
      { spec: this.spec, nodeStates: this.admin.states, running: this.runningAllocations(), queue, now: this.clock.now() },
      { ...this.scheduleOptions, maxJobs: FORECAST_JOBS },
    );
    return new Map([...starts].map(([id, at]) => [byId.get(id)!, at]));
  }

  private runningAllocations(): RunningAllocation[] {
    const out: RunningAllocation[] = [];
    for (const e of this.runningEntries) out.push(e.running!);
    return out;
  }

  private requestPass(): void {
    if (!this.started || this.passHandle) return;
    this.passHandle = setImmediate(() => {
      this.passHandle = undefined;
      this.runPass();
    });
  }

  private runPass(): void {
    if (!this.started) return;
    // An Entry is a QueuedRequest ({ id, request }): the queue is handed over as it is.
    const result = schedule(
      {
        spec: this.spec,
        nodeStates: this.admin.states,
        running: this.runningAllocations(),
        queue: this.queue.view,
        now: this.clock.now(),
      },
      this.scheduleOptions,
    );
    const events: BackendEvent[] = [];
    for (const p of result.placements) {
      const e = this.entries.get(p.id)!;
      const allocation: Allocation = {
        backendId: p.id,
        partition: p.partition,
        nodes: p.nodes,
        nodeList: compressHostlist(p.nodes.map((n) => n.name)),
        startTime: p.startTime,
        endTime: p.endTime,
      };
      e.status = 'RUNNING';
      delete e.reason;
      e.allocation = allocation;
      e.running = { id: p.id, exclusive: p.exclusive, nodes: p.nodes, endTime: p.endTime };
      this.runningEntries.add(e);
      this.armTimer(e);
      events.push({ type: 'granted', jobId: e.request.jobId, allocation: structuredClone(allocation) });
    }
    // Every started job is among the `examined` first ones: drop them from the queue.
    if (result.placements.length > 0) this.queue.filterHead(result.examined, (e) => e.status === 'PENDING');
    // Only examined jobs are in result.pending: the others keep their reason, silently.
    for (const [id, reason] of result.pending) {
      const e = this.entries.get(id)!;
      if (e.reason === reason) continue;
      e.reason = reason;
      events.push({ type: 'pending', jobId: e.request.jobId, backendId: id, reason });
    }
    // A bounded pass that started jobs: the queue's next jobs get their pass at once.
    if (result.placements.length > 0 && result.examined < this.queue.length + result.placements.length) {
      this.requestPass();
    }
    for (const ev of events) this.emit(ev);
  }

  private armTimer(e: Entry): void {
    e.timer?.cancel();
    delete e.timer;
    const end = e.running?.endTime ?? null;
    if (end === null) return;
    e.timer = this.clock.setTimer(end, () => {
      delete e.timer;
      if (this.entries.get(e.id) === e && e.status === 'RUNNING') this.endAllocation(e, 'TIMEOUT');
    });
  }

  /** The simulator ends an allocation by itself: free it, keep it as ENDED, tell listeners. */
  private endAllocation(e: Entry, state: Extract<AllocationEndState, 'TIMEOUT' | 'NODE_FAIL'>): void {
    e.timer?.cancel();
    delete e.timer;
    e.status = 'ENDED';
    e.reason = END_REASONS[state];
    delete e.running;
    this.runningEntries.delete(e);
    this.requestPass();
    this.emit({ type: 'ended', jobId: e.request.jobId, backendId: e.id, state, reason: e.reason });
  }

  /** A throwing listener neither stops the others nor corrupts state; its error is rethrown later. */
  private emit(event: BackendEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        setImmediate(() => {
          throw err;
        });
      }
    }
  }
}
