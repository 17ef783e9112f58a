/**
 * What sinfo and `scontrol show partition` say, reused for a few seconds: every submission is
 * checked against them (validate), and that is not worth two RPCs to slurmctld each. A failed
 * read is not kept: the next caller asks again.
 */
import { expandHostlist } from '../../hostlist/hostlist.js';
import type { NodeInfo } from '../resource-backend.js';
import { parseScontrolPartitions, parseSinfoJson, type ScontrolPartition } from './sinfo-parse.js';
import type { SlurmCommands } from './slurm-commands.js';

interface Cached<T> {
  at: number;
  value: Promise<T>;
}

export class SlurmInfoCache {
  private partitionCache: Cached<ScontrolPartition[]> | undefined;
  private nodeCache: Cached<NodeInfo[]> | undefined;

  constructor(
    private readonly commands: SlurmCommands,
    private readonly ttlMs: number,
  ) {}

  /** The partitions, at most ttlMs old. */
  partitions(): Promise<ScontrolPartition[]> {
    const c = this.partitionCache;
    if (c && Date.now() - c.at < this.ttlMs) return c.value;
    const value = this.commands.showPartitions().then((t) => parseScontrolPartitions(t, expandHostlist));
    this.partitionCache = { at: Date.now(), value };
    value.catch(() => (this.partitionCache = undefined));
    return value;
  }

  /** The nodes, at most ttlMs old (shared: not to be changed by the caller). */
  nodes(): Promise<NodeInfo[]> {
    const c = this.nodeCache;
    return c && Date.now() - c.at < this.ttlMs ? c.value : this.freshNodes();
  }

  /** The nodes now (a copy the caller may change); the cache takes them too. */
  freshNodes(): Promise<NodeInfo[]> {
    const value = this.commands.sinfoJson().then(parseSinfoJson);
    this.nodeCache = { at: Date.now(), value };
    value.catch(() => (this.nodeCache = undefined));
    return value.then((nodes) => structuredClone(nodes));
  }
}
