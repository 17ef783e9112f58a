/**
 * The description of the cluster the embedded simulator pretends to be. The config gives one
 * (or the daemon uses defaultClusterSpec()); the simulator never changes it, only the node
 * states (drained/down) and what is allocated.
 */
import { GrmError } from '../../errors.js';

export interface SimulatedNodeSpec {
  name: string;
  cpus: number;
  memoryMiB: number;
  gpus: number;
  gpuType?: string;
  features?: string[];
}

export interface SimulatedPartitionSpec {
  name: string;
  /** Node names (already expanded; no hostlist expressions). */
  nodes: string[];
  default?: boolean;
  /** minutes; null = UNLIMITED */
  maxTimeMinutes: number | null;
  /** minutes given to a job that asks for none; null/absent = maxTimeMinutes (SLURM's DefaultTime) */
  defaultTimeMinutes?: number | null;
  /** absent = UP */
  state?: 'UP' | 'DOWN';
}

export interface SimulatedClusterSpec {
  nodes: SimulatedNodeSpec[];
  partitions: SimulatedPartitionSpec[];
}

/**
 * Partition `batch` (default, MaxTime=UNLIMITED) over node01..node08, 4 CPUs and 16 GiB each,
 * no GPUs.
 *
 * Why UNLIMITED rather than 24h: it is SLURM's own default for a partition without MaxTime,
 * and GRM's jobs (distributed training runs) are ended by the GRM when they finish, so a limit
 * invented by the simulator would kill long runs the user never bounded. A job that gives
 * --time still gets it enforced, and only such jobs can backfill.
 */
export function defaultClusterSpec(): SimulatedClusterSpec {
  const nodes: SimulatedNodeSpec[] = [];
  for (let i = 1; i <= 8; i++) {
    nodes.push({ name: `node${String(i).padStart(2, '0')}`, cpus: 4, memoryMiB: 16384, gpus: 0 });
  }
  return {
    nodes,
    partitions: [
      {
        name: 'batch',
        nodes: nodes.map((n) => n.name),
        default: true,
        maxTimeMinutes: null,
        defaultTimeMinutes: null,
        state: 'UP',
      },
    ],
  };
}

/**
 * Checks that a spec is coherent (unique names, partitions name known nodes, sane numbers).
 * Throws GrmError E_CONFIG_INVALID naming the first problem.
 */
export function validateClusterSpec(spec: SimulatedClusterSpec): void {
  const bad = (message: string, field: string): never => {
    throw new GrmError('E_CONFIG_INVALID', `simulator cluster: ${message}`, { field });
  };
  if (spec.nodes.length === 0) bad('no nodes are defined', 'nodes');
  if (spec.partitions.length === 0) bad('no partitions are defined', 'partitions');
  const names = new Set<string>();
  for (const n of spec.nodes) {
    if (!n.name) bad('a node has no name', 'nodes');
    if (names.has(n.name)) bad(`node ${n.name} is defined twice`, 'nodes');
    names.add(n.name);
    if (!Number.isInteger(n.cpus) || n.cpus < 1) bad(`node ${n.name}: cpus must be an integer >= 1`, 'nodes');
    if (!Number.isInteger(n.memoryMiB) || n.memoryMiB < 1) {
      bad(`node ${n.name}: memoryMiB must be an integer >= 1`, 'nodes');
    }
    if (!Number.isInteger(n.gpus) || n.gpus < 0) bad(`node ${n.name}: gpus must be an integer >= 0`, 'nodes');
  }
  const partNames = new Set<string>();
  let defaults = 0;
  for (const p of spec.partitions) {
    if (!p.name) bad('a partition has no name', 'partitions');
    if (partNames.has(p.name)) bad(`partition ${p.name} is defined twice`, 'partitions');
    partNames.add(p.name);
    if (p.default) defaults++;
    if (p.nodes.length === 0) bad(`partition ${p.name} has no nodes`, 'partitions');
    const seen = new Set<string>();
    for (const n of p.nodes) {
      if (!names.has(n)) bad(`partition ${p.name} names unknown node ${n}`, 'partitions');
      if (seen.has(n)) bad(`partition ${p.name} lists node ${n} twice`, 'partitions');
      seen.add(n);
    }
    for (const [key, v] of [
      ['maxTimeMinutes', p.maxTimeMinutes],
      ['defaultTimeMinutes', p.defaultTimeMinutes ?? null],
    ] as const) {
      if (v !== null && (!Number.isInteger(v) || v < 1)) {
        bad(`partition ${p.name}: ${key} must be an integer >= 1 or null (UNLIMITED)`, 'partitions');
      }
    }
    const def = p.defaultTimeMinutes ?? null;
    if (def !== null && p.maxTimeMinutes !== null && def > p.maxTimeMinutes) {
      bad(`partition ${p.name}: defaultTimeMinutes exceeds maxTimeMinutes`, 'partitions');
    }
  }
  if (defaults > 1) bad('more than one partition is marked default', 'partitions');
}

/** The default partition: the one marked default, else the first (as slurmctld does). */
export function defaultPartition(spec: SimulatedClusterSpec): SimulatedPartitionSpec | undefined {
  return spec.partitions.find((p) => p.default) ?? spec.partitions[0];
}

/** The partition a request names; an empty name means the default partition. */
export function findPartition(spec: SimulatedClusterSpec, name: string): SimulatedPartitionSpec | undefined {
  if (name === '') return defaultPartition(spec);
  return spec.partitions.find((p) => p.name === name);
}

/**
 * The time limit a job runs under, in minutes (null = none): its own, else the partition's
 * DefaultTime, else the partition's MaxTime. ResourceRequest's null ("UNLIMITED") is bounded
 * by the partition this way; 0 is treated like null.
 */
export function effectiveTimeLimit(
  partition: SimulatedPartitionSpec,
  requested: number | null,
): number | null {
  if (requested !== null && requested > 0) return requested;
  return partition.defaultTimeMinutes ?? partition.maxTimeMinutes;
}
