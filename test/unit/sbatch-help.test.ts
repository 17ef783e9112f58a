/**
 * `grm sbatch --help`, `--usage` and `--version` (generated from the option table), and the
 * CLI paths that need neither a script nor a daemon: those three, --wrap and --test-only.
 */
import fs from 'node:fs';
import t from 'tap';
import { CliError } from '../../src/cli/api-client.js';
import { sbatchCommand } from '../../src/cli/commands/sbatch.js';
import type { CliIo } from '../../src/cli/io.js';
import { GrmError } from '../../src/errors.js';
import { helpLine, sbatchHelpText, sbatchUsageText, sbatchVersionText } from '../../src/sbatch/sbatch-help.js';
import { HELP_GROUPS, UNSUPPORTED_SBATCH } from '../../src/sbatch/sbatch-option-table.js';
import { SBATCH_OPTIONS } from '../../src/sbatch/sbatch-options.js';

const HELP = sbatchHelpText();
const VERSION = (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The lines of one help section (from its heading to the next blank line). */
function section(group: string): string[] {
  const lines = HELP.split('\n');
  const start = lines.indexOf(`${group}:`);
  if (start < 0) return [];
  const end = lines.indexOf('', start);
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

// ---------------------------------------------------------------- --help

t.test('--help lists every option of the table, with its short form and description', async (t) => {
  t.ok(SBATCH_OPTIONS.length >= 45);
  for (const spec of SBATCH_OPTIONS) {
    const line = HELP.split('\n').find((l) => new RegExp(`^  (-., |    )--${spec.long}([=[ ]|$)`).test(l));
    t.ok(line, `--${spec.long} is listed`);
    if (!line) continue;
    t.ok(line.startsWith(spec.short ? `  -${spec.short}, --${spec.long}` : `      --${spec.long}`), line);
    t.ok(line.endsWith(spec.help), line);
    t.equal(line, helpLine(spec));
  }
});

t.test('--help shows each option in its section, once', async (t) => {
  for (const spec of SBATCH_OPTIONS) {
    t.ok(section(spec.group).includes(helpLine(spec)), `--${spec.long} under ${spec.group}`);
    t.equal(HELP.split('\n').filter((l) => l === helpLine(spec)).length, 1, `--${spec.long} once`);
  }
});

t.test("--help's sections come in sbatch's order, then GRM's, none empty", async (t) => {
  const headings = HELP.split('\n').filter((l) => /^[A-Z].*options.*:$/.test(l));
  t.same(headings, HELP_GROUPS.map((g) => `${g}:`));
  for (const g of HELP_GROUPS) t.ok(section(g).length > 0, g);
  t.same(section('Help options'), [
    '  -h, --help                  show this help message',
    '      --usage                 display brief usage message',
  ]);
  t.same(section('Other options'), ['  -V, --version               output version information and exit']);
});

t.test("--help spells arguments as sbatch does: =ARG, [=ARG] when optional, none for flags", async (t) => {
  t.match(HELP, /^ {2}-N, --nodes=N {15}number of nodes on which to run \(N = min\[-max\]\)$/m);
  t.match(HELP, /^ {6}--nice\[=value\] {10}decrease scheduling priority by value$/m);
  t.match(HELP, /^ {2}-H, --hold {18}submit job in held state$/m);
  t.match(HELP, /^ {6}--signal=\[\{R\|B\}:\]num\[@time\] send signal when time limit within time seconds$/m);
  t.match(HELP, /^ {6}--wrap=command {10}wrap command string in a sh script and submit$/m);
  t.match(HELP, /^ {6}--gpus-per-node=n {7}number of GPUs required per allocated node$/m);
});

t.test('--help starts with the usage and lists no unsupported option', async (t) => {
  t.match(HELP, /^Usage: grm sbatch \[OPTIONS\.\.\.\] script \[args\.\.\.\]\n/);
  for (const name of UNSUPPORTED_SBATCH) t.notMatch(HELP, new RegExp(`--${name}\\b(?!-)`), name);
});

// ---------------------------------------------------------------- --usage and --version

t.test('--usage names every option in brackets, wrapped at 80 columns, ending with the script', async (t) => {
  const usage = sbatchUsageText();
  t.match(usage, /^Usage: grm sbatch \[-J jobname\] \[-N N\]/);
  t.match(usage, /script \[args\.\.\.\]\n$/);
  for (const line of usage.trimEnd().split('\n')) t.ok(line.length <= 80, line);
  for (const spec of SBATCH_OPTIONS) {
    const shown = spec.short && spec.arg === 'required' ? `[-${spec.short} ` : `[--${spec.long}`;
    t.ok(usage.includes(shown), `--${spec.long}`);
  }
});

t.test('--version names grm and its version first, as sbatch -V names slurm', async (t) => {
  t.equal(sbatchVersionText('1.2.3'), 'grm 1.2.3 (sbatch-compatible)\n');
});

// ---------------------------------------------------------------- the CLI

function fakeIo(): CliIo & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout: (s: string) => void (io.out += s),
    stderr: (s: string) => void (io.err += s),
    env: { GRM_URL: 'http://127.0.0.1:9' } as NodeJS.ProcessEnv,
    cwd: '/nonexistent',
    readStdin: async () => {
      throw new Error('stdin must not be read');
    },
  };
  return io;
}

t.test('grm sbatch --help / -h prints the help and exits 0 without a script or daemon', async (t) => {
  for (const argv of [['--help'], ['-h'], ['-N', '2', '--help']]) {
    const io = fakeIo();
    t.equal(await sbatchCommand(argv, io), 0);
    t.equal(io.out, HELP);
    t.equal(io.err, '');
  }
});

t.test('grm sbatch --usage prints the usage and exits 0', async (t) => {
  const io = fakeIo();
  t.equal(await sbatchCommand(['--usage'], io), 0);
  t.equal(io.out, sbatchUsageText());
});

t.test("grm sbatch --version / -V prints package.json's version and exits 0", async (t) => {
  for (const argv of [['--version'], ['-V']]) {
    const io = fakeIo();
    t.equal(await sbatchCommand(argv, io), 0);
    t.equal(io.out, `grm ${VERSION} (sbatch-compatible)\n`);
  }
});

t.test('grm sbatch --wrap --dry-run reads no file or stdin', async (t) => {
  const io = fakeIo();
  t.equal(await sbatchCommand(['--wrap=hostname', '--dry-run', '--json', '-N', '1'], io), 0);
  const shown = JSON.parse(io.out) as Record<string, unknown>;
  t.equal(shown.script, '#!/bin/sh\n# This script was created by sbatch --wrap.\n\nhostname\n');
  t.equal(shown.name, 'wrap');
  t.same(shown.argv, []);
  t.equal(shown.minimum_nodes, 1);
});

t.test('grm sbatch --wrap with a script file fails before reading it', async (t) => {
  await t.rejects(sbatchCommand(['--wrap=hostname', 'job.sh'], fakeIo()), {
    constructor: GrmError,
    message: 'Script arguments not permitted with --wrap option',
  });
});

t.test('grm sbatch --test-only is refused rather than submitting a real job (for now)', async (t) => {
  await t.rejects(sbatchCommand(['--test-only', '--wrap=true'], fakeIo()), { constructor: CliError, message: /--test-only is not available yet/ });
});
