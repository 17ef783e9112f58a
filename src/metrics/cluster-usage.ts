/**
 * The cluster's nodes, CPUs and GPUs as the SLURM exporters count them (sinfo's A/I/O/T):
 * allocated, idle (free on a node that can take work), other (free on a drained or down
 * node: there, but unusable), total. Pure: fed by the backend's node list.
 */
import type { NodeInfo, NodeState } from '../backends/resource-backend.js';

export const NODE_STATES: readonly NodeState[] = ['idle', 'mixed', 'allocated', 'drained', 'down'];

export interface ResourceCounts {
  total: number;
  allocated: number;
  idle: number;
  other: number;
}

export interface ClusterUsage {
  nodesByState: Record<NodeState, number>;
  cpus: ResourceCounts;
  gpus: ResourceCounts;
}

const UNUSABLE: ReadonlySet<NodeState> = new Set(['drained', 'down']);

export function clusterUsage(nodes: readonly NodeInfo[]): ClusterUsage {
  const nodesByState = Object.fromEntries(NODE_STATES.map((s) => [s, 0])) as Record<NodeState, number>;
  const cpus: ResourceCounts = { total: 0, allocated: 0, idle: 0, other: 0 };
  const gpus: ResourceCounts = { total: 0, allocated: 0, idle: 0, other: 0 };
  for (const node of nodes) {
    nodesByState[node.state]++;
    add(cpus, node.cpus, node.cpusAllocated, UNUSABLE.has(node.state));
    add(gpus, node.gpus, node.gpusAllocated, UNUSABLE.has(node.state));
  }
  return { nodesByState, cpus, gpus };
}

function add(counts: ResourceCounts, total: number, allocated: number, unusable: boolean): void {
  // a drained node may still run the jobs it had: those stay allocated
  const used = Math.min(allocated, total);
  counts.total += total;
  counts.allocated += used;
  if (unusable) counts.other += total - used;
  else counts.idle += total - used;
}
