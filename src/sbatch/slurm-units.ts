/**
 * SLURM's value formats for sbatch options: time limits, memory sizes, node counts,
 * integers and begin times. Each parser is pure and throws GrmError('E_OPTION_INVALID')
 * naming the option, the value and the rule, with SLURM's wording where it has one.
 * Formats follow SchedMD's src/common/parse_time.c and proc_args.c (reimplemented).
 */
import { GrmError } from '../errors.js';

export function invalidOption(option: string, message: string): GrmError {
  return new GrmError('E_OPTION_INVALID', message, { field: option });
}

/** SLURM's largest time limit below its NO_VAL/INFINITE markers, in minutes. */
const MAX_TIME_MINUTES = 0xfffffffd;

const TIME_FORMATS = 'minutes, minutes:seconds, hours:minutes:seconds, days-hours, days-hours:minutes, days-hours:minutes:seconds, or UNLIMITED';

/**
 * Parse an sbatch time limit into minutes, or 'UNLIMITED'.
 * Formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S; UNLIMITED, INFINITE and -1 (any case).
 * Seconds round up to the next minute; 0 means UNLIMITED, as in sbatch.
 */
export function parseTimeLimit(value: string, option = '--time'): number | 'UNLIMITED' {
  const s = value.trim();
  if (/^(unlimited|infinite|-1)$/i.test(s)) return 'UNLIMITED';
  const n = (x: string | undefined): number => (x === undefined ? 0 : Number(x));
  let seconds: number;
  let m: RegExpExecArray | null;
  if ((m = /^(\d+)$/.exec(s))) seconds = n(m[1]) * 60;
  else if ((m = /^(\d+):(\d+)$/.exec(s))) seconds = n(m[1]) * 60 + n(m[2]);
  else if ((m = /^(\d+):(\d+):(\d+)$/.exec(s))) seconds = n(m[1]) * 3600 + n(m[2]) * 60 + n(m[3]);
  else if ((m = /^(\d+)-(\d+)(?::(\d+)(?::(\d+))?)?$/.exec(s))) {
    seconds = n(m[1]) * 86400 + n(m[2]) * 3600 + n(m[3]) * 60 + n(m[4]);
  } else {
    throw invalidOption(option, `Invalid time limit specification '${value}' for ${option}: use ${TIME_FORMATS}`);
  }
  const minutes = Math.ceil(seconds / 60);
  if (!Number.isSafeInteger(minutes) || minutes > MAX_TIME_MINUTES) {
    throw invalidOption(option, `Invalid time limit specification '${value}' for ${option}: the limit is too large`);
  }
  return minutes === 0 ? 'UNLIMITED' : minutes;
}

/**
 * Parse an sbatch memory size into MiB: a whole number with an optional K, M, G or T
 * suffix (optionally followed by B), default unit M. K rounds up to a whole MiB.
 * 0 is kept (for --mem it means all the memory of each node).
 */
export function parseMemoryMiB(value: string, option: string): number {
  const m = /^(\d+)(?:([KMGT])B?)?$/i.exec(value.trim());
  if (!m) {
    throw invalidOption(
      option,
      `Invalid ${option} specification '${value}': use a whole number with an optional K, M, G or T suffix (default M)`,
    );
  }
  const n = Number(m[1]);
  const unit = (m[2] ?? 'M').toUpperCase();
  const mib = unit === 'K' ? Math.ceil(n / 1024) : unit === 'M' ? n : unit === 'G' ? n * 1024 : n * 1024 * 1024;
  if (!Number.isSafeInteger(mib)) throw invalidOption(option, `Invalid ${option} specification '${value}': the size is too large`);
  return mib;
}

/** A strictly positive integer (as SLURM's parse_int with positive=true). */
export function parsePositiveInt(value: string, option: string): number {
  const s = value.trim();
  const n = /^\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw invalidOption(option, `Invalid numeric value "${value}" for ${option}: must be a positive integer`);
  }
  if (n > 0x7ffffffe) throw invalidOption(option, `Numeric argument (${s}) too large for ${option}.`);
  return n;
}

/** -N/--nodes: `N` or `MIN-MAX`, each at least 1. */
export function parseNodeCount(value: string, option = '--nodes'): { min: number; max: number } {
  const parse = (part: string): number => {
    const n = /^\d+$/.test(part.trim()) ? Number(part.trim()) : NaN;
    if (!Number.isSafeInteger(n) || n < 1 || n > 0x7ffffffe) {
      throw invalidOption(option, `"${part}" is not a valid node count for ${option}: use N or MIN-MAX with whole numbers of at least 1`);
    }
    return n;
  };
  const dash = value.indexOf('-');
  if (dash < 0) {
    const n = parse(value);
    return { min: n, max: n };
  }
  const min = parse(value.slice(0, dash));
  const max = parse(value.slice(dash + 1));
  if (min > max) {
    throw invalidOption(option, `invalid number of nodes (-N ${min}-${max}): the minimum is greater than the maximum`);
  }
  return { min, max };
}

// ---- --begin ----

const UNIT_SECONDS: Record<string, number> = { second: 1, minute: 60, hour: 3600, day: 86400, week: 604800 };
const NAMED_TIMES: Record<string, [number, number]> = {
  midnight: [0, 0],
  noon: [12, 0],
  elevenses: [11, 0],
  fika: [15, 0],
  teatime: [16, 0],
};
const BEGIN_FORMATS =
  'now[{+|-}count[seconds|minutes|hours|days|weeks]], HH:MM[:SS] [AM|PM], midnight, noon, teatime, today, tomorrow, ' +
  'YYYY-MM-DD[THH:MM[:SS]], MM/DD[/YY] or MMDD[YY] (optionally followed by a time)';

interface DatePart {
  year?: number;
  month: number; // 0-based
  day: number;
}
interface TimePart {
  hour: number;
  minute: number;
  second: number;
}

function parseDatePart(s: string, now: Date): DatePart | null | 'bad' {
  const lower = s.toLowerCase();
  if (lower === 'today') return { year: now.getFullYear(), month: now.getMonth(), day: now.getDate() };
  if (lower === 'tomorrow') {
    const t = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1);
    return { year: t.getFullYear(), month: t.getMonth(), day: t.getDate() };
  }
  let m: RegExpExecArray | null;
  if ((m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(s))) return { year: Number(m[1]), month: Number(m[2]) - 1, day: Number(m[3]) };
  if ((m = /^(\d{1,2})([/.])(\d{1,2})(?:\2(\d{2}))?$/.exec(s)) || (m = /^(\d{2})()(\d{2})(\d{2})?$/.exec(s))) {
    const part: DatePart = { month: Number(m[1]) - 1, day: Number(m[3]) };
    if (m[4] !== undefined) part.year = 2000 + Number(m[4]);
    return part;
  }
  return s === '' ? null : 'bad';
}

function parseTimePart(s: string): TimePart | null | 'bad' {
  const named = NAMED_TIMES[s.toLowerCase()];
  if (named) return { hour: named[0], minute: named[1], second: 0 };
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(am|pm)?$/i.exec(s);
  if (!m) return s === '' ? null : 'bad';
  let hour = Number(m[1]);
  const minute = Number(m[2]);
  const second = m[3] === undefined ? 0 : Number(m[3]);
  const ampm = m[4]?.toLowerCase();
  if (hour > 23 || minute > 59 || second > 59) return 'bad';
  if (ampm === 'pm') {
    if (hour > 12) return 'bad';
    if (hour < 12) hour += 12;
  } else if (ampm === 'am') {
    if (hour > 12) return 'bad';
    if (hour === 12) hour = 0;
  }
  return { hour, minute, second };
}

/**
 * Parse sbatch --begin into an ISO 8601 string (UTC), relative to `now`. Wall-clock
 * forms are local time, as for sbatch. A time without a date is today if still ahead,
 * else tomorrow; a date without a year is this year if still ahead, else next year;
 * a date without a time is midnight.
 */
export function parseBeginTime(value: string, now: Date, option = '--begin'): string {
  return parseSlurmTime(value, now, { option }).toISOString();
}

/**
 * SLURM's time forms, as parse_time() reads them. Looking ahead (sbatch --begin) a time or
 * date without the rest is the next one to come; looking back (`past`: sacct -S/-E, whose
 * windows lie behind) a time without a date is today and a date without a year is the
 * latest one not ahead of `now`.
 */
export function parseSlurmTime(value: string, now: Date, { option, past = false }: { option: string; past?: boolean }): Date {
  const bad = (why = `use ${BEGIN_FORMATS}`): GrmError =>
    invalidOption(option, `Invalid ${option} specification '${value}': ${why}`);
  const s = value.trim();
  let m: RegExpExecArray | null;
  if ((m = /^uts(\d+)$/i.exec(s))) {
    const secs = Number(m[1]);
    if (secs < 1_000_000 || !Number.isSafeInteger(secs * 1000)) throw bad('uts needs seconds since the epoch');
    return new Date(secs * 1000);
  }
  if ((m = /^now(?:\s*([+-])\s*(\d+)\s*([a-z]*))?$/i.exec(s))) {
    if (m[1] === undefined) return new Date(now);
    const unitWord = (m[3] ?? '').toLowerCase().replace(/s$/, '');
    const unit = unitWord === '' ? 1 : UNIT_SECONDS[unitWord];
    if (unit === undefined) throw bad(`unknown unit '${m[3]}' (use seconds, minutes, hours, days or weeks)`);
    const delta = Number(m[2]) * unit * (m[1] === '-' ? -1 : 1);
    const t = new Date(now.getTime() + delta * 1000);
    if (Number.isNaN(t.getTime())) throw bad('the offset is too large');
    return t;
  }
  // A date, a time, or both: DATE[T| |-]TIME, or a named time and a named day either way round.
  const candidates: Array<[string, string]> = [[s, ''], ['', s]];
  let x: RegExpExecArray | null;
  if ((x = /^(\d{4}-\d{1,2}-\d{1,2})T(.+)$/.exec(s))) candidates.push([x[1] as string, x[2] as string]);
  if ((x = /^(\d{4}-\d{1,2}-\d{1,2}|[^\s-]+)(?:\s+|-)(\d{1,2}:\d{2}.*)$/.exec(s))) {
    candidates.push([x[1] as string, x[2] as string]);
  }
  if ((x = /^(\S+)\s+(\S+)$/.exec(s))) candidates.push([x[1] as string, x[2] as string], [x[2] as string, x[1] as string]);
  let date: DatePart | null = null;
  let time: TimePart | null = null;
  let matched = false;
  for (const [d, t] of candidates) {
    const dp = parseDatePart(d.trim(), now);
    const tp = parseTimePart(t.trim());
    if (dp === 'bad' || tp === 'bad' || (dp === null && tp === null)) continue;
    date = dp;
    time = tp;
    matched = true;
    break;
  }
  if (!matched) throw bad();
  const nowHour = now.getHours();
  const nowMinute = now.getMinutes();
  const t = time ?? { hour: 0, minute: 0, second: 0 };
  if (!date) {
    const ahead = t.hour > nowHour || (t.hour === nowHour && t.minute > nowMinute);
    const base = new Date(now.getFullYear(), now.getMonth(), now.getDate() + (ahead || past ? 0 : 1));
    date = { year: base.getFullYear(), month: base.getMonth(), day: base.getDate() };
  }
  if (date.year === undefined) {
    const candidate = new Date(now.getFullYear(), date.month, date.day, t.hour, t.minute, t.second);
    const ahead = candidate.getTime() > now.getTime();
    if (past) date.year = ahead ? now.getFullYear() - 1 : now.getFullYear();
    else date.year = ahead ? now.getFullYear() : now.getFullYear() + 1;
  }
  const result = new Date(date.year, date.month, date.day, t.hour, t.minute, t.second);
  if (
    date.month < 0 ||
    date.month > 11 ||
    result.getFullYear() !== date.year ||
    result.getMonth() !== date.month ||
    result.getDate() !== date.day
  ) {
    throw bad('no such date');
  }
  return result;
}
