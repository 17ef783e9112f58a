/** A small simulator ResourceRequest for the scheduler and backend tests: one task on one node unless `over` says otherwise. */
import type { ResourceRequest } from '../../src/backends/resource-backend.js';

export function simRequest(jobId: number, submitTime: number, over: Partial<ResourceRequest> = {}): ResourceRequest {
  return {
    jobId,
    name: `job${jobId}`,
    user: 'alice',
    partition: 'batch',
    minNodes: 1,
    maxNodes: 1,
    tasks: 1,
    cpusPerTask: 1,
    gpusPerNode: 0,
    timeLimitMinutes: null,
    exclusive: false,
    nice: 0,
    submitTime,
    ...over,
  };
}
