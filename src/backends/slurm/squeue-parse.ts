/**
 * Parses `squeue --json` of Slurm 22.05 (openapi v0.0.38: jobs[].job_id, job_state,
 * state_reason, nodes, comment, start_time, end_time, time_limit, job_resources...) into
 * one status per job. Pure.
 *
 * Notes on the 22.05 shape (from captured output, test/slurm/fixtures/):
 *  - times are seconds since the epoch; a pending job's start/end_time are estimates, and a
 *    job without a time limit has time_limit null and a far-future end_time;
 *  - job_resources.allocated_nodes[] lists, per node, the allocated cores per socket and
 *    memory_allocated (MiB); absent while pending;
 *  - exit_code is a raw wait status (15 = killed by SIGTERM, 256 = exit 1);
 *  - gres_detail[] has one "gpu:type:N(IDX:...)" entry per allocated node, in node order.
 */
import { GrmError } from '../../errors.js';
import type { AllocatedNode } from '../resource-backend.js';
import { parseHolderComment } from './holder-job.js';

export type SlurmJobPhase = 'PENDING' | 'RUNNING' | 'ENDED';

export interface SqueueJobStatus {
  slurmJobId: string;
  /** From the comment "grm:<instance>:<id>"; null for jobs that are not GRM holders. */
  grmJobId: number | null;
  /** The GRM instance of the holder (comment "grm:<instance>:<id>"). */
  grmInstance: string | null;
  name: string;
  partition: string;
  /** SLURM's job_state word: PENDING, RUNNING, CANCELLED, TIMEOUT, NODE_FAIL, ... */
  state: string;
  phase: SlurmJobPhase;
  /** SLURM's state_reason (Resources, Priority, None, ...). */
  reason: string;
  /** SLURM's compressed node list ("" while pending). */
  nodeList: string;
  /** Per allocated node; cpus/memory from job_resources when present, else from the job totals. */
  nodes: AllocatedNode[];
  /** ms since epoch; null while pending. */
  startTime: number | null;
  /** ms since epoch; null while pending or when the job has no time limit. */
  endTime: number | null;
  /** minutes; null = UNLIMITED. */
  timeLimitMinutes: number | null;
  /** Raw wait status as SLURM reports it, or null. */
  exitCode: number | null;
}

const PENDING_STATES = new Set(['PENDING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESV_DEL_HOLD']);
const RUNNING_STATES = new Set(['RUNNING', 'SUSPENDED', 'CONFIGURING', 'COMPLETING', 'STOPPED', 'SIGNALING', 'STAGE_OUT']);

/** PENDING / RUNNING / ENDED for a SLURM job_state word (unknown words count as ended). */
export function phaseOf(state: string): SlurmJobPhase {
  const s = state.toUpperCase();
  if (PENDING_STATES.has(s)) return 'PENDING';
  if (RUNNING_STATES.has(s)) return 'RUNNING';
  return 'ENDED';
}

type Json = Record<string, unknown>;

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v);
}

/** "gpu:tesla:2(IDX:0-1)" / "gres:gpu:1" / "gpu:2" → { count, type }. */
export function parseGpuGres(text: string): { count: number; type?: string } {
  let count = 0;
  let type: string | undefined;
  for (const part of text.split(',')) {
    const m = /(?:^|:)gpu(?::([^:(,\s]+))?:(\d+)/.exec(part.trim());
    if (!m) continue;
    count += Number(m[2]);
    if (m[1] !== undefined && !/^\d+$/.test(m[1])) type = m[1];
  }
  return type === undefined ? { count } : { count, type };
}

/** Cores marked allocated in one job_resources.allocated_nodes[] entry. */
function allocatedCores(node: Json): number {
  const sockets = node.sockets;
  if (!sockets || typeof sockets !== 'object') return 0;
  let n = 0;
  for (const socket of Object.values(sockets as Json)) {
    const cores = (socket as Json | null)?.cores;
    if (!cores || typeof cores !== 'object') continue;
    for (const v of Object.values(cores as Json)) if (str(v) !== 'unallocated') n++;
  }
  return n;
}

function allocatedNodes(job: Json, expand: (hostlist: string) => string[]): AllocatedNode[] {
  const nodeList = str(job.nodes);
  if (nodeList === '') return [];
  const names = expand(nodeList);
  const count = names.length || 1;
  const totalCpus = num(job.cpus) ?? 0;
  const memPerNode = num(job.memory_per_node);
  const memPerCpu = num(job.memory_per_cpu);
  const gresDetail = Array.isArray(job.gres_detail) ? job.gres_detail.map(str) : [];
  const perNodeGres = parseGpuGres(str(job.tres_per_node));
  const resources = (job.job_resources as Json | undefined)?.allocated_nodes;
  const byName = new Map<string, Json>();
  if (Array.isArray(resources)) for (const r of resources as Json[]) byName.set(str(r.nodename), r);
  return names.map((name, i) => {
    const r = byName.get(name);
    const cores = r ? allocatedCores(r) : 0;
    const cpus = cores > 0 ? cores : Math.ceil(totalCpus / count);
    const memory =
      num(r?.memory_allocated) ?? memPerNode ?? (memPerCpu !== null ? memPerCpu * cpus : 0);
    const gres = gresDetail[i] !== undefined ? parseGpuGres(gresDetail[i]!) : perNodeGres;
    const node: AllocatedNode = { name, cpus, memoryMiB: memory, gpus: gres.count };
    const type = gres.type ?? perNodeGres.type;
    if (type !== undefined) node.gpuType = type;
    return node;
  });
}

/** One squeue job object → status. */
export function parseSqueueJob(job: Json, expand: (hostlist: string) => string[]): SqueueJobStatus {
  const state = str(job.job_state).toUpperCase();
  const phase = phaseOf(state);
  const timeLimit = num(job.time_limit);
  const start = num(job.start_time);
  const end = num(job.end_time);
  return {
    slurmJobId: String(job.job_id),
    grmJobId: parseHolderComment(str(job.comment))?.jobId ?? null,
    grmInstance: parseHolderComment(str(job.comment))?.instance ?? null,
    name: str(job.name),
    partition: str(job.partition),
    state,
    phase,
    reason: str(job.state_reason) || 'None',
    nodeList: str(job.nodes),
    nodes: phase === 'PENDING' ? [] : allocatedNodes(job, expand),
    startTime: phase !== 'PENDING' && start ? start * 1000 : null,
    endTime: phase === 'ENDED' && end ? end * 1000 : phase === 'RUNNING' && timeLimit !== null && end ? end * 1000 : null,
    timeLimitMinutes: timeLimit,
    exitCode: num(job.exit_code),
  };
}

/**
 * Slurm 22.05's --json commands exit 0 even when slurmctld is down: they print errors[]
 * ("Failed while looking for jobs", source slurm_load_jobs) and an EMPTY jobs[] — which must
 * never be read as "no jobs". Throws E_BACKEND_UNAVAILABLE for slurm_load_* errors,
 * E_BACKEND for others.
 */
export function throwJsonErrors(command: string, doc: Json): void {
  const errors = Array.isArray(doc.errors) ? (doc.errors as Json[]) : [];
  if (errors.length === 0) return;
  const text = errors.map((e) => [str(e.description), str(e.error), str(e.source)].filter(Boolean).join(', ')).join('; ');
  const unavailable = errors.some((e) => /^slurm_load_/.test(str(e.source)) || /contact slurm controller/i.test(str(e.error)));
  throw new GrmError(unavailable ? 'E_BACKEND_UNAVAILABLE' : 'E_BACKEND', `${command} --json: ${text}${unavailable ? ' (slurmctld unreachable?)' : ''}`);
}

/** The whole `squeue --json` output → statuses (every job, GRM holder or not). */
export function parseSqueueJson(text: string, expand: (hostlist: string) => string[]): SqueueJobStatus[] {
  let doc: Json;
  try {
    doc = JSON.parse(text) as Json;
  } catch (e) {
    throw new GrmError('E_BACKEND', `squeue --json printed invalid JSON: ${(e as Error).message}`, { cause: e });
  }
  throwJsonErrors('squeue', doc);
  if (!Array.isArray(doc.jobs)) throw new GrmError('E_BACKEND', 'squeue --json printed no jobs array');
  return (doc.jobs as Json[]).map((j) => parseSqueueJob(j, expand));
}

/** `scontrol show job -o` / `scontrol show partition -o`: one record per line, Key=Value pairs. */
export function parseScontrolRecords(text: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const rec: Record<string, string> = {};
    // Values run until the next " Key=" (some values, like Comment, may hold spaces).
    const re = /(?:^|\s)([A-Za-z][\w:/]*)=/g;
    const keys: { key: string; start: number; valueStart: number }[] = [];
    for (let m = re.exec(line); m; m = re.exec(line)) {
      keys.push({ key: m[1]!, start: m.index, valueStart: m.index + m[0].length });
    }
    keys.forEach((k, i) => {
      const end = i + 1 < keys.length ? keys[i + 1]!.start : line.length;
      rec[k.key] = line.slice(k.valueStart, end).trim();
    });
    out.push(rec);
  }
  return out;
}
