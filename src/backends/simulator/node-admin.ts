/**
 * The simulated cluster's nodes as an admin and sinfo see them: which are drained or down and
 * why (kept across restarts, as slurmctld keeps them), and each node's state and load for
 * `sinfo`/`scontrol show node`. The scheduler reads only `states`; the simulator backend ends
 * the allocations on a node taken down (simulator-backend.ts).
 */
import { GrmError } from '../../errors.js';
import type { NodeInfo } from '../resource-backend.js';
import type { SimulatedClusterSpec } from './cluster-spec.js';
import { UsageTable, type NodeAdminState, type RunningAllocation } from './usage-table.js';

/** Where node states set by an admin are kept across restarts (the store; none: memory only). */
export interface NodeStatePersistence {
  all(): { name: string; state: 'drained' | 'down'; reason: string | null }[];
  set(name: string, state: NodeAdminState, reason: string | null): void;
}

export class NodeAdmin {
  /** Nodes out of service; a node absent is in service ('idle'). */
  readonly states = new Map<string, NodeAdminState>();
  private readonly reasons = new Map<string, string>();
  /** Node name -> the partitions it is in (spec order). */
  private readonly partitionsOf = new Map<string, string[]>();

  constructor(
    private readonly spec: SimulatedClusterSpec,
    private readonly persistence: NodeStatePersistence | undefined,
  ) {
    // a node drained or down before a restart stays so (a node no longer configured is forgotten)
    for (const s of persistence?.all() ?? []) {
      if (!this.has(s.name)) continue;
      this.states.set(s.name, s.state);
      if (s.reason !== null) this.reasons.set(s.name, s.reason);
    }
    for (const p of spec.partitions) {
      for (const n of p.nodes) {
        const list = this.partitionsOf.get(n);
        if (list) list.push(p.name);
        else this.partitionsOf.set(n, [p.name]);
      }
    }
  }

  /**
   * Sets a node's state, written before it is acted on (a restart keeps it): 'drained' or
   * 'down' with an optional reason, 'idle' back in service.
   */
  set(name: string, state: NodeAdminState, reason?: string): void {
    if (!this.has(name)) {
      throw new GrmError('E_REQUEST_INVALID', `Invalid node name specified: ${name} (sinfo -N lists the nodes)`, { field: 'node' });
    }
    this.persistence?.set(name, state, state === 'idle' ? null : (reason ?? null));
    if (state === 'idle') {
      this.states.delete(name);
      this.reasons.delete(name);
    } else {
      this.states.set(name, state);
      if (reason !== undefined) this.reasons.set(name, reason);
      else this.reasons.delete(name);
    }
  }

  /** Why a down node is down (for preflight). */
  downReason(name: string): string | undefined {
    return this.states.get(name) === 'down' ? (this.reasons.get(name) ?? 'node is down') : undefined;
  }

  /** Every node with its state, load and allocations under these running allocations. */
  nodeInfos(running: readonly RunningAllocation[]): NodeInfo[] {
    const usage = UsageTable.build(this.spec, this.states, running);
    const allocationsOf = new Map<string, string[]>();
    for (const a of running) {
      for (const n of a.nodes) {
        const list = allocationsOf.get(n.name);
        if (list) list.push(a.id);
        else allocationsOf.set(n.name, [a.id]);
      }
    }
    return this.spec.nodes.map((node, i) => {
      const u = usage.usage(i);
      const admin = this.states.get(node.name) ?? 'idle';
      const state: NodeInfo['state'] =
        admin !== 'idle' ? admin : u.allocations === 0 ? 'idle' : u.exclusive || u.cpus >= node.cpus ? 'allocated' : 'mixed';
      const info: NodeInfo = {
        name: node.name,
        state,
        partitions: [...(this.partitionsOf.get(node.name) ?? [])],
        cpus: node.cpus,
        cpusAllocated: u.cpus,
        memoryMiB: node.memoryMiB,
        memoryAllocatedMiB: u.memoryMiB,
        gpus: node.gpus,
        gpusAllocated: u.gpus,
        allocations: allocationsOf.get(node.name) ?? [],
      };
      if (node.gpuType !== undefined) info.gpuType = node.gpuType;
      const reason = this.reasons.get(node.name);
      if (reason !== undefined) info.reason = reason;
      return info;
    });
  }

  private has(name: string): boolean {
    return this.spec.nodes.some((n) => n.name === name);
  }
}
