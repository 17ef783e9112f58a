/**
 * Limits and quotas, as SLURM's accounting policy enforces them (acct_policy.c, with
 * AccountingStorageEnforce=limits): per QOS, per user association and per account.
 *
 * - Precedence (resource_limits.html, "Hierarchy"): a limit the job's QOS sets wins over the
 *   association's limit of the same kind (QOS MaxJobsPerUser over MaxJobs, QOS GrpTRES=node over
 *   the associations' GrpTRES=node, ...); the association's is not checked then.
 * - Max* limits of an account are the default of its users (SLURM propagates them down); Grp*
 *   limits hold at every level, the user's association and each account above it.
 * - checkRun: a job over a running limit waits, with SLURM 22.05's reason name.
 * - checkSubmit: submit limits (MaxSubmitJobs...) refuse the job. Size and wall-time limits
 *   refuse it too when they are strict: the job has no QOS, or its QOS has DenyOnLimit (SLURM's
 *   strict_checking in acct_policy_validate); otherwise the job is accepted and waits with the
 *   reason (QOSMaxWallDurationPerJobLimit...), as it does when a limit is lowered after submit.
 */
import type { AccountNode, AccountTree, UserAssoc } from './account-tree.js';
import type { AssocLimits, PolicyJob, QosDefinition, QosLimits } from './policy-types.js';
import { NO_USAGE, type Counters, type UsageView } from './usage-tracker.js';

/** Reasons a job waits on a limit, spelled as SLURM 22.05's job_reason_string(). */
export type LimitReason =
  | 'QOSGrpJobsLimit'
  | 'QOSMaxJobsPerUserLimit'
  | 'QOSMaxWallDurationPerJobLimit'
  | 'QOSGrpNodeLimit'
  | 'QOSGrpCpuLimit'
  | 'QOSGrpGRES'
  | 'QOSMaxNodePerUserLimit'
  | 'QOSMaxCpuPerUserLimit'
  | 'QOSMaxGRESPerUser'
  | 'QOSGrpSubmitJobsLimit'
  | 'QOSMaxSubmitJobPerUserLimit'
  | 'AssocGrpJobsLimit'
  | 'AssocMaxJobsLimit'
  | 'AssocMaxWallDurationPerJobLimit'
  | 'AssocGrpNodeLimit'
  | 'AssocGrpCpuLimit'
  | 'AssocGrpGRES'
  | 'AssocGrpSubmitJobsLimit'
  | 'AssocMaxSubmitJobLimit';

export interface LimitContext {
  tree: AccountTree;
  qos: ReadonlyMap<string, QosDefinition>;
}

/** A limit a job runs into. */
export interface LimitHit {
  reason: LimitReason;
  /** sacctmgr's name: "MaxJobsPerUser", "GrpTRES=node", "MaxWall" ... */
  limitName: string;
  /** minutes for wall-time limits */
  limit: number;
  /** in use now in the limit's scope (jobs, nodes, CPUs, GPUs; 0 for wall time) */
  used: number;
  /** what the job adds (jobs, nodes, CPUs, GPUs), or its time limit in minutes (null = UNLIMITED) */
  asked: number | null;
  /** "QOS normal", "account physics", "user alice (account physics)" */
  scope: string;
}

/** Why a submission is refused; `code` is the GrmError code for the API to map. */
export interface SubmitRefusal extends LimitHit {
  code: 'E_POLICY_LIMIT';
  message: string;
}

/** sbatch's words for ESLURM_ACCOUNTING_POLICY. */
export const ACCOUNTING_POLICY_MESSAGE = "Job violates accounting/QOS policy (job submit limit, user's size and/or time limits)";

type Dim = keyof Counters;

/** One limit: where it is read, what it counts, and the association limit a QOS one overrides. */
interface Rule<L> {
  limit: keyof L & string;
  dim: Dim;
  reason: LimitReason;
  name: string;
}
interface QosRule extends Rule<QosLimits> {
  perUser: boolean;
}
interface AssocRule extends Rule<AssocLimits> {
  /** The QOS limit of the same kind: when the job's QOS sets it, this one is not checked. */
  qosTwin: keyof QosLimits;
}

const QOS_JOBS: QosRule[] = [
  { limit: 'grpJobs', perUser: false, dim: 'jobs', reason: 'QOSGrpJobsLimit', name: 'GrpJobs' },
  { limit: 'maxJobsPerUser', perUser: true, dim: 'jobs', reason: 'QOSMaxJobsPerUserLimit', name: 'MaxJobsPerUser' },
];
const QOS_TRES: QosRule[] = [
  { limit: 'grpNodes', perUser: false, dim: 'nodes', reason: 'QOSGrpNodeLimit', name: 'GrpTRES=node' },
  { limit: 'grpCpus', perUser: false, dim: 'cpus', reason: 'QOSGrpCpuLimit', name: 'GrpTRES=cpu' },
  { limit: 'grpGpus', perUser: false, dim: 'gpus', reason: 'QOSGrpGRES', name: 'GrpTRES=gres/gpu' },
  { limit: 'maxNodesPerUser', perUser: true, dim: 'nodes', reason: 'QOSMaxNodePerUserLimit', name: 'MaxTRESPerUser=node' },
  { limit: 'maxCpusPerUser', perUser: true, dim: 'cpus', reason: 'QOSMaxCpuPerUserLimit', name: 'MaxTRESPerUser=cpu' },
  { limit: 'maxGpusPerUser', perUser: true, dim: 'gpus', reason: 'QOSMaxGRESPerUser', name: 'MaxTRESPerUser=gres/gpu' },
];
const QOS_SUBMIT: QosRule[] = [
  { limit: 'grpSubmitJobs', perUser: false, dim: 'submitted', reason: 'QOSGrpSubmitJobsLimit', name: 'GrpSubmitJobs' },
  { limit: 'maxSubmitJobsPerUser', perUser: true, dim: 'submitted', reason: 'QOSMaxSubmitJobPerUserLimit', name: 'MaxSubmitJobsPerUser' },
];
const ASSOC_GRP_JOBS: AssocRule = { limit: 'grpJobs', qosTwin: 'grpJobs', dim: 'jobs', reason: 'AssocGrpJobsLimit', name: 'GrpJobs' };
const ASSOC_MAX_JOBS: AssocRule = { limit: 'maxJobs', qosTwin: 'maxJobsPerUser', dim: 'jobs', reason: 'AssocMaxJobsLimit', name: 'MaxJobs' };
const ASSOC_TRES: AssocRule[] = [
  { limit: 'grpNodes', qosTwin: 'grpNodes', dim: 'nodes', reason: 'AssocGrpNodeLimit', name: 'GrpTRES=node' },
  { limit: 'grpCpus', qosTwin: 'grpCpus', dim: 'cpus', reason: 'AssocGrpCpuLimit', name: 'GrpTRES=cpu' },
  { limit: 'grpGpus', qosTwin: 'grpGpus', dim: 'gpus', reason: 'AssocGrpGRES', name: 'GrpTRES=gres/gpu' },
];
const ASSOC_GRP_SUBMIT: AssocRule = { limit: 'grpSubmitJobs', qosTwin: 'grpSubmitJobs', dim: 'submitted', reason: 'AssocGrpSubmitJobsLimit', name: 'GrpSubmitJobs' };
const ASSOC_MAX_SUBMIT: AssocRule = { limit: 'maxSubmitJobs', qosTwin: 'maxSubmitJobsPerUser', dim: 'submitted', reason: 'AssocMaxSubmitJobLimit', name: 'MaxSubmitJobs' };

/** What one job adds to a counter. */
function need(job: PolicyJob, dim: Dim, count: number): number {
  return dim === 'jobs' || dim === 'submitted' ? count : job[dim] * count;
}

/** The job, its association, the accounts above it and its QOS, found once per check. */
interface Subject {
  job: PolicyJob;
  assoc: UserAssoc;
  /** the user's association first, then each account up to (not including) root */
  levels: ReadonlyArray<UserAssoc | AccountNode>;
  qos: QosDefinition | undefined;
}

function subjectOf(job: PolicyJob, ctx: LimitContext): Subject {
  const assoc = ctx.tree.association(job.user, job.account);
  return { job, assoc, levels: ctx.tree.levels(assoc), qos: job.qos === undefined ? undefined : ctx.qos.get(job.qos) };
}

function scopeName(node: UserAssoc | AccountNode): string {
  return node.kind === 'user' ? `user ${node.user} (account ${node.account.name})` : `account ${node.name}`;
}

/** A Max* limit of the user's association, or the nearest account's above it (propagated). */
function inherited(s: Subject, limit: keyof AssocLimits): { value: number; node: UserAssoc | AccountNode } | undefined {
  for (const node of s.levels) {
    const value = node.limits[limit];
    if (value !== undefined) return { value, node };
  }
  return undefined;
}

function qosHit(s: Subject, usage: UsageView, rule: QosRule, count: number): LimitHit | null {
  const limit = s.qos?.limits[rule.limit];
  if (limit === undefined || !s.qos) return null;
  const used = (rule.perUser ? usage.qosUser(s.qos.name, s.job.user) : usage.qos(s.qos.name))[rule.dim];
  const asked = need(s.job, rule.dim, count);
  if (used + asked <= limit) return null;
  return { reason: rule.reason, limitName: rule.name, limit, used, asked, scope: `QOS ${s.qos.name}` };
}

/** `setOn`: the account a user's Max* limit is inherited from, for the message. */
function assocHit(s: Subject, usage: UsageView, rule: AssocRule, node: UserAssoc | AccountNode, limit: number | undefined, count: number, setOn = node): LimitHit | null {
  if (limit === undefined || s.qos?.limits[rule.qosTwin] !== undefined) return null;
  const used = usage.assoc(node.key)[rule.dim];
  const asked = need(s.job, rule.dim, count);
  if (used + asked <= limit) return null;
  const scope = setOn === node ? scopeName(node) : `${scopeName(node)}, set on ${scopeName(setOn)}`;
  return { reason: rule.reason, limitName: rule.name, limit, used, asked, scope };
}

/** The wall-time limit the job's time limit is over: the QOS's MaxWall if it sets one (precedence), else the association's. */
function wallHit(s: Subject): LimitHit | null {
  return s.qos?.limits.maxWallMinutes !== undefined ? qosWallHit(s, s.qos) : assocWallHit(s);
}

function over(asked: number | null, limit: number): boolean {
  return asked === null || asked > limit; // null = UNLIMITED, over any limit
}

function qosWallHit(s: Subject, qos: QosDefinition): LimitHit | null {
  const limit = qos.limits.maxWallMinutes;
  if (limit === undefined || !over(s.job.timeLimitMinutes, limit)) return null;
  return { reason: 'QOSMaxWallDurationPerJobLimit', limitName: 'MaxWall', limit, used: 0, asked: s.job.timeLimitMinutes, scope: `QOS ${qos.name}` };
}

function assocWallHit(s: Subject): LimitHit | null {
  const a = inherited(s, 'maxWallMinutes');
  if (!a || !over(s.job.timeLimitMinutes, a.value)) return null;
  return { reason: 'AssocMaxWallDurationPerJobLimit', limitName: 'MaxWallDurationPerJob', limit: a.value, used: 0, asked: s.job.timeLimitMinutes, scope: scopeName(a.node) };
}

/**
 * The first running limit the job would break if it started now, in SLURM's order: the QOS's
 * job counts and wall time, the associations' job counts and wall time (user first, then up
 * the tree), then the QOS's and the associations' TRES (nodes, CPUs, GPUs); null if none.
 */
export function findRunLimit(job: PolicyJob, usage: UsageView, ctx: LimitContext): LimitHit | null {
  const s = subjectOf(job, ctx);
  for (const rule of QOS_JOBS) {
    const hit = qosHit(s, usage, rule, 1);
    if (hit) return hit;
  }
  const qosWall = s.qos ? qosWallHit(s, s.qos) : null;
  if (qosWall) return qosWall;
  const qosSetsWall = s.qos?.limits.maxWallMinutes !== undefined;
  const maxJobs = inherited(s, 'maxJobs');
  for (const node of s.levels) {
    const hit =
      assocHit(s, usage, ASSOC_GRP_JOBS, node, node.limits.grpJobs, 1) ??
      (node === s.assoc && maxJobs ? assocHit(s, usage, ASSOC_MAX_JOBS, node, maxJobs.value, 1, maxJobs.node) : null) ??
      (node === s.assoc && !qosSetsWall ? assocWallHit(s) : null);
    if (hit) return hit;
  }
  return tresHit(s, usage, 1);
}

function tresHit(s: Subject, usage: UsageView, count: number): LimitHit | null {
  for (const rule of QOS_TRES) {
    const hit = qosHit(s, usage, rule, count);
    if (hit) return hit;
  }
  for (const node of s.levels) {
    for (const rule of ASSOC_TRES) {
      const hit = assocHit(s, usage, rule, node, node.limits[rule.limit], count);
      if (hit) return hit;
    }
  }
  return null;
}

/** The SLURM reason a job waits on for a limit, or null when no limit keeps it from starting. */
export function checkRun(job: PolicyJob, usage: UsageView, ctx: LimitContext): LimitReason | null {
  return findRunLimit(job, usage, ctx)?.reason ?? null;
}

/**
 * The submit check: `count` jobs more (an array's tasks) against MaxSubmitJobs/GrpSubmitJobs,
 * and, when the limits are strict (no QOS, or DenyOnLimit), the job's wall time and its size
 * alone against every size limit. `usage` is before this submission.
 */
export function checkSubmit(job: PolicyJob, usage: UsageView, ctx: LimitContext, count = 1): SubmitRefusal | null {
  const s = subjectOf(job, ctx);
  const hit = submitCountHit(s, usage, count) ?? (strict(s) ? (wallHit(s) ?? tresHit(s, EMPTY, 1)) : null);
  return hit ? { ...hit, code: 'E_POLICY_LIMIT', message: submitMessage(hit, count) } : null;
}

function strict(s: Subject): boolean {
  return s.qos === undefined || s.qos.denyOnLimit;
}

/** Nothing in use: a job's size alone is checked against the limits. */
const EMPTY: UsageView = { assoc: () => NO_USAGE, qos: () => NO_USAGE, qosUser: () => NO_USAGE };

function submitCountHit(s: Subject, usage: UsageView, count: number): LimitHit | null {
  for (const rule of QOS_SUBMIT) {
    const hit = qosHit(s, usage, rule, count);
    if (hit) return hit;
  }
  const maxSubmit = inherited(s, 'maxSubmitJobs');
  if (maxSubmit) {
    const hit = assocHit(s, usage, ASSOC_MAX_SUBMIT, s.assoc, maxSubmit.value, count, maxSubmit.node);
    if (hit) return hit;
  }
  for (const node of s.levels) {
    const hit = assocHit(s, usage, ASSOC_GRP_SUBMIT, node, node.limits.grpSubmitJobs, count);
    if (hit) return hit;
  }
  return null;
}

function submitMessage(hit: LimitHit, count: number): string {
  const wall = hit.reason.endsWith('WallDurationPerJobLimit');
  const value = wall ? formatMinutes(hit.limit) : String(hit.limit);
  let detail: string;
  if (wall) detail = `the job asks ${hit.asked === null ? 'UNLIMITED' : formatMinutes(hit.asked)}`;
  else if (hit.reason.includes('Submit')) detail = `${hit.used} submitted, ${count === 1 ? 'this job' : `these ${count} jobs`} would make ${hit.used + count}`;
  else detail = `the job alone asks ${hit.asked}`;
  return `${ACCOUNTING_POLICY_MESSAGE}: ${hit.limitName}=${value} of ${hit.scope} (${detail})`;
}

/**
 * The wall-time limit a job without --time gets (SLURM sets the job's time limit to it): the
 * QOS's MaxWall, else the association's MaxWallDurationPerJob; null when neither is set.
 */
export function wallLimitFor(job: Pick<PolicyJob, 'user' | 'account' | 'qos'>, ctx: LimitContext): number | null {
  const q = job.qos === undefined ? undefined : ctx.qos.get(job.qos)?.limits.maxWallMinutes;
  if (q !== undefined) return q;
  const assoc = ctx.tree.association(job.user, job.account);
  for (const node of ctx.tree.levels(assoc)) {
    if (node.limits.maxWallMinutes !== undefined) return node.limits.maxWallMinutes;
  }
  return null;
}

/** Minutes in SLURM's time spelling: [days-]hours:minutes:seconds. */
export function formatMinutes(minutes: number): string {
  const days = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  const hms = `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:00`;
  return days > 0 ? `${days}-${hms}` : hms;
}
