/**
 * The jobs table's rows and the JobRecord they become, and the columns a patch may set:
 * the mapping JobStore reads and writes through, kept apart so the store holds the queries.
 */
import type { EndIntent, JobDescription, JobRecord, JobState, JobSummaryRecord, RuntimeKind } from '../jobs/job-types.js';

export interface JobRow {
  id: number;
  name: string;
  user: string;
  state: JobState;
  reason: string;
  partition: string;
  description: string;
  script: string;
  argv: string;
  runtime: RuntimeKind;
  environment: string;
  submit_time: number;
  start_time: number | null;
  end_time: number | null;
  time_limit: number | null;
  nice: number;
  backend_id: string | null;
  node_list: string | null;
  num_nodes: number;
  exit_code: number | null;
  exit_signal: string | null;
  end_intent: EndIntent | null;
  command_line: string | null;
  updated_time: number;
  blocked: string | null;
  begin_time: number | null;
  dependency: string | null;
  array_job_id: number | null;
  array_task_id: number | null;
  array_tasks: string | null;
  array_max_running: number | null;
  array_task_count: number | null;
  restart_count: number;
  priority: number;
}

/** Fields a transition (or a patch) may set beside the state. */
export interface JobPatch {
  reason?: string;
  partition?: string;
  startTime?: number | null;
  endTime?: number | null;
  backendId?: string | null;
  nodeList?: string | null;
  numNodes?: number;
  exitCode?: number | null;
  exitSignal?: string | null;
  endIntent?: EndIntent | null;
  commandLine?: string[] | null;
}

/** A job's reason after a transition that names none, as squeue would show it. */
export const DEFAULT_REASON: Record<JobState, string> = {
  PENDING: 'None',
  ALLOCATING: 'None',
  RUNNING: 'None',
  COMPLETING: 'None',
  COMPLETED: 'None',
  FAILED: 'Failed',
  CANCELLED: 'Cancelled',
  TIMEOUT: 'TimeLimit',
  NODE_FAIL: 'NodeDown',
};

const PATCH_COLUMNS: Record<keyof JobPatch, string> = {
  reason: 'reason',
  partition: 'partition',
  startTime: 'start_time',
  endTime: 'end_time',
  backendId: 'backend_id',
  nodeList: 'node_list',
  numNodes: 'num_nodes',
  exitCode: 'exit_code',
  exitSignal: 'exit_signal',
  endIntent: 'end_intent',
  commandLine: 'command_line',
};

export function patchSql(patch: JobPatch): { sets: string[]; values: unknown[] } {
  const sets: string[] = [];
  const values: unknown[] = [];
  for (const [key, value] of Object.entries(patch) as [keyof JobPatch, unknown][]) {
    if (value === undefined) continue;
    sets.push(`${PATCH_COLUMNS[key]} = ?`);
    values.push(key === 'commandLine' && value !== null ? JSON.stringify(value) : value);
  }
  return { sets, values };
}

/** The columns of a list's rows: all but script, argv and environment (a job may carry megabytes of them). */
export const SUMMARY_COLUMNS = [
  'id', 'name', 'user', 'state', 'reason', 'partition', 'description', 'runtime', 'submit_time', 'start_time', 'end_time',
  'time_limit', 'nice', 'backend_id', 'node_list', 'num_nodes', 'exit_code', 'exit_signal', 'end_intent', 'command_line',
  'updated_time', 'blocked', 'begin_time', 'dependency', 'array_job_id', 'array_task_id', 'array_tasks',
  'array_max_running', 'array_task_count', 'restart_count', 'priority',
].join(', ');

export function toRecord(r: JobRow): JobRecord {
  return {
    ...toSummaryRecord(r),
    script: r.script,
    argv: JSON.parse(r.argv) as string[],
    environment: JSON.parse(r.environment) as Record<string, string>,
  };
}

export function toSummaryRecord(r: Omit<JobRow, 'script' | 'argv' | 'environment'>): JobSummaryRecord {
  return {
    id: r.id,
    name: r.name,
    user: r.user,
    state: r.state,
    reason: r.reason,
    partition: r.partition,
    description: JSON.parse(r.description) as JobDescription,
    runtime: r.runtime,
    submitTime: r.submit_time,
    startTime: r.start_time,
    endTime: r.end_time,
    timeLimitMinutes: r.time_limit,
    backendId: r.backend_id,
    nodeList: r.node_list,
    numNodes: r.num_nodes,
    exitCode: r.exit_code,
    exitSignal: r.exit_signal,
    endIntent: r.end_intent,
    commandLine: r.command_line ? (JSON.parse(r.command_line) as string[]) : null,
    updatedTime: r.updated_time,
    blocked: r.blocked,
    beginTime: r.begin_time,
    dependency: r.dependency,
    arrayJobId: r.array_job_id,
    arrayTaskId: r.array_task_id,
    arrayTasks: r.array_tasks,
    arrayMaxRunning: r.array_max_running,
    arrayTaskCount: r.array_task_count,
    restartCount: r.restart_count,
    priority: r.priority,
    nice: r.nice,
  };
}
