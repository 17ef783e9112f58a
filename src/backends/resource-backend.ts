/**
 * The contract between the GRM and whatever grants nodes: the embedded simulator or a real
 * SLURM controller. The dispatcher speaks only this interface.
 */
import { GrmError } from '../errors.js';

/** What one job needs, normalised from its JobDescription (memory in MiB, time in minutes). */
export interface ResourceRequest {
  jobId: number;
  name: string;
  user: string;
  partition: string;
  minNodes: number;
  maxNodes: number;
  /** Total tasks (SLURM_NTASKS). */
  tasks: number;
  /** When set, tasks are spread exactly this many per node. */
  tasksPerNode?: number;
  cpusPerTask: number;
  /** MiB per node; 0 means "whatever the node has" when exclusive, else a default share. */
  memoryPerNodeMiB?: number;
  memoryPerCpuMiB?: number;
  gpusPerNode: number;
  gpuType?: string;
  /** null = UNLIMITED (bounded by the partition's own limit). */
  timeLimitMinutes: number | null;
  exclusive: boolean;
  account?: string;
  qos?: string;
  /** Lower runs first among equals; SLURM's nice. */
  nice: number;
  /** ms since epoch; FIFO order key. */
  submitTime: number;
  /** GRM's priority when it was admitted (squeue's %Q): SLURM's holder gets it when GRM may set it. */
  priority?: number;
}

export interface AllocatedNode {
  name: string;
  cpus: number;
  memoryMiB: number;
  gpus: number;
  gpuType?: string;
}

export interface Allocation {
  /** The backend's own id for the allocation (SLURM job id of the holder job). */
  backendId: string;
  partition: string;
  nodes: AllocatedNode[];
  /** Compressed hostlist of nodes, e.g. "node[01-03]". */
  nodeList: string;
  /** ms since epoch */
  startTime: number;
  /** ms since epoch; null when unlimited */
  endTime: number | null;
}

export type AllocationEndState = 'COMPLETED' | 'CANCELLED' | 'TIMEOUT' | 'NODE_FAIL' | 'FAILED';

export type BackendEvent =
  /**
   * `replaces`: the job's own request, withdrawn because the backend handed it an allocation
   * another job had just given back (SLURM: a finished job's holder, see slurm-backend.ts).
   */
  | { type: 'granted'; jobId: number; allocation: Allocation; replaces?: string }
  | { type: 'pending'; jobId: number; backendId: string; reason: string }
  /** The backend ended the allocation by itself (time limit, node failure, external cancel). */
  | { type: 'ended'; jobId: number; backendId: string; state: AllocationEndState; reason: string };

export type NodeState = 'idle' | 'mixed' | 'allocated' | 'drained' | 'down';

export interface NodeInfo {
  name: string;
  state: NodeState;
  partitions: string[];
  cpus: number;
  cpusAllocated: number;
  memoryMiB: number;
  memoryAllocatedMiB: number;
  gpus: number;
  gpusAllocated: number;
  gpuType?: string;
  /** backend ids of the allocations on this node */
  allocations: string[];
  reason?: string;
}

/**
 * scontrol update nodename=X state=down|drain|resume reason=...: an admin takes a node out of
 * service or puts it back. 'drain': its jobs run on, no new ones start on it; 'down': every
 * allocation on it ends too (NODE_FAIL); 'resume': back in service.
 */
export interface NodeUpdate {
  state: 'down' | 'drain' | 'resume';
  /** Required (as SLURM requires it) to take a node down or drain it. */
  reason?: string;
}

/** SLURM's rule: a node is taken down or drained only with a reason. */
export function checkNodeUpdate(update: NodeUpdate): void {
  if (update.state !== 'resume' && !update.reason?.trim()) {
    throw new GrmError('E_REQUEST_INVALID', 'You must specify a reason when DOWNING or DRAINING a node. Request denied', { field: 'reason' });
  }
}

export interface PartitionInfo {
  name: string;
  isDefault: boolean;
  /** minutes; null = UNLIMITED */
  maxTimeMinutes: number | null;
  /** minutes applied when a job gives none; null = the max */
  defaultTimeMinutes: number | null;
  nodes: string[];
  state: 'UP' | 'DOWN';
}

/** What the backend knows of an allocation now (for reconciliation). */
export interface BackendAllocationStatus {
  jobId: number;
  backendId: string;
  state: 'PENDING' | 'RUNNING' | 'ENDED';
  reason?: string;
}

export interface ResourceBackend {
  readonly kind: 'simulator' | 'slurm';
  /**
   * Throws GrmError (E_PARTITION_UNKNOWN, E_NODE_CONFIG_UNAVAILABLE, E_REQUEST_INVALID) when
   * the request can never be satisfied, so the API can refuse it at submit, as sbatch does.
   * Both backends run the same check first (request-fit.ts).
   */
  validate(request: ResourceRequest): Promise<void>;
  /** Queue the request; the grant arrives later as a 'granted' event. Returns the backend id. */
  allocate(request: ResourceRequest): Promise<string>;
  /**
   * A new (lower) time limit for a granted allocation, in minutes from its start; the
   * backend ends it at the new end (TIMEOUT) as it would have at the old one.
   */
  setTimeLimit(backendId: string, minutes: number): Promise<void>;
  /**
   * Give the nodes back (job finished or cancelled). Idempotent. `jobId`: the job giving them
   * back; an allocation the backend has handed to another job since is left to that one.
   */
  release(backendId: string, jobId?: number): Promise<void>;
  /**
   * When each waiting job is expected to start (ms since epoch; null: cannot tell), by GRM job
   * id: the backend's own waiting jobs, then `waiting` (jobs GRM still keeps, in its order).
   * Absent: the backend cannot forecast.
   */
  forecast?(waiting: ResourceRequest[]): Map<number, number | null> | Promise<Map<number, number | null>>;
  /** Every allocation the backend holds for the GRM (reconciliation). */
  list(): Promise<BackendAllocationStatus[]>;
  nodes(): Promise<NodeInfo[]>;
  partitions(): Promise<PartitionInfo[]>;
  onEvent(listener: (event: BackendEvent) => void): void;
  /** Takes a node down, drains or resumes it (checkNodeUpdate first); E_REQUEST_INVALID for an unknown node. */
  updateNode(name: string, update: NodeUpdate): Promise<void>;
  /**
   * Checks that every node of a granted allocation answers (before a master that would hang
   * on a dead node is started). Returns the nodes that did not, with why; [] when all did.
   */
  preflight(allocation: Allocation): Promise<{ node: string; reason: string }[]>;
  /**
   * A restarted daemon hands back an allocation its running job still holds, so the backend
   * follows it again (time limit, node failure) without granting it anew.
   */
  restore(jobId: number, allocation: Allocation, exclusive: boolean): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}
