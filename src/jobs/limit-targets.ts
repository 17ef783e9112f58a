/**
 * sacctmgr modify at run time: whose limits change (an account, a user association, a QOS),
 * the change applied to the live account tree or QOS map with SLURM's words for one that does
 * not exist, the limits in force, and an override as stored turned back into a change. The
 * pure rules of a change are src/policy/limit-changes.ts; this is where they meet the live
 * tree. QueuePolicy saves and reloads the overrides (policy-store) and wakes the queue.
 */
import { GrmError } from '../errors.js';
import type { AccountTree } from '../policy/account-tree.js';
import { ASSOC_LIMIT_KEYS, QOS_LIMIT_KEYS, applyLimitChanges, type LimitChanges } from '../policy/limit-changes.js';
import type { QosDefinition } from '../policy/policy-types.js';

/** Whose limits an admin changes: an account, a user (in an account; default: their first), a QOS. */
export type LimitTarget = { kind: 'account'; name: string } | { kind: 'user'; name: string; account?: string | undefined } | { kind: 'qos'; name: string };

/** The limits of one account, user association (`account/user`) or QOS, as listed and stored. */
export interface LimitsOf {
  kind: 'account' | 'user' | 'qos';
  name: string;
  limits: Record<string, number>;
}

/** The name a target's override is stored under: a user's is its association key. */
export function targetName(t: LimitTarget, tree: AccountTree): string {
  return t.kind === 'user' ? tree.association(t.name, t.account).key : t.name;
}

/** Applies `changes` to the target's limits in `tree` or `qos` (both changed in place); returns its limits now. */
export function applyLimitTarget(tree: AccountTree, qos: Map<string, QosDefinition>, target: LimitTarget, changes: LimitChanges): Record<string, number> {
  if (target.kind === 'qos') {
    const q = qos.get(target.name);
    if (!q) throw new GrmError('E_REQUEST_INVALID', `Invalid qos specification: "${target.name}" (defined: ${[...qos.keys()].join(', ') || 'none'})`, { field: 'qos' });
    const limits = applyLimitChanges(q.limits, changes, QOS_LIMIT_KEYS, `QOS ${q.name}`);
    qos.set(q.name, { ...q, limits });
    return limits as Record<string, number>;
  }
  if (target.kind === 'account') {
    const node = tree.account(target.name);
    if (!node) throw new GrmError('E_ACCOUNT_INVALID', `Invalid account "${target.name}": not in the policy's account tree`, { field: 'account' });
    const limits = applyLimitChanges(node.limits, changes, ASSOC_LIMIT_KEYS, `account ${node.name}`);
    tree.setAccountLimits(node.name, limits);
    return limits as Record<string, number>;
  }
  if (target.account !== undefined && !tree.account(target.account)) {
    throw new GrmError('E_ACCOUNT_INVALID', `Invalid account "${target.account}": not in the policy's account tree`, { field: 'account' });
  }
  const assoc = tree.association(target.name, target.account);
  const limits = applyLimitChanges(assoc.limits, changes, ASSOC_LIMIT_KEYS, `user ${target.name} (account ${assoc.key.split('/')[0]})`);
  tree.setUserLimits(target.name, target.account, limits);
  return limits as Record<string, number>;
}

/** A stored override as the change that sets exactly its limits (every other key cleared). */
export function storedChange(o: LimitsOf): { target: LimitTarget; changes: LimitChanges } {
  const target: LimitTarget =
    o.kind === 'user' ? { kind: 'user', name: o.name.slice(o.name.indexOf('/') + 1), account: o.name.slice(0, o.name.indexOf('/')) } : { kind: o.kind, name: o.name };
  const changes = Object.fromEntries([...(o.kind === 'qos' ? QOS_LIMIT_KEYS : ASSOC_LIMIT_KEYS)].map((k) => [k, o.limits[k] ?? null]));
  return { target, changes };
}

/** Every limit in force: accounts, user associations and QOSes that have any. */
export function limitsInForce(tree: AccountTree, qos: ReadonlyMap<string, QosDefinition>): LimitsOf[] {
  const out: LimitsOf[] = [];
  for (const node of tree.walk()) {
    if (Object.keys(node.limits).length > 0) out.push({ kind: node.kind, name: node.key, limits: { ...(node.limits as Record<string, number>) } });
  }
  for (const q of qos.values()) if (Object.keys(q.limits).length > 0) out.push({ kind: 'qos', name: q.name, limits: { ...(q.limits as Record<string, number>) } });
  return out;
}
