/**
 * Text from the daemon (job names, reasons, comments, paths, log lines) reaches a terminal
 * only through here: control characters are shown, not obeyed, as squeue and less show them.
 * A name with a newline cannot split a squeue row, ESC[2J cannot clear the screen, a CR cannot
 * overwrite what came before. Escaped: C0 controls and DEL, C1 controls (U+0080-U+009F; U+009B
 * is a CSI of its own), and the Unicode bidi and line-separator controls that reorder or break
 * what is shown. Backslashes stay as they are: log lines are full of them (paths, regexes).
 * --json output does not come here: JSON escapes what it must itself.
 */

// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f', '\v': '\\v', '\0': '\\0' };

function escapeOne(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `text` with every control character written out (`\n`, `\x1b`, `\u202e`); `keep` lists the
 * ones the output's own format may carry (a log line keeps its tabs).
 */
export function escapeControls(text: string, keep = ''): string {
  return text.replace(CONTROLS, (c) => (keep.includes(c) ? c : escapeOne(c)));
}

/** A copy of a value from the daemon with every string in it escaped, for text formats. */
export function terminalSafe<T>(value: T): T {
  if (typeof value === 'string') return escapeControls(value) as T;
  if (Array.isArray(value)) return value.map(terminalSafe) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [escapeControls(k), terminalSafe(v)])) as T;
  }
  return value;
}

/** Text for stderr (errors, warnings, help): controls shown, its own line breaks and tabs kept. */
export function safeMessage(text: string): string {
  return escapeControls(text, '\n\t');
}
