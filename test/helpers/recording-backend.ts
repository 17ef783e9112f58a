/**
 * A ResourceBackend for unit tests of the GRM's own logic (queue, reconciliation): it records
 * what it is asked (allocate, release, time limits) and answers list() with what the test
 * says the backend holds. Not a simulator: the simulator and SLURM have suites of their own.
 */
import type { BackendAllocationStatus, PartitionInfo, ResourceBackend, ResourceRequest } from '../../src/backends/resource-backend.js';

export const PARTITION: PartitionInfo = { name: 'batch', isDefault: true, maxTimeMinutes: null, defaultTimeMinutes: null, nodes: ['n1'], state: 'UP' };

/** Records allocate() calls in order; everything else is inert. */
export class RecordingBackend implements ResourceBackend {
  readonly kind = 'simulator' as const;
  readonly allocated: ResourceRequest[] = [];
  async validate(): Promise<void> {}
  readonly nodeUpdates: { name: string; update: import('../../src/backends/resource-backend.js').NodeUpdate }[] = [];
  async updateNode(name: string, update: import('../../src/backends/resource-backend.js').NodeUpdate): Promise<void> {
    this.nodeUpdates.push({ name, update });
  }
  async allocate(request: ResourceRequest): Promise<string> {
    this.allocated.push(request);
    return `b${request.jobId}`;
  }
  readonly timeLimits: [string, number][] = [];
  async setTimeLimit(backendId: string, minutes: number): Promise<void> {
    this.timeLimits.push([backendId, minutes]);
  }
  readonly released: string[] = [];
  /** What list() answers. */
  held: BackendAllocationStatus[] = [];
  async release(backendId: string): Promise<void> {
    this.released.push(backendId);
  }
  async list(): Promise<BackendAllocationStatus[]> {
    return this.held;
  }
  async nodes() {
    return [];
  }
  async partitions() {
    return [PARTITION];
  }
  onEvent(): void {}
  async preflight() {
    return [];
  }
  restore(): void {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

