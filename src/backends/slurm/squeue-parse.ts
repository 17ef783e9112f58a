/**
 * Parses what GRM reads of SLURM 22.05's jobs, pure:
 * - `squeue -h -t all -o SQUEUE_STATUS_FORMAT`: the poll, every job's state, one line each,
 *   with no free-text field (a comment or a name may hold a newline, and so forge a line);
 * - `squeue -h -t all -o SQUEUE_HOLDER_FORMAT`: which jobs are GRM holders, by their comment,
 *   printed last; an id seen twice (a forged line) is dropped, never trusted;
 * - `scontrol show job -d -o ID`: a granted holder's nodes, CPUs, memory and GPUs per node.
 * Text output, not `--json`: 22.05's squeue --json ignores -j/-t, costs ~125 ms for 600 jobs
 * against ~15 ms for these lines, and grows with every job the controller remembers.
 *
 * Notes on the 22.05 text (from captured output, test/slurm/fixtures/):
 *  - times are the controller's local time without a zone ("2026-12-07T10:05:03"), "N/A" or
 *    "Unknown" when there is none; a pending job's start/end are estimates;
 *  - time limits are "[days-]hours:minutes:seconds", "minutes:seconds" or "UNLIMITED";
 *  - scontrol's detail groups nodes with the same layout: "Nodes=node[1-2] CPU_IDs=0 Mem=1000
 *    GRES=gpu:tesla:1(IDX:0)", and ExitCode is "status:signal".
 */
import { GrmError } from '../../errors.js';
import type { AllocatedNode } from '../resource-backend.js';
import { parseHolderComment } from './holder-job.js';

export type SlurmJobPhase = 'PENDING' | 'RUNNING' | 'ENDED';

/** id, state, reason, partition, nodes, start, end, time limit, CPUs, node count, user id. */
export const SQUEUE_STATUS_FORMAT = '%i|%T|%r|%P|%N|%S|%e|%l|%C|%D|%U';
/**
 * id, state, priority, oversubscribe: what the start forecast needs of a waiting job beyond
 * the status line: the order SLURM's schedulers take it in, and whether it wants whole nodes
 * ("NO": --exclusive; its CPU count then shows what it asked, not the nodes it will hold).
 */
export const SQUEUE_WAITING_FORMAT = '%i|%T|%Q|%h';
/** id, state, user id, then the comment (last: it may hold "|"). */
export const SQUEUE_HOLDER_FORMAT = '%i|%T|%U|%k';

export interface SqueueJobStatus {
  slurmJobId: string;
  partition: string;
  /** SLURM's job_state word: PENDING, RUNNING, CANCELLED, TIMEOUT, NODE_FAIL, ... */
  state: string;
  phase: SlurmJobPhase;
  /** SLURM's state_reason (Resources, Priority, None, ...). */
  reason: string;
  /** SLURM's compressed node list ("" while pending). */
  nodeList: string;
  /** Per allocated node, the job's CPUs split evenly (scontrol's detail has the real split). */
  nodes: AllocatedNode[];
  /** ms since epoch; null while pending. */
  startTime: number | null;
  /** ms since epoch; null while pending or when the job has no time limit. */
  endTime: number | null;
  /** minutes; null = UNLIMITED. */
  timeLimitMinutes: number | null;
  /** The job's owner. */
  uid: number;
  /** CPUs it has (running) or asks for (pending). */
  cpus: number;
  /** Nodes it has or asks for. */
  nodeCount: number;
}

/** A GRM holder found by its comment. */
export interface SqueueHolder {
  slurmJobId: string;
  state: string;
  phase: SlurmJobPhase;
  uid: number;
  grmInstance: string;
  grmJobId: number;
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

/**
 * Slurm 22.05's --json commands (sinfo) exit 0 even when slurmctld is down: they print errors[]
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

/** "2026-12-07T10:05:03" (the controller's local time) → ms; null for N/A, Unknown, None. */
export function parseSlurmTime(text: string): number | null {
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(text)) return null;
  const ms = new Date(text).getTime(); // no zone: local time, as squeue printed it
  return Number.isFinite(ms) ? ms : null;
}

/** "UNLIMITED"/"INFINITE"/"NONE" → null; "[days-]hh:mm:ss", "mm:ss", "mm" → minutes. */
export function parseSlurmMinutes(value: string | undefined): number | null {
  if (value === undefined) return null;
  const v = value.trim().toUpperCase();
  if (v === '' || v === 'UNLIMITED' || v === 'INFINITE' || v === 'NONE' || v === 'N/A') return null;
  const m = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/.exec(v);
  if (!m) return null;
  const days = Number(m[1] ?? 0);
  const parts = [m[2], m[3], m[4]].filter((p): p is string => p !== undefined).map(Number);
  let minutes: number;
  if (m[1] !== undefined) {
    // days-hours[:minutes[:seconds]]
    const [h = 0, mi = 0, s = 0] = parts;
    minutes = days * 1440 + h * 60 + mi + s / 60;
  } else if (parts.length === 3) {
    const [h = 0, mi = 0, s = 0] = parts;
    minutes = h * 60 + mi + s / 60;
  } else if (parts.length === 2) {
    const [mi = 0, s = 0] = parts;
    minutes = mi + s / 60;
  } else {
    minutes = parts[0] ?? 0;
  }
  return Math.ceil(minutes);
}

/** The poll's lines → statuses. Lines of another shape (a forged one) are skipped. */
export function parseSqueueStatus(text: string, expand: (hostlist: string) => string[]): SqueueJobStatus[] {
  const out: SqueueJobStatus[] = [];
  for (const line of text.split('\n')) {
    const f = line.split('|');
    if (f.length !== 11 || !/^\d+$/.test(f[0]!) || !/^\d+$/.test(f[10]!)) continue;
    const [id, stateWord, reason, partition, nodeList, start, end, limit, cpus, nodeCount] = f as [string, string, string, string, string, string, string, string, string, string];
    const state = stateWord.toUpperCase();
    const phase = phaseOf(state);
    const names = phase === 'PENDING' || nodeList === '' ? [] : expand(nodeList);
    const perNode = names.length > 0 ? Math.ceil(Number(cpus) / (Number(nodeCount) || names.length)) : 0;
    const timeLimit = parseSlurmMinutes(limit);
    const endTime = parseSlurmTime(end);
    out.push({
      slurmJobId: id,
      partition,
      state,
      phase,
      reason: reason === '' || reason === '(null)' ? 'None' : reason,
      nodeList: phase === 'PENDING' ? '' : nodeList,
      nodes: names.map((name) => ({ name, cpus: perNode, memoryMiB: 0, gpus: 0 })),
      startTime: phase === 'PENDING' ? null : parseSlurmTime(start),
      endTime: phase === 'ENDED' || (phase === 'RUNNING' && timeLimit !== null) ? endTime : null,
      timeLimitMinutes: timeLimit,
      uid: Number(f[10]),
      cpus: Number(cpus) || 0,
      nodeCount: Number(nodeCount) || 0,
    });
  }
  return out;
}

/** A waiting job's place in SLURM's order, and whether it wants whole nodes. */
export interface SqueueWaiting {
  priority: number;
  exclusive: boolean;
}

/** The SQUEUE_WAITING_FORMAT lines → the waiting jobs by SLURM job id (other lines are skipped). */
export function parseSqueueWaiting(text: string): Map<string, SqueueWaiting> {
  const out = new Map<string, SqueueWaiting>();
  for (const line of text.split('\n')) {
    const m = /^(\d+)\|([A-Z_]+)\|(\d+)\|([A-Z:]+)$/.exec(line.trim());
    if (m && phaseOf(m[2]!) === 'PENDING') out.set(m[1]!, { priority: Number(m[3]), exclusive: m[4] === 'NO' });
  }
  return out;
}

/** The holder lines → GRM holders; a job id printed twice (a comment that forged a line) is dropped. */
export function parseSqueueHolders(text: string): SqueueHolder[] {
  const seen = new Map<string, SqueueHolder | null>();
  for (const line of text.split('\n')) {
    const m = /^(\d+)\|([A-Z_]+)\|(\d+)\|(.*)$/.exec(line);
    if (!m) continue;
    const [, id, state, uid, comment] = m as unknown as [string, string, string, string, string];
    if (seen.has(id)) {
      seen.set(id, null);
      continue;
    }
    const holder = parseHolderComment(comment);
    seen.set(id, holder ? { slurmJobId: id, state, phase: phaseOf(state), uid: Number(uid), grmInstance: holder.instance, grmJobId: holder.jobId } : null);
  }
  return [...seen.values()].filter((h): h is SqueueHolder => h !== null);
}

/** "0-1,4,6-7" → 5. */
function countIds(list: string): number {
  let n = 0;
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (m) n += m[2] === undefined ? 1 : Number(m[2]) - Number(m[1]) + 1;
  }
  return n;
}

/** A job's detail (`scontrol show job -d -o ID`): nodes with their CPUs, memory (MiB), GPUs; exit code. */
export function parseJobDetail(text: string, expand: (hostlist: string) => string[]): { nodes: AllocatedNode[]; exitStatus: number | null } {
  const line = text.split('\n').find((l) => /^JobId=\d+/.test(l)) ?? '';
  if (line === '') throw new GrmError('E_BACKEND', `scontrol show job printed no job: ${JSON.stringify(text.slice(0, 200))}`);
  const nodes: AllocatedNode[] = [];
  const re = /(?:^|\s)Nodes=(\S+) CPU_IDs=(\S+) Mem=(\d+) GRES=(\S*)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    const gres = parseGpuGres(m[4]!);
    for (const name of expand(m[1]!)) {
      const node: AllocatedNode = { name, cpus: countIds(m[2]!), memoryMiB: Number(m[3]), gpus: gres.count };
      if (gres.type !== undefined) node.gpuType = gres.type;
      nodes.push(node);
    }
  }
  const exit = /(?:^|\s)ExitCode=(\d+):(\d+)/.exec(line);
  return { nodes, exitStatus: exit ? Number(exit[1]) * 256 + Number(exit[2]) : null };
}
