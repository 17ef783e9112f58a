/** squeue/sinfo/scontrol-like text output. Pure: data in, text out. */
import { STATE_CODES } from '../jobs/job-types.js';

export interface JobView {
  job_id: number;
  name: string;
  user_name: string;
  job_state: string;
  state_reason: string;
  partition: string;
  submit_time: string;
  start_time: string | null;
  /** a pending job's forecast start; absent from older daemons */
  expected_start?: string | null;
  end_time: string | null;
  time_limit: number | null;
  nodes: string | null;
  node_count: number;
  exit_code: number | null;
  exit_signal: string | null;
  restart_cnt?: number;
  /** `12`, `12_7` or `12_[3-9%2]` (older daemons: absent) */
  display_id?: string;
  array_job_id?: number | null;
  array_task_id?: number | null;
  /** the indices of an array not started yet */
  array_task_string?: string | null;
  // the request's figures a list carries (JobSummarySchema)
  account?: string | null;
  qos?: string | null;
  comment?: string | null;
  nice?: number;
  /** the queue policy's priority (squeue %Q) */
  priority?: number;
  current_working_directory?: string | null;
  /** nodes asked for; node_count is the nodes held */
  minimum_nodes?: number;
  /** CPUs asked for: tasks × cpus_per_task */
  cpus?: number;
  [key: string]: unknown;
}


/** SLURM's elapsed-time spelling: M:SS, H:MM:SS, D-HH:MM:SS. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  if (days > 0) return `${days}-${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${sec}`;
  if (h > 0) return `${h}:${String(m).padStart(2, '0')}:${sec}`;
  return `${m}:${sec}`;
}

/** A time limit in minutes as SLURM prints it (infinite, or D-HH:MM:SS). */
export function formatTimeLimit(minutes: number | null): string {
  return minutes === null ? 'infinite' : formatDuration(minutes * 60);
}

export function elapsedSeconds(job: JobView, now: number): number {
  if (!job.start_time) return 0;
  const end = job.end_time ? Date.parse(job.end_time) : now;
  return (end - Date.parse(job.start_time)) / 1000;
}

/** Columns at least as wide as SLURM's default formats make them, wider when a value needs it. */
export function table(rows: string[][], rightAligned: boolean[], minWidths: number[] = []): string {
  const widths = rows[0]!.map((_, i) => Math.max(minWidths[i] ?? 0, ...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) => r.map((cell, i) => (rightAligned[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join(' ').trimEnd())
    .join('\n');
}

/** squeue's default columns: JOBID PARTITION NAME USER ST TIME NODES NODELIST(REASON). */
export function formatSqueue(jobs: JobView[], now: number): string {
  const rows = [['JOBID', 'PARTITION', 'NAME', 'USER', 'ST', 'TIME', 'NODES', 'NODELIST(REASON)']];
  for (const j of jobs) {
    const waiting = j.job_state === 'PENDING' || (j.job_state === 'ALLOCATING' && !j.nodes);
    rows.push([
      String(j.job_id),
      j.partition,
      j.name.slice(0, 8),
      j.user_name.slice(0, 8),
      STATE_CODES[j.job_state as keyof typeof STATE_CODES] ?? j.job_state,
      formatDuration(elapsedSeconds(j, now)),
      String(j.node_count || j.minimum_nodes || 1),
      waiting ? `(${j.state_reason})` : (j.nodes ?? ''),
    ]);
  }
  // squeue's default format: "%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R"
  return table(rows, [true, true, true, true, true, true, true, false], [18, 9, 8, 8, 2, 10, 6, 0]);
}

export interface NodeView {
  name: string;
  state: string;
  partitions: string[];
  cpus: number;
  cpus_allocated: number;
  memory_mib: number;
  memory_allocated_mib: number;
  gpus: number;
  gpus_allocated: number;
  jobs: number[];
}

export interface PartitionView {
  name: string;
  default: boolean;
  state: string;
  max_time: number | null;
  nodes: string;
}

const SINFO_STATE: Record<string, string> = { idle: 'idle', mixed: 'mix', allocated: 'alloc', drained: 'drain', down: 'down' };

/** sinfo's default view: one line per partition and node state. */
export function formatSinfo(partitions: PartitionView[], nodes: NodeView[], compress: (names: string[]) => string): string {
  const rows = [['PARTITION', 'AVAIL', 'TIMELIMIT', 'NODES', 'STATE', 'NODELIST']];
  for (const p of partitions) {
    const byState = new Map<string, string[]>();
    for (const n of nodes.filter((n) => n.partitions.includes(p.name))) {
      const state = SINFO_STATE[n.state] ?? n.state;
      byState.set(state, [...(byState.get(state) ?? []), n.name]);
    }
    for (const [state, names] of byState) {
      rows.push([`${p.name}${p.default ? '*' : ''}`, p.state.toLowerCase(), formatTimeLimit(p.max_time), String(names.length), state, compress(names)]);
    }
  }
  // sinfo's default format: "%#P %.5a %.10l %.6D %.6t %N"
  return table(rows, [false, true, true, true, true, false], [9, 5, 10, 6, 6, 0]);
}

/** sinfo -N -l: one line per node. */
export function formatSinfoNodes(nodes: NodeView[]): string {
  const rows = [['NODELIST', 'PARTITION', 'STATE', 'CPUS(A/T)', 'MEMORY(A/T)', 'GPUS(A/T)', 'JOBS']];
  for (const n of nodes) {
    rows.push([
      n.name,
      n.partitions.join(','),
      SINFO_STATE[n.state] ?? n.state,
      `${n.cpus_allocated}/${n.cpus}`,
      `${n.memory_allocated_mib}/${n.memory_mib}`,
      `${n.gpus_allocated}/${n.gpus}`,
      n.jobs.join(',') || '-',
    ]);
  }
  return table(rows, [false, false, false, true, true, true, false]);
}

export interface JobDetailView extends JobView {
  events: { time: string; from_state: string | null; to_state: string | null; reason: string; actor: string }[];
  allocation: { backend_id: string; nodes: string; node_list: { name: string; cpus: number; memory_mib: number; gpus: number }[] } | null;
  command_line: string[] | null;
  argv: string[];
  runtime: string;
  backend_id: string | null;
  request: Record<string, unknown>;
}

/** scontrol show job: Key=Value lines, then the state history and the nodes. */
export function formatJobDetail(job: JobDetailView, now: number): string {
  const exit = job.exit_code === null ? '-' : `${job.exit_code}:${job.exit_signal ? 1 : 0}`;
  const request = job.request;
  const lines = [
    `JobId=${job.job_id} JobName=${job.name}`,
    `   UserId=${job.user_name} Partition=${job.partition} Runtime=${job.runtime}`,
    `   JobState=${job.job_state} Reason=${job.state_reason} ExitCode=${exit}${job.exit_signal ? ` Signal=${job.exit_signal}` : ''}`,
    `   Requeue=${request['requeue'] === false ? 0 : 1} Restarts=${job.restart_cnt ?? 0}`,
    `   RunTime=${formatDuration(elapsedSeconds(job, now))} TimeLimit=${formatTimeLimit(job.time_limit)}`,
    `   SubmitTime=${job.submit_time} StartTime=${job.start_time ?? 'Unknown'} EndTime=${job.end_time ?? 'Unknown'}`,
    `   NodeList=${job.nodes ?? '(null)'} NumNodes=${job.node_count} BackendId=${job.backend_id ?? '(null)'}`,
    `   Request=${Object.entries(request)
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
      .join(' ')}`,
    `   Command=${job.command_line ? job.command_line.map(shellQuote).join(' ') : '(not started)'}`,
  ];
  if (job.allocation) {
    lines.push('Nodes:');
    for (const n of job.allocation.node_list) lines.push(`   ${n.name} CPUs=${n.cpus} Mem=${n.memory_mib}M GPUs=${n.gpus}`);
  }
  lines.push('Events:');
  for (const e of job.events) {
    const change = e.to_state ? `${e.from_state ?? '-'} -> ${e.to_state}` : '';
    lines.push(`   ${e.time} ${e.actor.padEnd(12)} ${change}${change ? ' ' : ''}${e.reason}`);
  }
  return lines.join('\n');
}

/** Quotes an argv element for display only (nothing is ever run through a shell). */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** scontrol show node: one Key=Value block per node, as scontrol prints them. */
export function formatNodeDetail(n: NodeView & { gpu_type?: string; reason?: string }): string {
  const gres = n.gpus > 0 ? `gpu${n.gpu_type ? `:${n.gpu_type}` : ''}:${n.gpus}` : '(null)';
  return [
    `NodeName=${n.name} CPUAlloc=${n.cpus_allocated} CPUTot=${n.cpus}`,
    `   RealMemory=${n.memory_mib} AllocMem=${n.memory_allocated_mib} Gres=${gres} GresUsed=${n.gpus > 0 ? `gpu:${n.gpus_allocated}` : '(null)'}`,
    `   State=${n.state.toUpperCase()} Partitions=${n.partitions.join(',')}`,
    `   Jobs=${n.jobs.join(',') || '(null)'}${n.reason ? ` Reason=${n.reason}` : ''}`,
  ].join('\n');
}

/** scontrol show partition: one Key=Value block per partition. */
export function formatPartitionDetail(p: PartitionView & { default_time?: number | null; node_count?: number }): string {
  const limit = (m: number | null | undefined) => (m === null || m === undefined ? 'UNLIMITED' : formatDuration(m * 60));
  return [
    `PartitionName=${p.name}`,
    `   Default=${p.default ? 'YES' : 'NO'} State=${p.state.toUpperCase()}`,
    `   MaxTime=${limit(p.max_time)} DefaultTime=${p.default_time === null || p.default_time === undefined ? 'NONE' : limit(p.default_time)}`,
    `   Nodes=${p.nodes} TotalNodes=${p.node_count ?? ''}`.trimEnd(),
  ].join('\n');
}
