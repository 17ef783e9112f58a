/**
 * The allocations table: the nodes the backend granted a job's run (one row per job, replaced
 * when a requeued job is granted again) and when they were released. JobStore hands these
 * calls on (its callers see one store of jobs); the rows are apart because they are the
 * backend's answer, not the job's request.
 */
import type { Allocation, AllocatedNode } from '../backends/resource-backend.js';
import type { Db } from './database.js';

export interface StoredAllocation extends Allocation {
  jobId: number;
  backend: string;
  grantedTime: number;
  releasedTime: number | null;
}

interface AllocationRow {
  job_id: number;
  backend: string;
  backend_id: string;
  partition: string;
  node_list: string;
  nodes: string;
  granted_time: number;
  end_time: number | null;
  released_time: number | null;
}

export class AllocationStore {
  constructor(
    private readonly db: Db,
    private readonly now: () => number,
  ) {}

  save(jobId: number, backend: string, allocation: Allocation): void {
    this.db
      .prepare(
        `INSERT INTO allocations (job_id, backend, backend_id, partition, node_list, nodes, granted_time, end_time)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(job_id) DO UPDATE SET backend_id = excluded.backend_id, partition = excluded.partition,
           node_list = excluded.node_list, nodes = excluded.nodes, granted_time = excluded.granted_time,
           end_time = excluded.end_time, released_time = NULL`,
      )
      .run(
        jobId,
        backend,
        allocation.backendId,
        allocation.partition,
        allocation.nodeList,
        JSON.stringify(allocation.nodes),
        allocation.startTime,
        allocation.endTime,
      );
  }

  get(jobId: number): StoredAllocation | undefined {
    const r = this.db.prepare('SELECT * FROM allocations WHERE job_id = ?').get(jobId) as AllocationRow | undefined;
    if (!r) return undefined;
    return {
      jobId: r.job_id,
      backend: r.backend,
      backendId: r.backend_id,
      partition: r.partition,
      nodeList: r.node_list,
      nodes: JSON.parse(r.nodes) as AllocatedNode[],
      startTime: r.granted_time,
      endTime: r.end_time,
      grantedTime: r.granted_time,
      releasedTime: r.released_time,
    };
  }

  markReleased(jobId: number): void {
    this.db.prepare('UPDATE allocations SET released_time = ? WHERE job_id = ? AND released_time IS NULL').run(this.now(), jobId);
  }
}
