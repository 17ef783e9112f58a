/**
 * `grm sbatch --help`, `--usage` and `--version`, generated from the option table so they
 * always list exactly what the parser accepts. Laid out as `sbatch --help`: sections in
 * sbatch's order, one line per option, the description from column 31. Pure.
 */
import { HELP_GROUPS, OPTIONS, type OptionSpec } from './sbatch-option-table.js';

const DESCRIPTION_COLUMN = 30;
const USAGE_WIDTH = 80;

/** `--nodes=N`, `--nice[=value]` or `--hold`, as sbatch --help spells the argument. */
function spelling(spec: OptionSpec): string {
  const metavar = spec.metavar ?? 'value';
  if (spec.arg === 'none') return `--${spec.long}`;
  return spec.arg === 'optional' ? `--${spec.long}[=${metavar}]` : `--${spec.long}=${metavar}`;
}

/** One help line: `  -N, --nodes=N               number of nodes ...` */
export function helpLine(spec: OptionSpec): string {
  const left = `  ${spec.short ? `-${spec.short}, ` : '    '}${spelling(spec)}`;
  // Like sbatch, a spelling too wide for the column is followed by one space.
  return left.length < DESCRIPTION_COLUMN ? `${left.padEnd(DESCRIPTION_COLUMN)}${spec.help}` : `${left} ${spec.help}`;
}

export function sbatchHelpText(): string {
  const lines = ['Usage: grm sbatch [OPTIONS...] script [args...]', '       grm sbatch [OPTIONS...] --wrap="command"'];
  for (const group of HELP_GROUPS) {
    const specs = OPTIONS.filter((o) => o.group === group).sort((a, b) => a.long.localeCompare(b.long));
    if (specs.length === 0) continue;
    lines.push('', `${group}:`, ...specs.map(helpLine));
  }
  lines.push(
    '',
    'Options may also be given in the script, one or more per line, in "#SBATCH" lines',
    '(GRM options in "#GRM" lines) before its first command; the command line wins.',
    '',
  );
  return lines.join('\n');
}

/** The brief form of sbatch --usage: every option in brackets, wrapped, then the script. */
export function sbatchUsageText(): string {
  const items = OPTIONS.map((spec) => {
    if (spec.short && spec.arg === 'required') return `[-${spec.short} ${spec.metavar ?? 'value'}]`;
    return `[${spelling(spec)}]`;
  });
  items.push('script [args...]');
  const head = 'Usage: grm sbatch ';
  const lines: string[] = [];
  let line = head;
  for (const item of items) {
    if (line.length > head.length && line.length + 1 + item.length > USAGE_WIDTH) {
      lines.push(line);
      line = ' '.repeat(head.length);
    }
    line += line.trim() === '' || line === head ? item : ` ${item}`;
  }
  lines.push(line, '');
  return lines.join('\n');
}

/**
 * What `grm sbatch --version` prints: the tool and its version first, as `sbatch -V`
 * prints "slurm 23.11.4", so scripts reading the second word still find a version.
 */
export function sbatchVersionText(grmVersion: string): string {
  return `grm ${grmVersion} (sbatch-compatible)\n`;
}
