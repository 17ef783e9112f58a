/**
 * grm sprio, grm sshare and grm sacctmgr: the queue policy's figures (GET /api/v1/priority,
 * /shares) in the columns of SLURM's sprio and sshare (sprio reads every page: the list is
 * never cut), and its limits (GET/PATCH /api/v1/policy/limits) in sacctmgr's words.
 */
import { Command } from 'commander';
import type { ApiClient } from '../api-client.js';
import { table } from '../format.js';
import type { CliIo } from '../io.js';
import { parseSacctmgrModify, sacctmgrName } from '../sacctmgr-args.js';
import { terminalSafe } from '../terminal-safe.js';
import { CliError } from '../api-client.js';

interface SprioView {
  job_id: number;
  partition: string;
  user: string;
  priority: number;
  age: number;
  fairshare: number;
  job_size: number;
  partition_factor: number;
  qos: number;
  nice: number;
}

interface ShareView {
  account: string;
  user: string;
  depth: number;
  raw_shares: number;
  norm_shares: number;
  raw_usage: number;
  effectv_usage: number;
  fairshare: number;
}

/** sprio -n prints factors with 7 decimals, sprio whole weighted numbers. */
const factor = (x: number, normalised: boolean): string => (normalised ? x.toFixed(7) : String(Math.round(x)));

export function formatSprio(rows: SprioView[], normalised: boolean): string {
  const lines = [['JOBID', 'PARTITION', 'USER', 'PRIORITY', 'AGE', 'FAIRSHARE', 'JOBSIZE', 'PARTITION', 'QOS', 'NICE']];
  for (const r of rows) {
    const f = (x: number) => factor(x, normalised);
    lines.push([String(r.job_id), r.partition, r.user, String(r.priority), f(r.age), f(r.fairshare), f(r.job_size), f(r.partition_factor), f(r.qos), String(r.nice)]);
  }
  return table(lines, [true, false, false, true, true, true, true, true, true, true]);
}

export function formatSshare(rows: ShareView[]): string {
  const lines = [['Account', 'User', 'RawShares', 'NormShares', 'RawUsage', 'EffectvUsage', 'FairShare']];
  for (const r of rows) {
    // sshare indents the account column by the depth in the tree
    const account = `${' '.repeat(Math.max(0, r.depth - (r.user ? 0 : 1)))}${r.account}`;
    lines.push([account, r.user, String(r.raw_shares), r.norm_shares.toFixed(6), String(Math.round(r.raw_usage)), r.effectv_usage.toFixed(6), r.fairshare.toFixed(6)]);
  }
  return table(lines, [false, false, true, true, true, true, true]);
}

export function sprioCommand(io: CliIo, client: () => ApiClient): Command {
  return new Command('sprio')
    .description("pending jobs' priority and its weighted factors, like sprio (yours; an admin sees every user's)")
    .option('-n, --norm', 'the factors before weighting, in [0, 1]')
    .option('-u, --user <users>', 'only these users (comma-separated)')
    .option('-h, --noheader', 'no header line')
    .option('--json', 'print JSON')
    .action(async (o: { norm?: boolean; user?: string; noheader?: boolean; json?: boolean }) => {
      const rows: SprioView[] = [];
      for (let after = 0; ; ) {
        const page = await client().request<{ jobs: SprioView[]; last_id: number; more: boolean }>('GET', `/api/v1/priority?after=${after}&limit=10000${o.norm ? '&normalized=true' : ''}`);
        rows.push(...page.jobs);
        if (!page.more) break;
        after = page.last_id;
      }
      const users = o.user ? new Set(o.user.split(',')) : null;
      const shown = users ? rows.filter((r) => users.has(r.user)) : rows;
      if (o.json) return io.stdout(`${JSON.stringify({ jobs: shown }, null, 2)}\n`);
      const text = formatSprio(terminalSafe(shown), o.norm ?? false);
      io.stdout(`${o.noheader ? text.split('\n').slice(1).join('\n') : text}\n`);
    });
}

export function sshareCommand(io: CliIo, client: () => ApiClient): Command {
  return new Command('sshare')
    .description('the fair-share tree, like sshare: shares, decayed usage (CPU-seconds) and fair-share factor of each account and user')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const { shares } = await client().request<{ shares: ShareView[] }>('GET', '/api/v1/shares');
      io.stdout(o.json ? `${JSON.stringify({ shares }, null, 2)}\n` : `${formatSshare(terminalSafe(shares))}\n`);
    });
}

interface LimitsView {
  kind: 'account' | 'user' | 'qos';
  name: string;
  limits: Record<string, number>;
}

const limitText = (limits: Record<string, number>): string =>
  Object.entries(limits)
    .map(([k, v]) => `${sacctmgrName(k)}=${v}`)
    .join(' ');

export function sacctmgrCommand(io: CliIo, client: () => ApiClient): Command {
  return new Command('sacctmgr')
    .description('the queue policy\'s limits, like sacctmgr: show assoc|qos, modify user|account|qos name=X [account=A] set MaxJobs=2 GrpTRES=node=4 ... (-1 clears; admin)')
    .argument('<verb>', 'show or modify')
    .argument('[words...]', 'what and how, in sacctmgr\'s words')
    .option('-i, --immediate', 'accepted: GRM commits at once, with no question')
    .option('-n, --noheader', 'no header line')
    .allowUnknownOption(false)
    .action(async (verb: string, words: string[], o: { noheader?: boolean }) => {
      if (verb === 'modify' || verb === 'update') {
        const m = parseSacctmgrModify(words);
        const body = { [m.entity]: m.name, ...(m.account !== undefined ? { account: m.account } : {}), set: m.set };
        const r = await client().request<LimitsView>('PATCH', '/api/v1/policy/limits', body);
        return io.stdout(`Modified ${r.kind} ${r.name}: ${limitText(r.limits) || 'no limits'}\n`);
      }
      if (verb !== 'show' && verb !== 'list') throw new CliError(`sacctmgr: error: unknown command "${verb}" (GRM's sacctmgr: show, modify)`);
      const what = (words[0] ?? 'assoc').toLowerCase();
      const kinds = what.startsWith('qos') ? ['qos'] : what.startsWith('assoc') || what === 'limits' ? ['account', 'user', 'qos'] : null;
      if (!kinds) throw new CliError(`sacctmgr: error: show what? assoc or qos (not "${words[0]}")`);
      const { limits } = await client().request<{ limits: LimitsView[] }>('GET', '/api/v1/policy/limits');
      const rows = [['Kind', 'Name', 'Limits'], ...terminalSafe(limits.filter((l) => kinds.includes(l.kind))).map((l) => [l.kind, l.name, limitText(l.limits)])];
      const shown = o.noheader ? rows.slice(1) : rows;
      const text = shown.length > 0 ? table(shown, [false, false, false]) : '';
      io.stdout(text ? `${text}\n` : '');
    });
}
