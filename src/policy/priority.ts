/**
 * Job priority, SLURM's priority/multifactor (priority_multifactor.html, and
 * set_priority_factors() in priority_multifactor.c for the exact job-size formula):
 *
 *   priority = Wage × age + Wfairshare × fairshare + Wjobsize × jobsize
 *            + Wpartition × partition + Wqos × qos − nice
 *
 * every factor in [0, 1]; the result is truncated to an integer and kept in [1, 2^32 − 1]
 * (SLURM keeps 0 for held jobs, so a job's priority never falls below 1).
 * Queue order is priority, then submit time, then job id, so equal priorities (all weights 0,
 * the default) give submit order: FIFO.
 */
import type { PolicyJob } from './policy-types.js';

export interface PriorityWeights {
  /** PriorityWeightAge */
  age: number;
  /** PriorityWeightFairshare */
  fairshare: number;
  /** PriorityWeightJobSize */
  jobSize: number;
  /** PriorityWeightPartition */
  partition: number;
  /** PriorityWeightQOS */
  qos: number;
}

export interface PrioritySettings {
  weights: PriorityWeights;
  /** PriorityMaxAge, ms: the age factor reaches 1 after this long eligible. */
  maxAgeMs: number;
  /** PriorityFavorSmall: the smaller the job, the larger its size factor. */
  favorSmall: boolean;
  /** PriorityJobFactor of each partition; missing = 0. */
  partitionFactors: ReadonlyMap<string, number>;
  /** Priority of each QOS; missing = 0. */
  qosPriorities: ReadonlyMap<string, number>;
}

/** The cluster's size, for the job-size factor: SLURM's active nodes and total CPUs. */
export interface ClusterSize {
  nodes: number;
  cpus: number;
}

/** The five factors, each in [0, 1] (sprio -n) or weighted (sprio). */
export interface PriorityFactors {
  age: number;
  fairshare: number;
  jobSize: number;
  partition: number;
  qos: number;
}

export interface JobPriority {
  jobId: number;
  priority: number;
  factors: PriorityFactors;
  weighted: PriorityFactors;
  nice: number;
}

/** SLURM's bound on --nice (NICE_OFFSET − 3). */
export const NICE_MAX = 2_147_483_645;
const PRIORITY_MAX = 0xffffffff;

/** (now − eligible) / PriorityMaxAge, at most 1; a job not yet eligible has age 0. */
export function ageFactor(job: Pick<PolicyJob, 'eligibleTime'>, now: number, maxAgeMs: number): number {
  const waited = now - job.eligibleTime;
  if (waited <= 0) return 0;
  if (maxAgeMs <= 0 || waited >= maxAgeMs) return 1;
  return waited / maxAgeMs;
}

/**
 * SLURM's job size factor: the mean of the job's share of the nodes and of the CPUs; with
 * PriorityFavorSmall, the mean of the shares it leaves free (a 1-CPU job on one node is close to 1).
 */
export function jobSizeFactor(job: Pick<PolicyJob, 'nodes' | 'cpus'>, cluster: ClusterSize, favorSmall: boolean): number {
  if (cluster.nodes <= 0 || cluster.cpus <= 0) return 0;
  let f: number;
  if (favorSmall) {
    f = cluster.nodes > job.nodes ? (cluster.nodes - job.nodes) / cluster.nodes : 0;
    if (job.cpus > 0) f = (f + (cluster.cpus - job.cpus) / cluster.cpus) / 2;
  } else {
    f = job.nodes / cluster.nodes;
    if (job.cpus > 0) f = (f + job.cpus / cluster.cpus) / 2;
  }
  return Math.min(1, Math.max(0, f));
}

/** A value over the largest of its kind (SLURM's normalised partition and QOS factors). */
export function normalisedFactor(value: number, max: number): number {
  return max > 0 && value > 0 ? Math.min(1, value / max) : 0;
}

/** The largest value, 0 for none. */
export function largest(values: Iterable<number>): number {
  let max = 0;
  for (const v of values) if (v > max) max = v;
  return max;
}

/**
 * A priority calculator for one pass: the partition and QOS maxima are found once, so each
 * job costs O(1). `fairShareOf` gives a job's fair-share factor (from the pass's FairShareTable).
 */
export function priorityCalculator(
  settings: PrioritySettings,
  cluster: ClusterSize,
  fairShareOf: (job: PolicyJob) => number,
): (job: PolicyJob, now: number) => JobPriority {
  const maxPartition = largest(settings.partitionFactors.values());
  const maxQos = largest(settings.qosPriorities.values());
  const w = settings.weights;
  return (job, now) => {
    const factors: PriorityFactors = {
      age: w.age ? ageFactor(job, now, settings.maxAgeMs) : 0,
      fairshare: w.fairshare ? clamp01(fairShareOf(job)) : 0,
      jobSize: w.jobSize ? jobSizeFactor(job, cluster, settings.favorSmall) : 0,
      partition: w.partition ? normalisedFactor(settings.partitionFactors.get(job.partition) ?? 0, maxPartition) : 0,
      qos: w.qos && job.qos !== undefined ? normalisedFactor(settings.qosPriorities.get(job.qos) ?? 0, maxQos) : 0,
    };
    const weighted: PriorityFactors = {
      age: w.age * factors.age,
      fairshare: w.fairshare * factors.fairshare,
      jobSize: w.jobSize * factors.jobSize,
      partition: w.partition * factors.partition,
      qos: w.qos * factors.qos,
    };
    const sum = weighted.age + weighted.fairshare + weighted.jobSize + weighted.partition + weighted.qos - job.nice;
    const priority = Math.min(PRIORITY_MAX, Math.max(1, Math.floor(sum)));
    return { jobId: job.id, priority, factors, weighted, nice: job.nice };
  };
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}

/** What queue order needs of a job. */
export interface Ranked {
  id: number;
  submitTime: number;
  priority: number;
}

/** Queue order: priority descending, then submit time, then job id (SLURM's tie-breaks). */
export function compareQueueOrder(a: Ranked, b: Ranked): number {
  return b.priority - a.priority || a.submitTime - b.submitTime || a.id - b.id;
}

/**
 * A --nice value's check at submit (and scontrol update): within ±NICE_MAX, and negative only
 * for admins (SLURM: operators). Returns SLURM's message, or null when allowed.
 */
export function checkNice(nice: number, privileged: boolean): string | null {
  if (!Number.isInteger(nice) || Math.abs(nice) > NICE_MAX) return `Invalid --nice value: ${nice} (allowed: -${NICE_MAX} to ${NICE_MAX})`;
  if (nice < 0 && !privileged) return `Invalid --nice value: only an admin may set a negative nice (${nice})`;
  return null;
}

/** One row of `grm sprio`: JOBID PARTITION USER PRIORITY AGE FAIRSHARE JOBSIZE PARTITION QOS NICE. */
export interface SprioRow {
  jobId: number;
  partition: string;
  user: string;
  priority: number;
  age: number;
  fairshare: number;
  jobSize: number;
  partitionFactor: number;
  qos: number;
  nice: number;
}

/** sprio's row: the weighted factors, rounded as sprio prints them (`normalised` = sprio -n). */
export function sprioRow(job: PolicyJob, p: JobPriority, normalised = false): SprioRow {
  const f = normalised ? p.factors : p.weighted;
  const show = (x: number): number => (normalised ? Math.round(x * 1e7) / 1e7 : Math.round(x));
  return {
    jobId: job.id,
    partition: job.partition,
    user: job.user,
    priority: p.priority,
    age: show(f.age),
    fairshare: show(f.fairshare),
    jobSize: show(f.jobSize),
    partitionFactor: show(f.partition),
    qos: show(f.qos),
    nice: p.nice,
  };
}
