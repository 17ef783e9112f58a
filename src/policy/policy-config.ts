/**
 * The `policy` section of the configuration, resolved into what the policy's functions take:
 * SLURM time spellings turned into ms or minutes, the QOS list into a map, every cross-reference
 * checked (accounts' parents, users' accounts, QOS preempt lists and their loops, the default
 * QOS). Errors are E_CONFIG_INVALID naming the key, as the config loader's are.
 */
import type { GrmConfig } from '../config/config-schema.js';
import { GrmError, isGrmError } from '../errors.js';
import { parseTimeLimit } from '../sbatch/slurm-units.js';
import { AccountTree, type AccountTreeSpec } from './account-tree.js';
import type { PrioritySettings } from './priority.js';
import type { AssocLimits, QosDefinition, QosLimits } from './policy-types.js';

export type PolicySection = GrmConfig['policy'];

export interface PolicyConfig {
  priority: PrioritySettings;
  /** PriorityDecayHalfLife, ms; 0 = no decay */
  halfLifeMs: number;
  /** FairShareDampeningFactor */
  fairShareDampening: number;
  /** The account tree as configured; build an AccountTree from it (buildAccountTree). */
  tree: AccountTreeSpec;
  qos: Map<string, QosDefinition>;
  /** The QOS of jobs that ask for none. */
  defaultQos: string | undefined;
  admission: { queueDepth: number; scanLimit: number; lookAhead: number };
}

const MINUTE_MS = 60_000;

function invalid(key: string, message: string): GrmError {
  return new GrmError('E_CONFIG_INVALID', `invalid configuration: ${key}: ${message}`, { field: key });
}

/** A SLURM time spelling in minutes; null for UNLIMITED (and "0", which SLURM reads so). */
function minutes(key: string, value: string): number | null {
  try {
    const m = parseTimeLimit(value, key);
    return m === 'UNLIMITED' ? null : m;
  } catch (e) {
    if (isGrmError(e)) throw invalid(key, `"${value}" is not a SLURM time (minutes, hours:minutes:seconds, days-hours[:minutes[:seconds]], or UNLIMITED)`);
    throw e;
  }
}

/** Resolves the section; `queueDepth` is scheduler.queueDepth, used when the section sets none. */
export function resolvePolicyConfig(section: PolicySection, fallback: { queueDepth: number }): PolicyConfig {
  const maxAge = minutes('policy.maxAge', section.maxAge);
  if (maxAge === null) throw invalid('policy.maxAge', `"${section.maxAge}" must be a finite time, e.g. "7-0" (7 days)`);
  const halfLife = minutes('policy.decayHalfLife', section.decayHalfLife);
  const qos = resolveQosList(section.qos);
  if (section.defaultQos !== '' && !qos.has(section.defaultQos)) throw invalid('policy.defaultQos', `QOS "${section.defaultQos}" is not defined in policy.qos`);
  const tree: AccountTreeSpec = {
    accounts: section.accounts.map((a, i) => ({ name: a.name, parent: a.parent, shares: a.shares, limits: assocLimits(`policy.accounts[${i}].limits`, a.limits) })),
    users: section.users.map((u, i) => ({ name: u.name, account: u.account, shares: u.shares, limits: assocLimits(`policy.users[${i}].limits`, u.limits) })),
    defaultAccount: section.defaultAccount,
    defaultShares: section.defaultShares,
  };
  new AccountTree(tree); // checks parents, loops and users' accounts now, at load
  return {
    priority: {
      weights: { ...section.weights },
      maxAgeMs: maxAge * MINUTE_MS,
      favorSmall: section.favorSmall,
      partitionFactors: new Map(Object.entries(section.partitions)),
      qosPriorities: new Map([...qos.values()].map((q) => [q.name, q.priority])),
    },
    halfLifeMs: halfLife === null ? 0 : halfLife * MINUTE_MS,
    fairShareDampening: section.fairShareDampening,
    tree,
    qos,
    defaultQos: section.defaultQos === '' ? undefined : section.defaultQos,
    admission: { queueDepth: section.queueDepth ?? fallback.queueDepth, scanLimit: section.scanLimit, lookAhead: section.lookAhead },
  };
}

/** A fresh account tree of the configuration (users made on first sight are added to it). */
export function buildAccountTree(config: PolicyConfig): AccountTree {
  return new AccountTree(config.tree);
}

function resolveQosList(list: PolicySection['qos']): Map<string, QosDefinition> {
  const map = new Map<string, QosDefinition>();
  list.forEach((q, i) => {
    if (map.has(q.name)) throw invalid(`policy.qos[${i}].name`, `QOS "${q.name}" is defined twice`);
    map.set(q.name, {
      name: q.name,
      priority: q.priority,
      limits: qosLimits(`policy.qos[${i}].limits`, q.limits),
      preempt: [...q.preempt],
      preemptMode: q.preemptMode,
      graceSeconds: q.graceSeconds,
      denyOnLimit: q.denyOnLimit,
    });
  });
  list.forEach((q, i) => {
    for (const name of q.preempt) if (!map.has(name)) throw invalid(`policy.qos[${i}].preempt`, `QOS "${name}" is not defined in policy.qos`);
  });
  const loop = preemptionLoop(map);
  if (loop) throw invalid('policy.qos', `QOS Preemption loop detected (${loop.join(' -> ')})`);
  return map;
}

/** A cycle in the Preempt= graph (SLURM refuses them: ESLURM_QOS_PREEMPTION_LOOP), or null. */
function preemptionLoop(map: ReadonlyMap<string, QosDefinition>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): string[] | null => {
    if (state.get(name) === 'done') return null;
    if (state.get(name) === 'open') return [...path.slice(path.indexOf(name)), name];
    state.set(name, 'open');
    path.push(name);
    for (const next of map.get(name)!.preempt) {
      const loop = visit(next);
      if (loop) return loop;
    }
    path.pop();
    state.set(name, 'done');
    return null;
  };
  for (const name of map.keys()) {
    const loop = visit(name);
    if (loop) return loop;
  }
  return null;
}

function assocLimits(key: string, raw: PolicySection['accounts'][number]['limits']): AssocLimits {
  const { maxWall, ...counts } = raw;
  return withWall<AssocLimits>(key, counts, maxWall);
}

function qosLimits(key: string, raw: PolicySection['qos'][number]['limits']): QosLimits {
  const { maxWall, ...counts } = raw;
  return withWall<QosLimits>(key, counts, maxWall);
}

/** Adds the wall-time limit in minutes; UNLIMITED is no limit. */
function withWall<L extends { maxWallMinutes?: number }>(key: string, counts: L, maxWall: string | undefined): L {
  const out = Object.fromEntries(Object.entries(counts).filter(([, v]) => v !== undefined)) as L;
  const wall = maxWall === undefined ? null : minutes(`${key}.maxWall`, maxWall);
  if (wall !== null) out.maxWallMinutes = wall;
  return out;
}

/**
 * The QOS a job runs under: the one asked for, else the default; an unknown name is refused
 * with sbatch's words. No QOS defined and none asked: undefined.
 */
export function resolveQos(requested: string | undefined, config: Pick<PolicyConfig, 'qos' | 'defaultQos'>): string | undefined {
  if (requested === undefined || requested === '') return config.defaultQos;
  if (!config.qos.has(requested)) {
    throw new GrmError('E_REQUEST_INVALID', `Invalid qos specification: "${requested}" (defined: ${[...config.qos.keys()].join(', ') || 'none'})`, { field: 'qos' });
  }
  return requested;
}
