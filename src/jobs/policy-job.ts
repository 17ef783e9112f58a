/**
 * A job as the queue policy sees it (PolicyJob: its account, QOS, size and times), made from a
 * job record or from a policy-store row, the bulk read of a recalculation. Pure; apart from
 * queue-policy.ts so that the one mapping from GRM's job to the policy's reads on its own.
 */
import type { PolicyJob } from '../policy/policy-types.js';
import type { PolicyRow } from '../store/policy-store.js';
import { countIndices } from './array-tasks.js';
import type { JobDescription } from './job-types.js';
import { parseGpuTres } from './resource-request.js';

/** What the policy needs of a job, from its record or its bulk row. */
export interface PolicySource {
  id: number;
  user: string;
  partition: string;
  /** The stored nice; a record without it uses its description's. */
  nice?: number;
  submitTime: number;
  beginTime: number | null;
  timeLimitMinutes: number | null;
  description: JobDescription;
  /** An array's tasks not started yet (its record's range), or null. */
  arrayTasks?: string | null;
}

export function policyJobOf(j: PolicySource, qos: string | undefined): PolicyJob {
  const d = j.description;
  const nodes = d.minimum_nodes ?? 1;
  const tasks = d.tasks ?? (d.tasks_per_node ? d.tasks_per_node * nodes : nodes);
  const perNode = parseGpuTres(d.tres_per_node)?.count;
  const gpus = perNode !== undefined ? perNode * nodes : (parseGpuTres(d.tres_per_job)?.count ?? 0);
  return {
    id: j.id,
    user: j.user,
    account: d.account,
    partition: j.partition,
    qos,
    nice: j.nice ?? d.nice ?? 0,
    submitTime: j.submitTime,
    // eligible from its begin time on (dependencies are not timed: their wait counts as age)
    eligibleTime: Math.max(j.submitTime, j.beginTime ?? 0),
    nodes,
    submitCount: j.arrayTasks ? countIndices(j.arrayTasks) : 1,
    cpus: tasks * (d.cpus_per_task ?? 1),
    gpus,
    timeLimitMinutes: j.timeLimitMinutes,
  };
}

/** A policy-store row as the policy's source, and when its run started (null: not running). */
export function fromPolicyRow(r: PolicyRow): { job: PolicySource; startTime: number | null } {
  const description = JSON.parse(r.description) as JobDescription;
  return {
    job: { id: r.id, user: r.user, partition: r.partition, nice: r.nice, submitTime: r.submit_time, beginTime: r.begin_time, timeLimitMinutes: r.time_limit, description, arrayTasks: r.array_tasks },
    startTime: r.start_time,
  };
}
