/** Turns store records into the API's slurmrestd-like JSON. */
import type { StoredAllocation } from '../store/allocation-store.js';
import type { JobEvent, JobRecord, JobSummaryRecord } from '../jobs/job-types.js';
import { displayJobId } from '../jobs/job-arrays.js';
import type { NodeInfo, PartitionInfo } from '../backends/resource-backend.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Waits to start: in GRM's queue, or sent to the backend and waiting for its nodes. */
export const awaitsStart = (job: Pick<JobSummaryRecord, 'state' | 'nodeList'>) => job.state === 'PENDING' || (job.state === 'ALLOCATING' && !job.nodeList);

/** A job in a list: bounded fields only, whatever the job carries (see JobSummarySchema). */
export function presentJobSummary(job: JobSummaryRecord, expectedStart: number | null = null) {
  const d = job.description;
  const minimumNodes = d.minimum_nodes ?? 1;
  // as SLURM counts them: -n, else one task per node (or --ntasks-per-node of them)
  const tasks = d.tasks ?? (job.numNodes || minimumNodes) * (d.tasks_per_node ?? 1);
  const cpusPerTask = d.cpus_per_task ?? 1;
  return {
    job_id: job.id,
    display_id: displayJobId(job),
    array_job_id: job.arrayJobId,
    array_task_id: job.arrayTaskId,
    array_task_string: job.arrayTasks,
    array_max_tasks: job.arrayMaxRunning,
    hold: job.blocked === 'JobHeldUser' || job.blocked === 'JobHeldAdmin',
    name: job.name,
    user_name: job.user,
    job_state: job.state,
    state_reason: job.reason,
    partition: job.partition,
    submit_time: new Date(job.submitTime).toISOString(),
    start_time: iso(job.startTime),
    expected_start: awaitsStart(job) ? iso(expectedStart) : null,
    end_time: iso(job.endTime),
    time_limit: job.timeLimitMinutes,
    nodes: job.nodeList,
    node_count: job.numNodes,
    backend_id: job.backendId,
    exit_code: job.exitCode,
    exit_signal: job.exitSignal,
    restart_cnt: job.restartCount,
    priority: job.priority,
    runtime: job.runtime,
    account: d.account ?? null,
    qos: d.qos ?? null,
    comment: d.comment ?? null,
    nice: d.nice ?? 0,
    current_working_directory: d.current_working_directory ?? null,
    minimum_nodes: minimumNodes,
    tasks,
    cpus_per_task: cpusPerTask,
    cpus: tasks * cpusPerTask,
    memory_per_node: d.memory_per_node ?? null,
    memory_per_cpu: d.memory_per_cpu ?? null,
    tres_per_node: d.tres_per_node ?? null,
    tres_per_job: d.tres_per_job ?? null,
  };
}

/** One job whole, with its request, argv and command line (GET /jobs/:id). */
export function presentJob(job: JobRecord, expectedStart: number | null = null) {
  return {
    ...presentJobSummary(job, expectedStart),
    command_line: job.commandLine,
    argv: job.argv,
    request: job.description as Record<string, unknown>,
  };
}

export function presentJobDetail(job: JobRecord, events: JobEvent[], allocation: StoredAllocation | undefined, expectedStart: number | null = null) {
  return {
    ...presentJob(job, expectedStart),
    script: job.script,
    events: events.map((e) => ({
      time: new Date(e.time).toISOString(),
      from_state: e.fromState,
      to_state: e.toState,
      reason: e.reason,
      actor: e.actor,
    })),
    allocation: allocation
      ? {
          backend: allocation.backend,
          backend_id: allocation.backendId,
          partition: allocation.partition,
          nodes: allocation.nodeList,
          node_list: allocation.nodes.map((n) => ({ name: n.name, cpus: n.cpus, memory_mib: n.memoryMiB, gpus: n.gpus })),
          granted_time: new Date(allocation.grantedTime).toISOString(),
          released_time: iso(allocation.releasedTime),
        }
      : null,
  };
}

export function presentNode(node: NodeInfo, jobsByBackendId: Map<string, number>) {
  return {
    name: node.name,
    state: node.state,
    partitions: node.partitions,
    cpus: node.cpus,
    cpus_allocated: node.cpusAllocated,
    memory_mib: node.memoryMiB,
    memory_allocated_mib: node.memoryAllocatedMiB,
    gpus: node.gpus,
    gpus_allocated: node.gpusAllocated,
    ...(node.gpuType ? { gpu_type: node.gpuType } : {}),
    allocations: node.allocations,
    jobs: node.allocations.map((a) => jobsByBackendId.get(a)).filter((id): id is number => id !== undefined),
    ...(node.reason ? { reason: node.reason } : {}),
  };
}

export function presentPartition(p: PartitionInfo, compress: (names: string[]) => string) {
  return {
    name: p.name,
    default: p.isDefault,
    state: p.state,
    max_time: p.maxTimeMinutes,
    default_time: p.defaultTimeMinutes,
    nodes: compress(p.nodes),
    node_count: p.nodes.length,
  };
}
