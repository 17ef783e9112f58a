/**
 * Limits changed at run time (sacctmgr modify ... set MaxJobs=2 GrpTRES=node=4): which limits
 * each scope has, and a change merged into the limits in force. A null clears a limit
 * (sacctmgr's -1). Pure.
 */
import { GrmError } from '../errors.js';
import type { AssocLimits, QosLimits } from './policy-types.js';

export const ASSOC_LIMIT_KEYS = ['maxJobs', 'maxSubmitJobs', 'maxWallMinutes', 'grpJobs', 'grpSubmitJobs', 'grpNodes', 'grpCpus', 'grpGpus'] as const;
export const QOS_LIMIT_KEYS = [
  'maxJobsPerUser',
  'maxSubmitJobsPerUser',
  'maxNodesPerUser',
  'maxCpusPerUser',
  'maxGpusPerUser',
  'maxWallMinutes',
  'grpJobs',
  'grpSubmitJobs',
  'grpNodes',
  'grpCpus',
  'grpGpus',
] as const;

/** Limit name → new value; null clears it. */
export type LimitChanges = Readonly<Record<string, number | null>>;

const MAX_LIMIT = 4_294_967_294;

/** The limits after a change; refuses a limit the scope does not have or a value that is not one. */
export function applyLimitChanges<L extends AssocLimits | QosLimits>(current: L, changes: LimitChanges, allowed: readonly string[], scope: string): L {
  const names = Object.keys(changes);
  if (names.length === 0) throw new GrmError('E_REQUEST_INVALID', `Nothing to change for ${scope}: name at least one limit`, { field: 'set' });
  const out: Record<string, number> = { ...(current as Record<string, number>) };
  for (const name of names) {
    if (!allowed.includes(name)) {
      throw new GrmError('E_REQUEST_INVALID', `${scope} has no limit "${name}" (it has: ${allowed.join(', ')})`, { field: name });
    }
    const value = changes[name];
    if (value === null) delete out[name];
    else if (Number.isSafeInteger(value) && value! >= 0 && value! <= MAX_LIMIT) out[name] = value!;
    else throw new GrmError('E_REQUEST_INVALID', `Invalid value for ${name}: ${String(value)} (a whole number from 0 to ${MAX_LIMIT}, or null to clear it)`, { field: name });
  }
  return out as unknown as L;
}
