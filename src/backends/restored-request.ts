/**
 * The request a backend keeps for an allocation handed back after a daemon restart: only its
 * shape matters then (it is running; nothing will schedule it again).
 */
import type { Allocation, ResourceRequest } from './resource-backend.js';

export function restoredRequest(jobId: number, allocation: Allocation, exclusive: boolean): ResourceRequest {
  const count = allocation.nodes.length;
  return {
    jobId,
    name: 'restored',
    user: '',
    partition: allocation.partition,
    minNodes: count,
    maxNodes: count,
    tasks: count,
    cpusPerTask: 1,
    gpusPerNode: 0,
    timeLimitMinutes: null,
    exclusive,
    nice: 0,
    submitTime: allocation.startTime,
  };
}
