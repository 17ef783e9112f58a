/**
 * The configured bounds of one job description (config `limits`): the schema holds the hard
 * ceilings; these are the site's own, usually lower, counted in UTF-8 bytes as the kernel and
 * the store count them. A refusal names the field, the value and the setting. Pure.
 */
import { GrmError } from '../errors.js';
import type { JobDescription } from '../jobs/job-types.js';

export interface FieldLimits {
  scriptBytes: number;
  argvItems: number;
  argvBytes: number;
  environmentItems: number;
  environmentBytes: number;
  nameChars: number;
}

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

function tooLarge(field: string, what: string, limit: number, setting: string): GrmError {
  return new GrmError('E_REQUEST_TOO_LARGE', `${field}: ${what}; the daemon takes at most ${limit} (limits.${setting})`, { field });
}

/** Throws E_REQUEST_TOO_LARGE for the first bound a description passes. */
export function checkDescriptionLimits(d: JobDescription, limits: FieldLimits): void {
  if (d.name !== undefined && [...d.name].length > limits.nameChars) {
    throw tooLarge('name', `${[...d.name].length} characters`, limits.nameChars, 'nameChars');
  }
  if (d.script !== undefined && bytes(d.script) > limits.scriptBytes) {
    throw tooLarge('script', `${bytes(d.script)} bytes`, limits.scriptBytes, 'scriptBytes');
  }
  if (d.argv !== undefined) {
    if (d.argv.length > limits.argvItems) throw tooLarge('argv', `${d.argv.length} arguments`, limits.argvItems, 'argvItems');
    // each argument also costs its NUL in exec's argument area, as ARG_MAX counts it
    const total = d.argv.reduce((n, a) => n + bytes(a) + 1, 0);
    if (total > limits.argvBytes) throw tooLarge('argv', `${total} bytes in ${d.argv.length} arguments`, limits.argvBytes, 'argvBytes');
  }
  if (d.environment !== undefined) {
    const entries = Object.entries(d.environment);
    if (entries.length > limits.environmentItems) {
      throw tooLarge('environment', `${entries.length} variables`, limits.environmentItems, 'environmentItems');
    }
    // NAME=value plus its NUL, as in a process's environment block
    const total = entries.reduce((n, [k, v]) => n + bytes(k) + bytes(v) + 2, 0);
    if (total > limits.environmentBytes) {
      throw tooLarge('environment', `${total} bytes in ${entries.length} variables`, limits.environmentBytes, 'environmentBytes');
    }
  }
}
