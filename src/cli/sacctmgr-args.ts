/**
 * sacctmgr's syntax for the limits GRM keeps, pure:
 *
 *   modify user [where] name=alice [account=physics] set MaxJobs=2 GrpTRES=node=4,cpu=8
 *   modify account [where] name=physics set GrpJobs=10 MaxWall=1-0
 *   modify qos [where] name=high set MaxJobsPerUser=1 MaxTRESPerUser=gres/gpu=2
 *
 * Names are case-insensitive as in sacctmgr; -1 clears a limit. The result is the API's body.
 */
import { parseTimeLimit } from '../sbatch/slurm-units.js';
import { CliError } from './api-client.js';

export interface SacctmgrModify {
  entity: 'user' | 'account' | 'qos';
  name: string;
  account?: string;
  set: Record<string, number | null>;
}

type Entity = SacctmgrModify['entity'];

/** sacctmgr limit name → GRM's, per entity (QOS limits differ from associations'). */
const COUNT_LIMITS: Record<'assoc' | 'qos', Record<string, string>> = {
  assoc: { maxjobs: 'maxJobs', maxsubmitjobs: 'maxSubmitJobs', maxsubmit: 'maxSubmitJobs', grpjobs: 'grpJobs', grpsubmitjobs: 'grpSubmitJobs', grpsubmit: 'grpSubmitJobs' },
  qos: { maxjobsperuser: 'maxJobsPerUser', maxsubmitjobsperuser: 'maxSubmitJobsPerUser', grpjobs: 'grpJobs', grpsubmitjobs: 'grpSubmitJobs', grpsubmit: 'grpSubmitJobs' },
};
/** TRES limits: the sacctmgr name, then each TRES → GRM's limit. */
const TRES_LIMITS: Record<'assoc' | 'qos', Record<string, Record<string, string>>> = {
  assoc: { grptres: { node: 'grpNodes', cpu: 'grpCpus', 'gres/gpu': 'grpGpus' } },
  qos: {
    grptres: { node: 'grpNodes', cpu: 'grpCpus', 'gres/gpu': 'grpGpus' },
    maxtresperuser: { node: 'maxNodesPerUser', cpu: 'maxCpusPerUser', 'gres/gpu': 'maxGpusPerUser' },
    maxtrespu: { node: 'maxNodesPerUser', cpu: 'maxCpusPerUser', 'gres/gpu': 'maxGpusPerUser' },
  },
};
const WALL_NAMES = new Set(['maxwall', 'maxwalldurationperjob']);

function count(text: string, what: string): number | null {
  if (text === '-1') return null;
  if (!/^\d{1,10}$/.test(text)) throw new CliError(`sacctmgr: error: Invalid value for ${what}: "${text}" (a whole number, or -1 to clear it)`);
  return Number(text);
}

function pair(token: string): [string, string] {
  const eq = token.indexOf('=');
  if (eq <= 0) throw new CliError(`sacctmgr: error: Unknown option: ${token} (expected Name=Value)`);
  return [token.slice(0, eq).toLowerCase(), token.slice(eq + 1)];
}

/** One `Name=Value` of the set part into the changes. */
function setLimit(entity: Entity, key: string, value: string, set: Record<string, number | null>): void {
  const kind = entity === 'qos' ? 'qos' : 'assoc';
  if (WALL_NAMES.has(key)) {
    const m = parseTimeLimit(value, 'MaxWall');
    set.maxWallMinutes = m === 'UNLIMITED' ? null : m;
  } else if (COUNT_LIMITS[kind][key]) {
    set[COUNT_LIMITS[kind][key]!] = count(value, key);
  } else if (TRES_LIMITS[kind][key]) {
    const tres = TRES_LIMITS[kind][key]!;
    for (const item of value.split(',')) {
      const [name, n] = pair(item);
      const limit = tres[name === 'gpu' ? 'gres/gpu' : name];
      if (!limit) throw new CliError(`sacctmgr: error: Unknown TRES "${name}" in ${key} (GRM counts node, cpu, gres/gpu)`);
      set[limit] = count(n, `${key} ${name}`);
    }
  } else {
    const known = [...Object.keys(COUNT_LIMITS[kind]), ...Object.keys(TRES_LIMITS[kind]), 'maxwall'];
    throw new CliError(`sacctmgr: error: Unknown limit "${key}" for a ${entity} (GRM keeps: ${known.join(', ')})`);
  }
}

export function parseSacctmgrModify(args: string[]): SacctmgrModify {
  const entity = args[0]?.toLowerCase();
  if (entity !== 'user' && entity !== 'account' && entity !== 'qos') {
    throw new CliError('sacctmgr: error: modify what? user, account or qos (e.g. grm sacctmgr modify user name=alice set MaxJobs=2)');
  }
  const setAt = args.findIndex((a) => a.toLowerCase() === 'set');
  if (setAt < 0 || setAt === args.length - 1) throw new CliError('sacctmgr: error: nothing to set: add "set Name=Value ..." (e.g. set MaxJobs=2)');
  const where: Record<string, string> = {};
  for (const token of args.slice(1, setAt)) {
    if (token.toLowerCase() === 'where') continue;
    const [k, v] = pair(token);
    if (k !== 'name' && k !== 'names' && !(entity === 'user' && (k === 'account' || k === 'accounts'))) {
      throw new CliError(`sacctmgr: error: Unknown condition: ${token} (name=..., and account=... for a user)`);
    }
    where[k.replace(/s$/, '')] = v;
  }
  if (!where.name) throw new CliError(`sacctmgr: error: which ${entity}? add name=...`);
  const set: Record<string, number | null> = {};
  for (const token of args.slice(setAt + 1)) {
    const [k, v] = pair(token);
    setLimit(entity, k, v, set);
  }
  return { entity, name: where.name, ...(where.account ? { account: where.account } : {}), set };
}

/** sacctmgr's names for GRM's limits, to show them as an admin typed them. */
export function sacctmgrName(limit: string): string {
  const names: Record<string, string> = {
    maxJobs: 'MaxJobs', maxSubmitJobs: 'MaxSubmitJobs', maxWallMinutes: 'MaxWall', grpJobs: 'GrpJobs', grpSubmitJobs: 'GrpSubmitJobs',
    grpNodes: 'GrpTRES=node', grpCpus: 'GrpTRES=cpu', grpGpus: 'GrpTRES=gres/gpu', maxJobsPerUser: 'MaxJobsPerUser',
    maxSubmitJobsPerUser: 'MaxSubmitJobsPerUser', maxNodesPerUser: 'MaxTRESPerUser=node', maxCpusPerUser: 'MaxTRESPerUser=cpu', maxGpusPerUser: 'MaxTRESPerUser=gres/gpu',
  };
  return names[limit] ?? limit;
}
