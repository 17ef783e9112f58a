/**
 * The policy part's shared types. The policy is pure: it never reads the store or the clock;
 * the jobs part hands it what it needs (a PolicyJob per job, `now` in ms) and acts on the answers.
 * Names follow SLURM's sacctmgr and slurm.conf where SLURM has the concept.
 */

/** What the policy needs to know of a job; the jobs part maps a JobRecord onto it. */
export interface PolicyJob {
  id: number;
  user: string;
  /** The account it is charged to; undefined = the user's default association. */
  account?: string | undefined;
  partition: string;
  /** Resolved QOS name (the requested one or the default); undefined = no QOS. */
  qos?: string | undefined;
  /** sbatch --nice; negative only for admins (see checkNice). */
  nice: number;
  /** ms since epoch */
  submitTime: number;
  /**
   * ms since epoch: when the job became eligible (its begin time passed, its dependencies were
   * met). SLURM's accrue time: the age factor grows from here, not from the submission.
   */
  eligibleTime: number;
  nodes: number;
  /**
   * Jobs this record stands for toward the submit limits (MaxSubmitJobs...): an array's tasks
   * not started yet, counted each as SLURM does, though they are one record; 1 otherwise.
   */
  submitCount?: number;
  /** CPUs of the whole job (all nodes). */
  cpus: number;
  /** GPUs of the whole job (all nodes). */
  gpus: number;
  /** null = UNLIMITED. A job without --time should get wallLimitFor() first, as SLURM does. */
  timeLimitMinutes: number | null;
}

/** An amount of the three resources the policy counts. */
export interface Resources {
  nodes: number;
  cpus: number;
  gpus: number;
}

/** The Grp* limits, the same on an association (with everything below it) and on a QOS. */
export interface GrpLimits {
  /** GrpJobs: running jobs. */
  grpJobs?: number;
  /** GrpSubmitJobs: pending + running jobs. */
  grpSubmitJobs?: number;
  /** GrpTRES=node=N */
  grpNodes?: number;
  /** GrpTRES=cpu=N */
  grpCpus?: number;
  /** GrpTRES=gres/gpu=N */
  grpGpus?: number;
}

/**
 * Limits of an association (a user in an account, or an account), as sacctmgr names them.
 * Absent = no limit. Max* limits set on an account are the default of the users below it
 * (SLURM propagates them); Grp* limits hold at every level of the tree.
 */
export interface AssocLimits extends GrpLimits {
  /** MaxJobs: running jobs of one user association. */
  maxJobs?: number;
  /** MaxSubmitJobs: pending + running jobs of one user association. */
  maxSubmitJobs?: number;
  /** MaxWallDurationPerJob, minutes. */
  maxWallMinutes?: number;
}

/** Limits of a QOS, as sacctmgr names them. Absent = no limit. */
export interface QosLimits extends GrpLimits {
  /** MaxJobsPerUser */
  maxJobsPerUser?: number;
  /** MaxSubmitJobsPerUser */
  maxSubmitJobsPerUser?: number;
  /** MaxTRESPerUser=node=N */
  maxNodesPerUser?: number;
  /** MaxTRESPerUser=cpu=N */
  maxCpusPerUser?: number;
  /** MaxTRESPerUser=gres/gpu=N */
  maxGpusPerUser?: number;
  /** MaxWall, minutes */
  maxWallMinutes?: number;
}

/** SLURM's PreemptMode of a QOS, as far as GRM implements it (no SUSPEND, no GANG). */
export type PreemptMode = 'off' | 'cancel' | 'requeue';

export interface QosDefinition {
  name: string;
  /** Priority: the QOS factor is this over the largest priority of all QOSes. */
  priority: number;
  limits: QosLimits;
  /** Preempt: the QOSes whose running jobs this QOS's jobs may preempt. */
  preempt: string[];
  /** PreemptMode: what happens to a job of this QOS when it is preempted. */
  preemptMode: PreemptMode;
  /** GraceTime, seconds: between the signal and the requeue/cancel of a preempted job. */
  graceSeconds: number;
  /**
   * Flags=DenyOnLimit: a job over a size or time limit of this QOS is refused at submit
   * instead of waiting with the limit's reason.
   */
  denyOnLimit: boolean;
}
