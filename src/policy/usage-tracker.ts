/**
 * What is in use, per scope the limits name: each association (a user in an account, and every
 * account above it, for the Grp* limits), each QOS, and each user within a QOS (the QOS's
 * Max*PerUser limits). Counted: running jobs, submitted jobs (pending + running, as SLURM's
 * used_submit_jobs), and the nodes, CPUs and GPUs of the running ones.
 *
 * Every change is O(depth of the account tree) per job, whatever the number of jobs. The
 * tracker remembers the scopes each job was counted in, so a job leaves exactly the counters it
 * entered even if the tree or its QOS changed meanwhile, and a repeated call is harmless.
 */
import type { AccountTree } from './account-tree.js';
import type { PolicyJob } from './policy-types.js';

export interface Counters {
  /** running jobs */
  jobs: number;
  /** pending + running jobs */
  submitted: number;
  nodes: number;
  cpus: number;
  gpus: number;
}

/** What the limit checks read. */
export interface UsageView {
  /** A user association ("account/user") or an account (its name). */
  assoc(key: string): Readonly<Counters>;
  qos(name: string): Readonly<Counters>;
  qosUser(qos: string, user: string): Readonly<Counters>;
}

export const NO_USAGE: Readonly<Counters> = Object.freeze({ jobs: 0, submitted: 0, nodes: 0, cpus: 0, gpus: 0 });

/** The counter keys of one job: its association and the accounts above it, its QOS and user. */
export interface JobScopes {
  assocKeys: readonly string[];
  qos: string | undefined;
  user: string;
}

/** The scopes a job counts in (the association paths are the tree's, cached). */
export class ScopeResolver {
  private readonly paths = new Map<string, readonly string[]>();

  constructor(readonly tree: AccountTree) {}

  scopesOf(job: Pick<PolicyJob, 'user' | 'account' | 'qos'>): JobScopes {
    const assoc = this.tree.association(job.user, job.account);
    let path = this.paths.get(assoc.key);
    if (!path) this.paths.set(assoc.key, (path = this.tree.levels(assoc).map((n) => n.key)));
    return { assocKeys: path, qos: job.qos, user: job.user };
  }
}

interface Entry {
  scopes: JobScopes;
  running: boolean;
  /** Jobs it counts as toward the submit limits (PolicyJob.submitCount). */
  count: number;
  nodes: number;
  cpus: number;
  gpus: number;
}

/** Adds `delta` to every scope of a job; counters back at zero are dropped (memory stays bounded). */
function apply(maps: CounterMaps, scopes: JobScopes, delta: Counters): void {
  for (const key of scopes.assocKeys) bump(maps.assoc, key, delta);
  if (scopes.qos === undefined) return;
  bump(maps.qos, scopes.qos, delta);
  let users = maps.qosUser.get(scopes.qos);
  if (!users) maps.qosUser.set(scopes.qos, (users = new Map()));
  bump(users, scopes.user, delta);
}

interface CounterMaps {
  assoc: Map<string, Counters>;
  qos: Map<string, Counters>;
  /** QOS → user → counters (nested: no key string built per job) */
  qosUser: Map<string, Map<string, Counters>>;
}

function bump(map: Map<string, Counters>, key: string, d: Counters): void {
  let c = map.get(key);
  if (!c) map.set(key, (c = { jobs: 0, submitted: 0, nodes: 0, cpus: 0, gpus: 0 }));
  c.jobs += d.jobs;
  c.submitted += d.submitted;
  c.nodes += d.nodes;
  c.cpus += d.cpus;
  c.gpus += d.gpus;
  if (c.jobs === 0 && c.submitted === 0 && c.nodes === 0 && c.cpus === 0 && c.gpus === 0) map.delete(key);
}

function runDelta(e: Pick<Entry, 'nodes' | 'cpus' | 'gpus'>, sign: 1 | -1, submitted: 0 | 1 | -1): Counters {
  return { jobs: sign, submitted, nodes: sign * e.nodes, cpus: sign * e.cpus, gpus: sign * e.gpus };
}

export class UsageTracker implements UsageView {
  readonly scopes: ScopeResolver;
  private readonly maps: CounterMaps = { assoc: new Map(), qos: new Map(), qosUser: new Map() };
  private readonly jobs = new Map<number, Entry>();

  constructor(tree: AccountTree) {
    this.scopes = new ScopeResolver(tree);
  }

  /** A job entered the queue (pending): it counts toward the submit limits. */
  submitted(job: PolicyJob): void {
    if (this.jobs.has(job.id)) return;
    const e: Entry = { scopes: this.scopes.scopesOf(job), running: false, count: job.submitCount ?? 1, nodes: job.nodes, cpus: job.cpus, gpus: job.gpus };
    this.jobs.set(job.id, e);
    apply(this.maps, e.scopes, { jobs: 0, submitted: e.count, nodes: 0, cpus: 0, gpus: 0 });
  }

  /** A record now stands for another number of jobs (an array's task split off). */
  resized(job: PolicyJob): void {
    const e = this.jobs.get(job.id);
    const count = job.submitCount ?? 1;
    if (!e || e.count === count) return;
    apply(this.maps, e.scopes, { jobs: 0, submitted: count - e.count, nodes: 0, cpus: 0, gpus: 0 });
    e.count = count;
  }

  /** A job was admitted (sent to the backend) or is running: it holds its resources. */
  started(job: PolicyJob): void {
    this.submitted(job);
    const e = this.jobs.get(job.id)!;
    if (e.running) return;
    e.running = true;
    apply(this.maps, e.scopes, runDelta(e, 1, 0));
  }

  /** A running job went back to the queue: still submitted, no longer holding resources. */
  requeued(jobId: number): void {
    const e = this.jobs.get(jobId);
    if (!e?.running) return;
    e.running = false;
    apply(this.maps, e.scopes, runDelta(e, -1, 0));
  }

  /** A job ended or was cancelled, pending or running. */
  ended(jobId: number): void {
    const e = this.jobs.get(jobId);
    if (!e) return;
    this.jobs.delete(jobId);
    apply(this.maps, e.scopes, e.running ? { ...runDelta(e, -1, 0), submitted: -e.count } : { jobs: 0, submitted: -e.count, nodes: 0, cpus: 0, gpus: 0 });
  }

  isRunning(jobId: number): boolean {
    return this.jobs.get(jobId)?.running ?? false;
  }

  /** Jobs counted (pending + running). */
  size(): number {
    return this.jobs.size;
  }

  assoc(key: string): Readonly<Counters> {
    return this.maps.assoc.get(key) ?? NO_USAGE;
  }

  qos(name: string): Readonly<Counters> {
    return this.maps.qos.get(name) ?? NO_USAGE;
  }

  qosUser(qos: string, user: string): Readonly<Counters> {
    return this.maps.qosUser.get(qos)?.get(user) ?? NO_USAGE;
  }
}

/**
 * A pass's view: the tracker plus the jobs the pass has admitted so far, without touching the
 * tracker (the caller records the jobs it really sends). Reads cost one extra map lookup.
 */
export class UsageOverlay implements UsageView {
  private readonly maps: CounterMaps = { assoc: new Map(), qos: new Map(), qosUser: new Map() };

  constructor(
    private readonly base: UsageView,
    private readonly resolver: ScopeResolver,
  ) {}

  /** Counts a job the pass admits as running; `newlySubmitted` if the base does not count it yet. */
  start(job: PolicyJob, newlySubmitted = false): void {
    apply(this.maps, this.resolver.scopesOf(job), runDelta(job, 1, newlySubmitted ? 1 : 0));
  }

  assoc(key: string): Readonly<Counters> {
    return sum(this.base.assoc(key), this.maps.assoc.get(key));
  }

  qos(name: string): Readonly<Counters> {
    return sum(this.base.qos(name), this.maps.qos.get(name));
  }

  qosUser(qos: string, user: string): Readonly<Counters> {
    return sum(this.base.qosUser(qos, user), this.maps.qosUser.get(qos)?.get(user));
  }
}

function sum(a: Readonly<Counters>, b: Counters | undefined): Readonly<Counters> {
  if (!b) return a;
  return { jobs: a.jobs + b.jobs, submitted: a.submitted + b.submitted, nodes: a.nodes + b.nodes, cpus: a.cpus + b.cpus, gpus: a.gpus + b.gpus };
}
