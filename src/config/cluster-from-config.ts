/**
 * Checks of the config that a schema cannot express (hostlists, SLURM time and memory
 * spellings, partitions naming defined nodes, cron expressions) and the simulated cluster
 * spec built from it. Errors name the key and say what is allowed.
 */
import cron from 'node-cron';
import type { SimulatedClusterSpec, SimulatedNodeSpec } from '../backends/simulator/cluster-spec.js';
import { validateClusterSpec } from '../backends/simulator/cluster-spec.js';
import { GrmError, isGrmError } from '../errors.js';
import { expandHostlist } from '../hostlist/hostlist.js';
import { parseMemoryMiB, parseTimeLimit } from '../sbatch/slurm-units.js';
import type { GrmConfig } from './config-schema.js';

function configError(key: string, message: string): GrmError {
  return new GrmError('E_CONFIG_INVALID', `invalid configuration: ${key}: ${message}`, { field: key });
}

function wrap<T>(key: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isGrmError(e)) throw configError(key, e.message);
    throw e;
  }
}

function minutes(key: string, value: string): number | null {
  const limit = wrap(key, () => parseTimeLimit(value, key));
  return limit === 'UNLIMITED' ? null : limit;
}

export function clusterSpecFromConfig(cluster: GrmConfig['cluster']): SimulatedClusterSpec {
  const nodes: SimulatedNodeSpec[] = [];
  cluster.nodes.forEach((group, i) => {
    const key = `cluster.nodes[${i}]`;
    const names = wrap(`${key}.names`, () => expandHostlist(group.names));
    const memoryMiB =
      typeof group.memory === 'number' ? group.memory : wrap(`${key}.memory`, () => parseMemoryMiB(group.memory as string, `${key}.memory`));
    for (const name of names) {
      nodes.push({ name, cpus: group.cpus, memoryMiB, gpus: group.gpus, ...(group.gpuType ? { gpuType: group.gpuType } : {}) });
    }
  });
  const defaults = cluster.partitions.filter((p) => p.default);
  if (defaults.length > 1) throw configError('cluster.partitions', `only one partition may be the default (${defaults.map((p) => p.name).join(', ')} are)`);
  const spec: SimulatedClusterSpec = {
    nodes,
    partitions: cluster.partitions.map((p, i) => {
      const key = `cluster.partitions[${i}]`;
      const partitionNodes = wrap(`${key}.nodes`, () => expandHostlist(p.nodes));
      const unknown = partitionNodes.filter((n) => !nodes.some((node) => node.name === n));
      if (unknown.length) throw configError(`${key}.nodes`, `nodes ${unknown.slice(0, 5).join(', ')} are not defined in cluster.nodes`);
      return {
        name: p.name,
        nodes: partitionNodes,
        default: defaults.length === 0 ? i === 0 : p.default,
        maxTimeMinutes: minutes(`${key}.maxTime`, p.maxTime),
        defaultTimeMinutes: p.defaultTime === undefined ? null : minutes(`${key}.defaultTime`, p.defaultTime),
      };
    }),
  };
  wrap('cluster', () => validateClusterSpec(spec));
  return spec;
}

/** Everything beyond the schema; throws E_CONFIG_INVALID. */
export function checkConfigSemantics(config: GrmConfig): void {
  clusterSpecFromConfig(config.cluster);
  for (const key of ['reconcile', 'retention'] as const) {
    if (!cron.validate(config[key].schedule)) {
      throw configError(`${key}.schedule`, `"${config[key].schedule}" is not a cron expression (e.g. "*/30 * * * * *" or "17 3 * * *")`);
    }
  }
}
