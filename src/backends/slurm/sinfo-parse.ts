/**
 * Nodes from `sinfo --json` and partitions from `scontrol show partition -o` (Slurm 22.05:
 * its `sinfo --json` has nodes[] but no partitions). Pure.
 *
 * Node states: sinfo --json gives the base state in lower case ("idle", "mixed",
 * "allocated", "down", "unknown", ...) and the flags apart (state_flags: ["DRAIN"],
 * ["NOT_RESPONDING"], ...). The text form of `sinfo -N -o %T|%t` folds them into one word
 * ("idle*", "drained", "drain", "down*", "alloc", "mix~"); nodeStateFromSlurm accepts both.
 */
import { GrmError } from '../../errors.js';
import type { FitPartition } from '../request-fit.js';
import type { NodeInfo, NodeState, PartitionInfo } from '../resource-backend.js';
import { parseGpuGres, parseScontrolRecords, parseSlurmMinutes, throwJsonErrors } from './squeue-parse.js';

type Json = Record<string, unknown>;

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}
function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/**
 * A SLURM node state word (with or without its flags and suffix characters *~#!%$@^-) → NodeState.
 * DRAIN/DRAINING/DRAINED → drained (down wins over drain); FAIL → drained; unknown, future,
 * not-responding idle-less states → down.
 */
export function nodeStateFromSlurm(state: string, flags: string[] = []): NodeState {
  const words = state
    .toUpperCase()
    .split('+')
    .map((w) => w.replace(/[*~#!%$@^\-]+$/, ''));
  const all = new Set([...words, ...flags.map((f) => f.toUpperCase())]);
  if (all.has('DOWN') || all.has('UNKNOWN') || all.has('FUTURE') || all.has('UNK') || all.has('FUTR')) return 'down';
  if (all.has('DRAIN') || all.has('DRAINED') || all.has('DRAINING') || all.has('DRNG') || all.has('DRNG') || all.has('FAIL') || all.has('FAILING')) {
    return 'drained';
  }
  if (all.has('MIXED') || all.has('MIX')) return 'mixed';
  if (all.has('ALLOCATED') || all.has('ALLOC') || all.has('COMPLETING') || all.has('COMP')) return 'allocated';
  if (all.has('IDLE')) return 'idle';
  return 'down';
}

/** `sinfo --json` → NodeInfo[] (allocations left empty: the caller fills them from squeue). */
export function parseSinfoJson(text: string): NodeInfo[] {
  let doc: Json;
  try {
    doc = JSON.parse(text) as Json;
  } catch (e) {
    throw new GrmError('E_BACKEND', `sinfo --json printed invalid JSON: ${(e as Error).message}`, { cause: e });
  }
  throwJsonErrors('sinfo', doc);
  if (!Array.isArray(doc.nodes)) throw new GrmError('E_BACKEND', 'sinfo --json printed no nodes array');
  const seen = new Set<string>();
  const out: NodeInfo[] = [];
  for (const n of doc.nodes as Json[]) {
    const name = str(n.name);
    if (name === '' || seen.has(name)) continue;
    seen.add(name);
    const flags = Array.isArray(n.state_flags) ? (n.state_flags as unknown[]).map(String) : [];
    const gres = parseGpuGres(str(n.gres));
    const used = parseGpuGres(str(n.gres_used));
    const info: NodeInfo = {
      name,
      state: nodeStateFromSlurm(str(n.state), flags),
      partitions: Array.isArray(n.partitions) ? (n.partitions as unknown[]).map(String) : [],
      cpus: num(n.cpus),
      cpusAllocated: num(n.alloc_cpus),
      memoryMiB: num(n.real_memory),
      memoryAllocatedMiB: num(n.alloc_memory),
      gpus: gres.count,
      gpusAllocated: used.count,
      allocations: [],
    };
    if (gres.type !== undefined) info.gpuType = gres.type;
    const reason = str(n.reason);
    if (reason !== '') info.reason = reason;
    out.push(info);
  }
  return out;
}

export interface ScontrolPartition extends PartitionInfo {
  /** Nodes expression as SLURM gives it (e.g. "node[1-4]"). */
  nodeList: string;
  /** MaxNodes; null = UNLIMITED. */
  maxNodes: number | null;
  totalNodes: number;
}

/** `scontrol show partition -o` → partitions (node names expanded with `expand`). */
export function parseScontrolPartitions(text: string, expand: (hostlist: string) => string[]): ScontrolPartition[] {
  return parseScontrolRecords(text)
    .filter((r) => r.PartitionName)
    .map((r) => {
      const nodeList = r.Nodes && r.Nodes !== '(null)' ? r.Nodes : '';
      const nodes = nodeList ? expand(nodeList) : [];
      const maxNodes = r.MaxNodes && /^\d+$/.test(r.MaxNodes) ? Number(r.MaxNodes) : null;
      return {
        name: r.PartitionName!,
        isDefault: r.Default === 'YES',
        maxTimeMinutes: parseSlurmMinutes(r.MaxTime),
        defaultTimeMinutes: parseSlurmMinutes(r.DefaultTime),
        nodes,
        state: r.State === 'UP' ? 'UP' : 'DOWN',
        nodeList,
        maxNodes,
        totalNodes: r.TotalNodes && /^\d+$/.test(r.TotalNodes) ? Number(r.TotalNodes) : nodes.length,
      } satisfies ScontrolPartition;
    });
}

/**
 * The partition a request names (empty = the default one, as sbatch without -p) as the shared
 * fit check reads it: limits from scontrol, each member node's hardware from sinfo (every
 * node, whatever its state: SLURM queues jobs for drained nodes). Undefined when unknown.
 */
export function slurmFitPartition(partitions: readonly ScontrolPartition[], nodes: readonly NodeInfo[], name: string): FitPartition | undefined {
  const p = name === '' ? partitions.find((x) => x.isDefault) : partitions.find((x) => x.name === name);
  if (!p) return undefined;
  const byName = new Map(nodes.map((n) => [n.name, n]));
  return {
    name: p.name,
    nodes: p.nodes.map((n) => byName.get(n)).filter((n): n is NodeInfo => n !== undefined),
    maxTimeMinutes: p.maxTimeMinutes,
    maxNodesPerJob: p.maxNodes,
    totalNodes: p.totalNodes,
  };
}
