/**
 * grm user (admin only): add, list, show, modify, disable, enable, token, tokens, revoke; and
 * grm audit. A new token is printed alone on the last line, so scripts take `tail -n 1`.
 */
import { Command, Option } from 'commander';
import { CliError, type ApiClient } from '../api-client.js';
import type { CliIo } from '../io.js';

interface RunAsView {
  uid: number;
  gid: number;
  groups: number[];
}

interface TokenView {
  id: number;
  user_name: string;
  state: string;
  created_time: string;
  expires_time: string | null;
  revoked_time: string | null;
  last_used_time: string | null;
}

interface UserView {
  name: string;
  role: string;
  accounts: string[];
  default_account: string | null;
  enabled: boolean;
  run_as: RunAsView | null;
  created_time: string;
  created_by: string;
  tokens?: TokenView[];
}

interface IssuedView {
  id: number;
  token: string;
  expires_time: string | null;
}

interface AuditView {
  id: number;
  time: string;
  last_time: string;
  count: number;
  actor: string | null;
  action: string;
  target: string | null;
  outcome: string;
  remote: string | null;
}

interface RunAsOptions {
  uid?: string;
  gid?: string;
  groups?: string;
}

/** A number the way SLURM's tools read one: decimal digits only. */
function integer(text: string, what: string): number {
  if (!/^\d{1,10}$/.test(text.trim())) throw new CliError(`Invalid ${what} "${text}": a number (numeric ids, e.g. 1001)`);
  return Number(text.trim());
}

/** --uid/--gid/--groups → run_as: both ids or neither; groups are numeric gids. */
export function runAsOf(o: RunAsOptions): RunAsView | undefined {
  if (o.uid === undefined && o.gid === undefined) {
    if (o.groups !== undefined) throw new CliError('--groups needs --uid and --gid');
    return undefined;
  }
  if (o.uid === undefined || o.gid === undefined) throw new CliError('--uid and --gid go together: the local identity the user\'s jobs run as');
  const groups = (o.groups ?? '').split(',').filter((g) => g.trim() !== '').map((g) => integer(g, 'group id'));
  return { uid: integer(o.uid, 'uid'), gid: integer(o.gid, 'gid'), groups };
}

const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(',').filter((a) => a.trim() !== '')];
const when = (iso: string | null) => (iso === null ? 'never' : iso.replace(/\.\d{3}Z$/, 'Z'));

/** Left-aligned columns, two spaces apart, as sacctmgr's plain lists. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

function userRow(u: UserView): string[] {
  const runAs = u.run_as ? `${u.run_as.uid}:${u.run_as.gid}${u.run_as.groups.length ? `+${u.run_as.groups.join(',')}` : ''}` : '-';
  return [u.name, u.role, u.enabled ? 'enabled' : 'DISABLED', u.default_account ?? '-', u.accounts.join(',') || '-', runAs];
}

const tokenRows = (tokens: TokenView[]) =>
  table(['ID', 'STATE', 'CREATED', 'EXPIRES', 'LAST_USED'], tokens.map((t) => [String(t.id), t.state, when(t.created_time), when(t.expires_time), t.last_used_time ? when(t.last_used_time) : '-']));

const path = (name: string) => `/api/v1/users/${encodeURIComponent(name)}`;

type Out = (text: string) => void;

export function userCommand(io: CliIo, client: () => ApiClient): Command {
  const out: Out = (text) => io.stdout(`${text}\n`);
  const user = new Command('user').description('users, roles, accounts and tokens (administrators only)');
  addCommand(user, out, client);
  accountCommands(user, out, client);
  tokenCommands(user, out, client);
  return user;
}

function addCommand(user: Command, out: Out, client: () => ApiClient): void {
  user
    .command('add')
    .description('add a user; --print-token also issues their first token and prints it alone on the last line')
    .argument('<name>', 'user name (Unix-style: lower case, digits, _ . -)')
    .addOption(new Option('--role <role>', 'user or admin').choices(['user', 'admin']).default('user'))
    .option('-A, --account <accounts>', 'an account the user may charge (repeatable, or a,b); the first is the default', collect)
    .option('--uid <uid>', 'local uid the user\'s jobs run as')
    .option('--gid <gid>', 'local gid the user\'s jobs run as')
    .option('--groups <gids>', 'supplementary group ids, a,b')
    .option('--print-token', 'issue a token now and print it (shown once)')
    .option('--expires <lifetime>', 'the token\'s lifetime: 90m, 12h, 30d, 2w, never (default: the daemon\'s auth.tokenLifetimeDays)')
    .action(async (name: string, o: RunAsOptions & { role: string; account?: string[]; printToken?: boolean; expires?: string }) => {
      const runAs = runAsOf(o);
      const body = { name, role: o.role, accounts: o.account ?? [], ...(runAs ? { run_as: runAs } : {}), ...(o.printToken ? { token: true } : {}), ...(o.expires ? { expires: o.expires } : {}) };
      const { user: u, token } = await client().request<{ user: UserView; token: IssuedView | null }>('POST', '/api/v1/users', body);
      out(`Added user ${u.name} (role ${u.role}${u.default_account ? `, default account ${u.default_account}` : ''})`);
      if (token) {
        out(`Token ${token.id} for ${u.name}, expires ${when(token.expires_time)}; shown this once:`);
        out(token.token);
      }
    });
}

function accountCommands(user: Command, out: Out, client: () => ApiClient): void {
  user
    .command('list')
    .description('every user')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const { users } = await client().request<{ users: UserView[] }>('GET', '/api/v1/users');
      out(o.json ? JSON.stringify({ users }, null, 2) : table(['USER', 'ROLE', 'STATE', 'DEF_ACCOUNT', 'ACCOUNTS', 'RUN_AS'], users.map(userRow)));
    });

  user
    .command('show')
    .description('one user and their tokens (never the tokens themselves)')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const u = await client().request<UserView>('GET', path(name));
      if (o.json) return out(JSON.stringify(u, null, 2));
      out(table(['USER', 'ROLE', 'STATE', 'DEF_ACCOUNT', 'ACCOUNTS', 'RUN_AS'], [userRow(u)]));
      out(`\n${tokenRows(u.tokens ?? [])}`);
    });

  user
    .command('modify')
    .description('change a user\'s role, accounts or run-as identity')
    .argument('<name>')
    .addOption(new Option('--role <role>', 'user or admin').choices(['user', 'admin']))
    .option('-A, --account <accounts>', 'the accounts the user may charge, replacing theirs (repeatable, or a,b)', collect)
    .option('--uid <uid>', 'local uid')
    .option('--gid <gid>', 'local gid')
    .option('--groups <gids>', 'supplementary group ids, a,b')
    .option('--no-run-as', 'remove the run-as mapping')
    .action(async (name: string, o: RunAsOptions & { role?: string; account?: string[]; runAs?: boolean }) => {
      const runAs = o.runAs === false ? null : runAsOf(o);
      const body = { ...(o.role ? { role: o.role } : {}), ...(o.account ? { accounts: o.account } : {}), ...(runAs !== undefined ? { run_as: runAs } : {}) };
      if (Object.keys(body).length === 0) throw new CliError('nothing to change: give --role, --account, --uid/--gid/--groups or --no-run-as');
      out(table(['USER', 'ROLE', 'STATE', 'DEF_ACCOUNT', 'ACCOUNTS', 'RUN_AS'], [userRow(await client().request<UserView>('PATCH', path(name), body))]));
    });

  for (const [verb, enabled] of [['disable', false], ['enable', true]] as const) {
    user
      .command(verb)
      .description(enabled ? 'let a disabled user in again' : 'refuse every token of a user until enabled again')
      .argument('<name>')
      .action(async (name: string) => {
        await client().request('PATCH', path(name), { enabled });
        out(`User ${name} ${verb}d`);
      });
  }
}

function tokenCommands(user: Command, out: Out, client: () => ApiClient): void {
  user
    .command('token')
    .description('issue a new token for a user and print it alone on the last line (shown once)')
    .argument('<name>')
    .option('--expires <lifetime>', '90m, 12h, 30d, 2w or never (default: the daemon\'s auth.tokenLifetimeDays)')
    .action(async (name: string, o: { expires?: string }) => {
      const t = await client().request<IssuedView>('POST', `${path(name)}/tokens`, o.expires ? { expires: o.expires } : {});
      out(`Token ${t.id} for ${name}, expires ${when(t.expires_time)}; shown this once:`);
      out(t.token);
    });

  user
    .command('tokens')
    .description("a user's tokens: id, state, times")
    .argument('<name>')
    .action(async (name: string) => {
      out(tokenRows((await client().request<{ tokens: TokenView[] }>('GET', `${path(name)}/tokens`)).tokens));
    });

  user
    .command('revoke')
    .description('revoke tokens of a user: by id, or --all')
    .argument('<name>')
    .argument('[ids...]', 'token ids (grm user tokens NAME)')
    .option('--all', 'every token of the user')
    .action(async (name: string, ids: string[], o: { all?: boolean }) => {
      if (o.all === Boolean(ids.length)) throw new CliError('give token ids or --all (not both)');
      const api = client();
      const revoked: TokenView[] = [];
      if (o.all) revoked.push(...(await api.request<{ revoked: TokenView[] }>('DELETE', `${path(name)}/tokens`)).revoked);
      for (const id of ids) revoked.push(...(await api.request<{ revoked: TokenView[] }>('DELETE', `${path(name)}/tokens/${integer(id, 'token id')}`)).revoked);
      out(revoked.length ? `Revoked token${revoked.length > 1 ? 's' : ''} ${revoked.map((t) => t.id).join(', ')} of ${name}` : `No active token of ${name} to revoke`);
    });
}

export function auditCommand(io: CliIo, client: () => ApiClient): Command {
  return new Command('audit')
    .description('the audit log, newest first: authentication failures and admin actions (administrators only)')
    .option('-n, --limit <n>', 'at most this many rows', '50')
    .option('--all', 'every row, page after page')
    .option('--actor <user>', 'only this actor\'s actions')
    .option('--action <action>', 'only this action: auth.fail, user.add, token.revoke, job.cancel, ...')
    .option('--json', 'print JSON')
    .action(async (o: { limit: string; all?: boolean; actor?: string; action?: string; json?: boolean }) => {
      const api = client();
      const want = o.all ? Infinity : Math.max(1, integer(o.limit, '--limit'));
      const events: AuditView[] = [];
      let cursor: string | null = null;
      do {
        const q = new URLSearchParams({ limit: String(Math.min(1000, want - events.length)) });
        if (o.actor) q.set('actor', o.actor);
        if (o.action) q.set('action', o.action);
        if (cursor) q.set('cursor', cursor);
        const page: { events: AuditView[]; next_cursor: string | null } = await api.request('GET', `/api/v1/audit?${q}`);
        events.push(...page.events);
        cursor = page.next_cursor;
      } while (cursor !== null && events.length < want);
      if (o.json) return io.stdout(`${JSON.stringify({ events }, null, 2)}\n`);
      const rows = events.map((e) => [when(e.time), e.action, e.actor ?? '-', e.target ?? '-', e.outcome, e.remote ?? '-', e.count > 1 ? `${e.count} until ${when(e.last_time)}` : '1']);
      io.stdout(`${table(['TIME', 'ACTION', 'ACTOR', 'WHERE', 'OUTCOME', 'REMOTE', 'COUNT'], rows)}\n`);
    });
}
