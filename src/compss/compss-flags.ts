/**
 * `--compss-flags="--tracing=true --graph"`: extra runcompss flags, split into an argv the
 * way a shell would split words — but never run through a shell. Operators, globs and
 * command substitution are refused; `$NAME` stays literal text.
 */
import { parse } from 'shell-quote';
import { GrmError } from '../errors.js';

/** Flags GRM sets for every job from its allocation; a job may not point them elsewhere. */
const GRM_OWNED = ['--project', '--resources', '--master_name', '--master_port', '--specific_log_dir', '--lang'];

export function splitCompssFlags(text: string, option = '--compss-flags'): string[] {
  let entries: ReturnType<typeof parse>;
  try {
    entries = parse(text, (name) => `$${name}`);
  } catch (e) {
    throw new GrmError('E_OPTION_INVALID', `Invalid ${option} ${JSON.stringify(text)}: ${(e as Error).message}`, { field: option });
  }
  return entries.map((entry) => {
    if (typeof entry === 'string') {
      const owned = GRM_OWNED.find((flag) => entry === flag || entry.startsWith(`${flag}=`));
      if (owned) {
        throw new GrmError('E_OPTION_INVALID', `Invalid ${option}: ${owned} is set by GRM for each job${owned === '--lang' ? ' (use --lang)' : ''}`, {
          field: option,
        });
      }
      return entry;
    }
    const what = 'op' in entry ? `the shell operator '${entry.op}'` : 'comment' in entry ? 'a comment' : 'a shell construct';
    throw new GrmError(
      'E_OPTION_INVALID',
      `Invalid ${option} ${JSON.stringify(text)}: ${what} is not allowed; give runcompss flags only (they are passed as arguments, never to a shell)`,
      { field: option },
    );
  });
}
