/**
 * Fair share, SLURM's "classic" algorithm (PriorityFlags=NO_FAIR_TREE; SchedMD's
 * classic_fair_share.html and _set_usage_efctv() in priority_multifactor.c), implemented exactly:
 *
 *   NormShares  S  = shares / (shares of all siblings, users and sub-accounts) × S(parent); root = 1
 *   NormUsage   U  = raw usage / raw usage of the whole tree
 *   EffectvUsage UE = U                                   for an account directly under root
 *                   = U + (UE(parent) − U) × shares / siblings' shares   below that
 *                   = UE(parent)                          when the siblings hold no shares
 *   FairShare   F  = 2^(−UE / S / dampening), 0 when S = 0
 *
 * Classic rather than Fair Tree: its factor is a closed formula of one association's numbers,
 * so one job's factor is explainable from an sshare row; Fair Tree ranks all users at once.
 *
 * Usage unit: CPU-seconds (allocated CPUs × seconds), SLURM's default billing (TRES-billing-
 * seconds with no TRESBillingWeights). Usage decays with a half-life: a value is kept with the
 * time it was valued at ({value, asOf}) and decayed lazily, value × 2^−((now − asOf) / halfLife),
 * which is what SLURM's periodic decay approaches as PriorityCalcPeriod shrinks.
 */
import type { AccountNode, AccountTree, TreeNode } from './account-tree.js';

/** Decayed usage in CPU-seconds, valued at `asOf` (ms since epoch). */
export interface DecayedUsage {
  value: number;
  asOf: number;
}

/** `value` after `elapsedMs`; a half-life of 0 means no decay (as PriorityDecayHalfLife=0). */
export function decay(value: number, elapsedMs: number, halfLifeMs: number): number {
  if (halfLifeMs <= 0 || elapsedMs <= 0) return value;
  return value * 2 ** (-elapsedMs / halfLifeMs);
}

/** A usage's value at `now` (never more than it was: a `now` before asOf is read as asOf). */
export function usageAt(usage: DecayedUsage | undefined, now: number, halfLifeMs: number): number {
  return usage ? decay(usage.value, now - usage.asOf, halfLifeMs) : 0;
}

/**
 * The CPU-seconds a run of `cpus` CPUs from `fromMs` to `toMs` adds, valued at `toMs`: each
 * second decayed from the moment it was used, ∫ cpus × 2^−((to − t)/h) dt = cpus × h/ln2 × (1 − 2^−((to − from)/h)).
 */
export function runCharge(cpus: number, fromMs: number, toMs: number, halfLifeMs: number): number {
  if (toMs <= fromMs || cpus <= 0) return 0;
  const seconds = (toMs - fromMs) / 1000;
  if (halfLifeMs <= 0) return cpus * seconds;
  const h = halfLifeMs / 1000;
  // 1 − 2^−(s/h) as −expm1: exact for runs far shorter than the half-life (no cancellation)
  return ((cpus * h) / Math.LN2) * -Math.expm1((-seconds / h) * Math.LN2);
}

/**
 * Decayed usage per user association ("account/user"). The caller charges a job's run as it
 * goes (chargeRun from the last charge to now, e.g. at each pass and at the job's end, as
 * SLURM's decay thread does every PriorityCalcPeriod) and persists entries().
 */
export class UsageLedger {
  private readonly usage = new Map<string, DecayedUsage>();

  constructor(
    readonly halfLifeMs: number,
    entries: Iterable<readonly [string, DecayedUsage]> = [],
  ) {
    for (const [key, u] of entries) this.usage.set(key, { value: u.value, asOf: u.asOf });
  }

  /** Adds `cpuSeconds` valued at `now`; a charge older than the entry is decayed to its time. */
  charge(key: string, cpuSeconds: number, now: number): void {
    if (!(cpuSeconds > 0)) return;
    const old = this.usage.get(key);
    const asOf = Math.max(old?.asOf ?? now, now);
    const value = usageAt(old, asOf, this.halfLifeMs) + decay(cpuSeconds, asOf - now, this.halfLifeMs);
    this.usage.set(key, { value, asOf });
  }

  /** Charges a run of `cpus` CPUs between two times (see runCharge). */
  chargeRun(key: string, cpus: number, fromMs: number, toMs: number): void {
    this.charge(key, runCharge(cpus, fromMs, toMs, this.halfLifeMs), toMs);
  }

  /** The decayed CPU-seconds of an association at `now`. */
  usageOf(key: string, now: number): number {
    return usageAt(this.usage.get(key), now, this.halfLifeMs);
  }

  keys(): IterableIterator<string> {
    return this.usage.keys();
  }

  /** For the store: every entry as kept (decay is applied on reading). */
  entries(): Array<[string, DecayedUsage]> {
    return [...this.usage].map(([k, u]) => [k, { ...u }]);
  }
}

/** One row of `grm sshare`, with sshare's columns (and the tree position to indent by). */
export interface SshareRow {
  kind: 'account' | 'user';
  key: string;
  account: string;
  /** '' on account rows */
  user: string;
  /** 1 for accounts under root; sshare indents the Account column by it */
  depth: number;
  rawShares: number;
  normShares: number;
  /** decayed CPU-seconds */
  rawUsage: number;
  normUsage: number;
  effectvUsage: number;
  fairShare: number;
}

export interface FairShareTable {
  /** Total decayed usage of the tree (root's RawUsage). */
  totalUsage: number;
  /** sshare's order: depth first, users of an account before its sub-accounts. */
  rows: SshareRow[];
  /** FairShare of an association or account key; 0 for one the table does not hold. */
  factor(key: string): number;
  row(key: string): SshareRow | undefined;
}

export interface FairShareOptions {
  /** FairShareDampeningFactor (default 1). */
  dampening?: number;
}

/**
 * The fair-share table at `now`. Associations the ledger holds usage for but the tree has not
 * seen yet (users made on first sight, after a restart) are adopted first, so their usage counts.
 */
export function fairShareTable(tree: AccountTree, ledger: UsageLedger, now: number, options: FairShareOptions = {}): FairShareTable {
  for (const key of ledger.keys()) tree.adopt(key);
  const raw = new Map<string, number>();
  const total = rawUsageBelow(tree.root, ledger, now, raw);
  const rows: SshareRow[] = [];
  const byKey = new Map<string, SshareRow>();
  const dampening = options.dampening ?? 1;
  const parents = new Map<AccountNode, { normShares: number; effectvUsage: number }>([[tree.root, { normShares: 1, effectvUsage: 1 }]]);
  for (const node of tree.walk()) {
    const parentNode = node.kind === 'user' ? node.account : node.parent!;
    const parent = parents.get(parentNode)!;
    const row = fairShareRow(node, parentNode, parent, raw.get(node.key) ?? 0, total, dampening);
    if (node.kind === 'account') parents.set(node, row);
    rows.push(row);
    byKey.set(row.key, row);
  }
  return { totalUsage: total, rows, factor: (key) => byKey.get(key)?.fairShare ?? 0, row: (key) => byKey.get(key) };
}

function rawUsageBelow(node: AccountNode, ledger: UsageLedger, now: number, out: Map<string, number>): number {
  let sum = 0;
  for (const u of node.users) {
    const v = ledger.usageOf(u.key, now);
    out.set(u.key, v);
    sum += v;
  }
  for (const a of node.accounts) sum += rawUsageBelow(a, ledger, now, out);
  out.set(node.key, sum);
  return sum;
}

function fairShareRow(
  node: TreeNode,
  parentNode: AccountNode,
  parent: { normShares: number; effectvUsage: number },
  rawUsage: number,
  total: number,
  dampening: number,
): SshareRow {
  const siblings = parentNode.childShares;
  const normShares = siblings > 0 ? (parent.normShares * node.shares) / siblings : 0;
  const normUsage = total > 0 ? rawUsage / total : 0;
  let effectvUsage: number;
  if (parentNode.parent === null) effectvUsage = normUsage; // directly under root
  else if (siblings === 0) effectvUsage = parent.effectvUsage;
  else effectvUsage = normUsage + ((parent.effectvUsage - normUsage) * node.shares) / siblings;
  const fairShare = normShares > 0 ? 2 ** (-effectvUsage / normShares / dampening) : 0;
  return {
    kind: node.kind,
    key: node.key,
    account: node.kind === 'user' ? node.account.name : node.name,
    user: node.kind === 'user' ? node.user : '',
    depth: node.depth,
    rawShares: node.shares,
    normShares,
    rawUsage,
    normUsage,
    effectvUsage,
    fairShare,
  };
}
