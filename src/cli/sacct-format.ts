/**
 * sacct's -o/--format: comma-separated SLURM field names, each with an optional `%N` width,
 * printed as sacct prints them: fixed columns under a `----------` line, or `|`-separated with
 * -p/-P. Pure: spec and jobs in, lines out.
 */
import os from 'node:os';
import { CliError } from './api-client.js';
import type { JobView } from './format.js';
import { cpuCount, nodeCount } from './squeue-format.js';

/** sacct's own default and --brief field lists. */
export const DEFAULT_FIELDS = 'JobID,JobName,Partition,Account,AllocCPUS,State,ExitCode';
export const BRIEF_FIELDS = 'JobID,State,ExitCode';

/**
 * How a value is cut to its column, as sacct's print_fields does: text ends in '+' when cut,
 * times are cut plainly, numbers are never cut.
 */
type Kind = 'text' | 'time' | 'number';

interface FieldDef {
  name: string;
  /** sacct's default width; negative is left-justified */
  width: number;
  kind: Kind;
  value: (job: JobView, now: number) => string;
}

/** The job holds or held nodes: sacct counts CPUs and nodes as allocated only then. */
const allocated = (j: JobView) => j.start_time !== null || j.nodes !== null;
const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));

/** sacct's date fields: local time to the second, "Unknown" when there is none. */
export function sacctTime(iso: string | null): string {
  if (!iso) return 'Unknown';
  const d = new Date(iso);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** sacct's durations: HH:MM:SS, or D-HH:MM:SS from a day on. */
export function sacctDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const p = (n: number) => String(n).padStart(2, '0');
  const hms = `${p(Math.floor(s / 3600) % 24)}:${p(Math.floor(s / 60) % 60)}:${p(s % 60)}`;
  return s >= 86400 ? `${Math.floor(s / 86400)}-${hms}` : hms;
}

function elapsed(j: JobView, now: number): number {
  if (!j.start_time) return 0;
  return ((j.end_time ? Date.parse(j.end_time) : now) - Date.parse(j.start_time)) / 1000;
}

/** `code:signal` as sacct prints it: a job killed by a signal is 0:<its number>. */
export function exitCode(j: JobView): string {
  const signal = j.exit_signal ? (os.constants.signals[j.exit_signal as keyof typeof os.constants.signals] ?? 0) : 0;
  return `${j.exit_code ?? 0}:${signal}`;
}

// In sacct's order (by name), which its prefix matching of field names follows.
const FIELDS: FieldDef[] = [
  { name: 'Account', width: 10, kind: 'text', value: (j) => text(j.account) },
  { name: 'AllocCPUS', width: 10, kind: 'number', value: (j) => String(allocated(j) ? cpuCount(j) : 0) },
  { name: 'AllocNodes', width: 10, kind: 'text', value: (j) => String(allocated(j) ? nodeCount(j) : 0) },
  { name: 'Comment', width: 14, kind: 'text', value: (j) => text(j.comment) },
  { name: 'Elapsed', width: 10, kind: 'text', value: (j, now) => sacctDuration(elapsed(j, now)) },
  { name: 'ElapsedRaw', width: 10, kind: 'number', value: (j, now) => String(Math.floor(elapsed(j, now))) },
  { name: 'End', width: 19, kind: 'time', value: (j) => sacctTime(j.end_time) },
  { name: 'ExitCode', width: 8, kind: 'text', value: exitCode },
  { name: 'JobID', width: -12, kind: 'text', value: (j) => j.display_id ?? String(j.job_id) },
  { name: 'JobIDRaw', width: -12, kind: 'text', value: (j) => String(j.job_id) },
  { name: 'JobName', width: 10, kind: 'text', value: (j) => j.name },
  { name: 'NCPUS', width: 10, kind: 'number', value: (j) => String(allocated(j) ? cpuCount(j) : 0) },
  { name: 'NNodes', width: 8, kind: 'number', value: (j) => String(nodeCount(j)) },
  { name: 'NodeList', width: 15, kind: 'text', value: (j) => j.nodes ?? 'None assigned' },
  { name: 'Partition', width: 10, kind: 'text', value: (j) => j.partition },
  { name: 'QOS', width: 10, kind: 'text', value: (j) => text(j.qos) },
  { name: 'Reason', width: 22, kind: 'text', value: (j) => j.state_reason },
  { name: 'ReqCPUS', width: 8, kind: 'number', value: (j) => String(cpuCount(j)) },
  { name: 'ReqNodes', width: 8, kind: 'text', value: (j) => String(nodeCount(j)) },
  { name: 'Start', width: 19, kind: 'time', value: (j) => sacctTime(j.start_time) },
  { name: 'State', width: 10, kind: 'text', value: (j) => j.job_state },
  { name: 'Submit', width: 19, kind: 'time', value: (j) => sacctTime(j.submit_time) },
  { name: 'Timelimit', width: 10, kind: 'text', value: (j) => (j.time_limit === null ? 'UNLIMITED' : sacctDuration(j.time_limit * 60)) },
  { name: 'User', width: 9, kind: 'text', value: (j) => j.user_name },
  { name: 'WorkDir', width: 20, kind: 'text', value: (j) => text(j.current_working_directory) },
];

export const FIELD_NAMES = FIELDS.map((f) => f.name);

export interface SacctColumn {
  field: FieldDef;
  width: number;
}

/** fixed columns; -p: '|' after every field; -P (parsable2): '|' between fields only */
export type SacctMode = 'fixed' | 'parsable' | 'parsable2';

/**
 * Parses "JobID,JobName%30,State": names in any case, or any beginning of one (the first
 * field, by name, that it begins), as sacct takes them; ALL is every field.
 */
export function parseSacctFormat(spec: string): SacctColumn[] {
  const columns: SacctColumn[] = [];
  for (const word of spec.split(',').map((w) => w.trim()).filter((w) => w !== '')) {
    const at = word.indexOf('%');
    const name = at < 0 ? word : word.slice(0, at);
    const size = at < 0 ? undefined : word.slice(at + 1);
    const width = size === undefined ? undefined : parseWidth(word, size);
    const wanted = name.toLowerCase();
    const fields = wanted === 'all' ? FIELDS : [FIELDS.find((f) => f.name.toLowerCase() === wanted) ?? FIELDS.find((f) => wanted !== '' && f.name.toLowerCase().startsWith(wanted))];
    for (const field of fields) {
      if (!field) throw new CliError(`Invalid field requested: "${name}" (known: ${FIELD_NAMES.join(' ')})`);
      columns.push({ field, width: width ?? field.width });
    }
  }
  if (columns.length === 0) throw new CliError(`no fields in format "${spec}" (known: ${FIELD_NAMES.join(' ')})`);
  return columns;
}

function parseWidth(word: string, size: string): number {
  const width = /^-?\d{1,4}$/.test(size) ? Number(size) : 0;
  if (width === 0) throw new CliError(`Invalid field width in "${word}": use Field%N, N a width like 20 (or -20 to left-justify)`);
  return width;
}

/** A value in its column: right-justified unless the width is negative, cut as sacct cuts it. */
function cell(value: string, width: number, kind: Kind): string {
  const size = Math.abs(width);
  let cut = value;
  if (value.length > size && kind === 'text') cut = `${value.slice(0, size - 1)}+`;
  else if (value.length > size && kind === 'time') cut = value.slice(0, size);
  return width > 0 ? cut.padStart(size) : cut.padEnd(size);
}

function joinRow(values: string[], mode: SacctMode): string {
  if (mode === 'parsable') return values.map((v) => `${v}|`).join('');
  return values.join(mode === 'parsable2' ? '|' : ' ');
}

/** The header and, in fixed columns, sacct's line of dashes under it. */
export function formatSacctHeader(columns: SacctColumn[], mode: SacctMode): string[] {
  if (mode !== 'fixed') return [joinRow(columns.map((c) => c.field.name), mode)];
  return [
    joinRow(columns.map((c) => cell(c.field.name.slice(0, Math.abs(c.width)), c.width, 'number')), mode).trimEnd(),
    columns.map((c) => '-'.repeat(Math.abs(c.width))).join(' '),
  ];
}

export function formatSacctLine(columns: SacctColumn[], job: JobView, now: number, mode: SacctMode): string {
  const values = columns.map((c) => c.field.value(job, now));
  if (mode !== 'fixed') return joinRow(values, mode);
  return joinRow(values.map((v, i) => cell(v, columns[i]!.width, columns[i]!.field.kind)), mode).trimEnd();
}

/** sacct -e: the field names, four to a line. */
export function formatFieldHelp(): string {
  const lines: string[] = [];
  for (let i = 0; i < FIELD_NAMES.length; i += 4) lines.push(FIELD_NAMES.slice(i, i + 4).map((n) => n.padEnd(19)).join(' ').trimEnd());
  return lines.join('\n');
}
