/**
 * The association tree, as sacctmgr builds it: root → accounts (which may nest) → users. Each
 * node holds its raw shares (sacctmgr Fairshare=) and its limits; fair share, the limits and the
 * usage tracker all read the same tree.
 *
 * A user association is one user in one account (key "account/user"). Jobs of users or
 * accounts the configuration does not list still get an association, made on first sight:
 * - the job names an account of the tree: the user joins that account with the default shares;
 * - it names none: the user's first configured association, else the default account;
 * - it names an account the tree does not have: the default account (so an unlisted account
 *   never takes shares from the listed ones).
 * The default account, when the configuration does not declare it, hangs under root with 1 share.
 */
import { GrmError } from '../errors.js';
import type { AssocLimits } from './policy-types.js';

export const ROOT_ACCOUNT = 'root';

export interface AccountSpec {
  name: string;
  /** Defaults to root. */
  parent?: string;
  shares: number;
  limits?: AssocLimits;
}

export interface UserSpec {
  name: string;
  account: string;
  shares: number;
  limits?: AssocLimits;
}

export interface AccountTreeSpec {
  accounts: AccountSpec[];
  users: UserSpec[];
  defaultAccount: string;
  /** Raw shares of a user association made on first sight. */
  defaultShares: number;
}

export interface AccountNode {
  kind: 'account';
  /** The account name (account names never hold a '/'). */
  key: string;
  name: string;
  parent: AccountNode | null;
  /** root = 0 */
  depth: number;
  shares: number;
  limits: AssocLimits;
  accounts: AccountNode[];
  users: UserAssoc[];
  /** The shares of all direct children, accounts and users: SLURM's level_shares of each child. */
  childShares: number;
}

export interface UserAssoc {
  kind: 'user';
  /** "account/user" */
  key: string;
  user: string;
  account: AccountNode;
  depth: number;
  shares: number;
  limits: AssocLimits;
}

export type TreeNode = AccountNode | UserAssoc;

export function associationKey(account: string, user: string): string {
  return `${account}/${user}`;
}

function invalid(field: string, message: string): GrmError {
  return new GrmError('E_CONFIG_INVALID', `invalid configuration: ${field}: ${message}`, { field });
}

export class AccountTree {
  readonly root: AccountNode;
  readonly defaultAccount: string;
  readonly defaultShares: number;
  private readonly accountsByName = new Map<string, AccountNode>();
  private readonly assocs = new Map<string, UserAssoc>();
  /** A user's first configured association: the one used when a job names no account. */
  private readonly firstAssoc = new Map<string, UserAssoc>();
  private readonly levelCache = new Map<UserAssoc, ReadonlyArray<UserAssoc | AccountNode>>();

  constructor(spec: AccountTreeSpec, field = 'policy') {
    if (spec.defaultAccount === ROOT_ACCOUNT || spec.defaultAccount.includes('/')) {
      throw invalid(`${field}.defaultAccount`, `"${spec.defaultAccount}" cannot be the default account (an account name, not root)`);
    }
    this.defaultAccount = spec.defaultAccount;
    this.defaultShares = spec.defaultShares;
    this.root = this.makeAccount(ROOT_ACCOUNT, null, 1, {});
    this.addAccounts(spec.accounts, field);
    if (!this.accountsByName.has(spec.defaultAccount)) this.attachAccount(this.makeAccount(spec.defaultAccount, this.root, 1, {}));
    spec.users.forEach((u, i) => {
      const account = this.accountsByName.get(u.account);
      if (!account) throw invalid(`${field}.users[${i}].account`, `account "${u.account}" is not defined in ${field}.accounts`);
      if (this.assocs.has(associationKey(u.account, u.name))) throw invalid(`${field}.users[${i}]`, `user "${u.name}" is listed twice in account "${u.account}"`);
      const assoc = this.addUser(u.name, account, u.shares, u.limits ?? {});
      if (!this.firstAssoc.has(u.name)) this.firstAssoc.set(u.name, assoc);
    });
  }

  account(name: string): AccountNode | undefined {
    return this.accountsByName.get(name);
  }

  /** The association a job of `user` charging `account` belongs to; made on first sight. */
  association(user: string, account?: string): UserAssoc {
    if (account === undefined || account === '') {
      const first = this.firstAssoc.get(user);
      if (first) return first;
      account = this.defaultAccount;
    }
    const known = this.assocs.get(associationKey(account, user));
    if (known) return known;
    const node = this.accountsByName.get(account);
    if (!node || node === this.root) return this.association(user, this.defaultAccount);
    return this.addUser(user, node, this.defaultShares, {});
  }

  /** The association of a key ("account/user"), made if its account exists; else undefined. */
  adopt(key: string): UserAssoc | undefined {
    const slash = key.indexOf('/');
    if (slash <= 0) return undefined;
    const account = key.slice(0, slash);
    const node = this.accountsByName.get(account);
    if (!node || node === this.root) return this.assocs.get(key);
    return this.association(key.slice(slash + 1), account);
  }

  /** The accounts above an association, nearest first, root excluded. */
  accountsAbove(assoc: UserAssoc): AccountNode[] {
    const path: AccountNode[] = [];
    for (let node: AccountNode | null = assoc.account; node && node !== this.root; node = node.parent) path.push(node);
    return path;
  }

  /**
   * The association and the accounts above it (root excluded): where its limits are read.
   * Cached: accounts never move once the tree is built (a new configuration builds a new tree).
   */
  levels(assoc: UserAssoc): ReadonlyArray<UserAssoc | AccountNode> {
    let path = this.levelCache.get(assoc);
    if (!path) this.levelCache.set(assoc, (path = [assoc, ...this.accountsAbove(assoc)]));
    return path;
  }

  /** Every node but root in sshare's order: depth first, an account's users before its sub-accounts. */
  walk(): TreeNode[] {
    const out: TreeNode[] = [];
    const visit = (node: AccountNode): void => {
      for (const u of node.users) out.push(u);
      for (const a of node.accounts) {
        out.push(a);
        visit(a);
      }
    };
    visit(this.root);
    return out;
  }

  /** Changes an account's limits at run time (sacctmgr modify account). */
  setAccountLimits(name: string, limits: AssocLimits): void {
    const node = this.accountsByName.get(name);
    if (!node) throw new GrmError('E_ACCOUNT_INVALID', `Invalid account "${name}": not in the policy's account tree`, { field: 'account' });
    node.limits = { ...limits };
  }

  /** Changes a user association's limits at run time (sacctmgr modify user). */
  setUserLimits(user: string, account: string | undefined, limits: AssocLimits): void {
    this.association(user, account).limits = { ...limits };
  }

  private addAccounts(specs: AccountSpec[], field: string): void {
    const byName = new Map<string, number>();
    specs.forEach((a, i) => {
      if (a.name === ROOT_ACCOUNT) throw invalid(`${field}.accounts[${i}].name`, `"${ROOT_ACCOUNT}" is the tree's root and cannot be declared`);
      if (a.name.includes('/')) throw invalid(`${field}.accounts[${i}].name`, `an account name cannot hold "/"`);
      if (byName.has(a.name)) throw invalid(`${field}.accounts[${i}].name`, `account "${a.name}" is declared twice`);
      byName.set(a.name, i);
    });
    const resolving = new Set<string>();
    const resolve = (name: string): AccountNode => {
      const done = this.accountsByName.get(name);
      if (done) return done;
      const i = byName.get(name)!;
      const spec = specs[i]!;
      const parentName = spec.parent ?? ROOT_ACCOUNT;
      if (parentName !== ROOT_ACCOUNT && !byName.has(parentName)) {
        throw invalid(`${field}.accounts[${i}].parent`, `account "${parentName}" is not defined in ${field}.accounts`);
      }
      if (resolving.has(name)) throw invalid(`${field}.accounts[${i}].parent`, `account "${name}" is its own ancestor`);
      resolving.add(name);
      const parent = parentName === ROOT_ACCOUNT ? this.root : resolve(parentName);
      resolving.delete(name);
      return this.attachAccount(this.makeAccount(name, parent, spec.shares, spec.limits ?? {}));
    };
    // in declaration order, so siblings keep the order they were written in
    for (const spec of specs) resolve(spec.name);
  }

  private makeAccount(name: string, parent: AccountNode | null, shares: number, limits: AssocLimits): AccountNode {
    return { kind: 'account', key: name, name, parent, depth: parent ? parent.depth + 1 : 0, shares, limits: { ...limits }, accounts: [], users: [], childShares: 0 };
  }

  private attachAccount(node: AccountNode): AccountNode {
    this.accountsByName.set(node.name, node);
    if (node.parent) {
      node.parent.accounts.push(node);
      node.parent.childShares += node.shares;
    }
    return node;
  }

  private addUser(user: string, account: AccountNode, shares: number, limits: AssocLimits): UserAssoc {
    const assoc: UserAssoc = { kind: 'user', key: associationKey(account.name, user), user, account, depth: account.depth + 1, shares, limits: { ...limits } };
    account.users.push(assoc);
    account.childShares += shares;
    this.assocs.set(assoc.key, assoc);
    return assoc;
  }
}
