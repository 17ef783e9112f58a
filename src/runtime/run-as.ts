/**
 * Who a job's master runs as. A daemon running as root never runs a job as root by default:
 * as slurmd does, it runs the job as its user's local account, here the uid/gid and
 * supplementary groups an admin mapped to the GRM user (the users part). The supervisor
 * drops to it (setgroups, setgid, setuid) before it opens the job's output files, so -o/-e/-D
 * reach only what that account may reach.
 *
 * An unmapped user's job is refused while the daemon is root: SLURM never runs a non-root
 * submitter's job as root, and guessing an account by name would let a GRM user called
 * "root" become root. Root only for a user an admin explicitly mapped to uid 0.
 * A daemon that is not root (or has runtime.runAsUser off) runs every master as itself.
 */

/** The local identity a user's masters run as (same shape as the users part's RunAs). */
export interface RunAs {
  uid: number;
  gid: number;
  /** Supplementary groups (gids). */
  groups: number[];
}

/** The users part's mapping: a GRM user's local account, or null when none is mapped. */
export type RunAsResolver = (user: string) => RunAs | null;

export const NO_MAPPING: RunAsResolver = () => null;

export type MasterIdentity =
  /** The daemon's own account: the daemon is not root, or runtime.runAsUser is off. */
  | { kind: 'daemon'; uid: number }
  /** The user's mapped account; the supervisor drops to it. */
  | { kind: 'user'; runAs: RunAs }
  /** No way to run it: the daemon is root and the user has no mapped account. */
  | { kind: 'refused'; reason: string };

export interface IdentityOptions {
  /** The daemon's effective uid (process.geteuid()). */
  daemonUid: number;
  /** runtime.runAsUser: run masters as their user's account when the daemon is root. */
  runAsUser: boolean;
  resolve: RunAsResolver;
}

/** The daemon's effective uid; -1 where the platform has none (never root there). */
export function daemonUid(): number {
  return typeof process.geteuid === 'function' ? process.geteuid() : -1;
}

export function masterIdentity(user: string, o: IdentityOptions): MasterIdentity {
  if (o.daemonUid !== 0 || !o.runAsUser) return { kind: 'daemon', uid: o.daemonUid };
  const runAs = o.resolve(user);
  if (runAs === null) {
    return {
      kind: 'refused',
      reason: `user ${user} has no local account mapped (uid/gid): GRM runs as root and never runs a job as root for an unmapped user; an admin maps one with grm user`,
    };
  }
  return { kind: 'user', runAs: { uid: runAs.uid, gid: runAs.gid, groups: [...runAs.groups] } };
}

/** The uid the master would have; null when it is refused. */
export function masterUid(identity: MasterIdentity): number | null {
  if (identity.kind === 'refused') return null;
  return identity.kind === 'user' ? identity.runAs.uid : identity.uid;
}

/** Whether files the job may write must be checked for their owner before the daemon reads them. */
export function dropsPrivileges(identity: MasterIdentity): identity is { kind: 'user'; runAs: RunAs } {
  return identity.kind === 'user';
}

/** The account's passwd entry, as os.userInfo() gives it after the drop. */
export interface AccountInfo {
  username: string;
  homedir: string;
  shell?: string | null;
}

/**
 * The job's environment with USER, LOGNAME and HOME of the account it runs as where the
 * submission left them out (a REST client's bare environment): as a login, and as SLURM's
 * --get-user-env would, so tools that read ~ or $USER find the job's user, not the daemon's
 * unset ones. What the submitter sent is kept: sbatch propagates the submitting shell's.
 */
export function withAccountEnv(env: Record<string, string>, account: AccountInfo): Record<string, string> {
  const filled: Record<string, string> = { USER: account.username, LOGNAME: account.username, HOME: account.homedir };
  const out = { ...env };
  for (const [key, value] of Object.entries(filled)) if (out[key] === undefined && value !== '') out[key] = value;
  return out;
}
