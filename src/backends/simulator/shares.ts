/**
 * What an allocation holds on a node, PURE: the one rule for a job's share of a node's CPUs,
 * memory and GPUs (task-capacity.ts says how many tasks fit; this, what they take), for
 * placements (placement.ts), the live usage (cluster-state.ts) and the outlooks
 * (availability.ts, outlook-upkeep.ts).
 */
import type { ResourceRequest } from '../resource-backend.js';
import { defaultMemPerCpuMiB, explicitMemPerCpu } from '../task-capacity.js';
import type { SimulatedNodeSpec } from './cluster-spec.js';
import type { Share, UsageTable } from './usage-table.js';

/**
 * What a request's share of a node depends on besides the node, worked out once for the many
 * nodes a start, an end or an outlook goes over (shareWith).
 */
export interface ShareTerms {
  exclusive: boolean;
  cpusPerTask: number;
  gpusPerNode: number;
  /** The per-node memory asked for; 0: none. */
  memPerNode: number;
  /** The per-CPU memory asked for; 0: none (with no per-node memory either: the node's default share). */
  memPerCpu: number;
}

/** The request's ShareTerms, written into `out` (a new object when none is given). */
export function shareTerms(req: ResourceRequest, out?: ShareTerms): ShareTerms {
  const perNode = req.memoryPerNodeMiB ?? 0;
  const t = out ?? { exclusive: false, cpusPerTask: 0, gpusPerNode: 0, memPerNode: 0, memPerCpu: 0 };
  t.exclusive = req.exclusive;
  t.cpusPerTask = req.cpusPerTask;
  t.gpusPerNode = req.gpusPerNode;
  t.memPerNode = perNode > 0 ? perNode : 0;
  t.memPerCpu = explicitMemPerCpu(req) ?? 0;
  return t;
}

/** The memory a shared job's `cpus` CPUs take on a node whose default per-CPU memory is memPerCpu. */
export function sharedMemory(terms: ShareTerms, cpus: number, memPerCpu: number): number {
  return terms.memPerNode > 0 ? terms.memPerNode : cpus * (terms.memPerCpu > 0 ? terms.memPerCpu : memPerCpu);
}

/**
 * The resources one node gives a job that runs `tasks` tasks on it, written into `out` (the
 * scheduler checks many placements it never starts: no object per node for those).
 * `memPerCpu`: the node's default per-CPU memory (defaultMemPerCpuMiB; UsageTable has it by node).
 */
export function shareWith(terms: ShareTerms, node: SimulatedNodeSpec, memPerCpu: number, tasks: number, out: Share): Share {
  if (terms.exclusive) {
    out.cpus = node.cpus;
    out.gpus = node.gpus;
    const perCpu = terms.memPerCpu > 0 ? Math.min(node.memoryMiB, node.cpus * terms.memPerCpu) : node.memoryMiB;
    out.memoryMiB = terms.memPerNode > 0 ? terms.memPerNode : perCpu;
  } else {
    out.cpus = tasks * terms.cpusPerTask;
    out.gpus = terms.gpusPerNode;
    out.memoryMiB = sharedMemory(terms, out.cpus, memPerCpu);
  }
  return out;
}

/** shareWith for a request and a node spec. */
export function shareOf(req: ResourceRequest, node: SimulatedNodeSpec, tasks: number, out: Share): Share {
  return shareWith(shareTerms(req, scratchTerms), node, defaultMemPerCpuMiB(node), tasks, out);
}

const scratchTerms = shareTerms({ exclusive: false, cpusPerTask: 1, gpusPerNode: 0 } as ResourceRequest);

/**
 * What an allocation holds on each of its nodes: given (`nodes`, an allocation from outside
 * such as the live backend's), or else its request's share (`terms`) on `tasks[k]` tasks,
 * computed when read (shareWith): a replay starts millions of node shares and keeps no object
 * per node.
 */
export interface Shares {
  readonly nodes: readonly Share[] | null;
  readonly terms: ShareTerms | null;
  readonly tasks: readonly number[] | null;
}

/**
 * The share of the k-th node of an allocation, node i of table t. A computed one is written
 * into one reused object: read it before the next call (every caller applies it at once).
 */
export function shareAt(a: Shares, k: number, t: UsageTable, i: number): Share {
  return a.nodes !== null ? a.nodes[k]! : shareWith(a.terms!, t.specs[i]!, t.defaultMemPerCpu[i]!, a.tasks![k]!, computedShare);
}

const computedShare: Share = { cpus: 0, memoryMiB: 0, gpus: 0 };
