/**
 * slurm.conf's SchedulerParameters line, as `grm simulate --scheduler-parameters` reads it, PURE:
 * a site pastes its own line and the `slurm` policy runs with the same bounds. The keys and their
 * limits are sched/backfill's and job_scheduler.c's (SLURM 22.05, _load_config); where slurmctld
 * logs "Invalid SchedulerParameters ..." and falls back to its default, a what-if tool stops
 * instead: a replay under other bounds than the user's would answer another question.
 *
 * Keys the model has no counterpart for are not an error (a real line holds many): each is named
 * in the notes, so nothing is dropped silently.
 */
import { GrmError } from '../errors.js';
import type { SlurmPassOptions } from './replay.js';

export interface SchedulerParameters {
  options: Partial<SlurmPassOptions>;
  /** What the line holds that the replay does not model, one sentence each. */
  notes: string[];
}

type Numeric = 'defaultQueueDepth' | 'bfInterval' | 'bfMaxJobTest' | 'bfResolution';

/** The numeric keys the `slurm` policy models, with slurmctld's bounds. */
const NUMERIC: Record<string, { option: Numeric; min: number; max: number; unit: string }> = {
  default_queue_depth: { option: 'defaultQueueDepth', min: 1, max: Number.MAX_SAFE_INTEGER, unit: 'jobs' },
  bf_interval: { option: 'bfInterval', min: 1, max: 10_800, unit: 'seconds' },
  bf_max_job_test: { option: 'bfMaxJobTest', min: 1, max: 1_000_000, unit: 'jobs' },
  bf_resolution: { option: 'bfResolution', min: 1, max: 3_600, unit: 'seconds' },
};

/** Why a key SLURM knows changes nothing here, or is not modelled. */
const NO_EFFECT: Record<string, string> = {
  // backfill.c: continue from its list after yielding its locks; a replay's pass never yields
  bf_continue: 'bf_continue changes nothing here: a replayed backfill pass is never interrupted, so it never has to continue',
  bf_yield_interval: 'bf_yield_interval changes nothing here: a replayed backfill pass is never interrupted',
  bf_yield_sleep: 'bf_yield_sleep changes nothing here: a replayed backfill pass is never interrupted',
  bf_max_time: 'bf_max_time changes nothing here: a replayed backfill pass takes no time',
};

const invalid = (key: string, value: string, what: string): GrmError =>
  new GrmError('E_REQUEST_INVALID', `Invalid SchedulerParameters ${key}: ${value} (${what})`, { field: 'scheduler-parameters' });

/** A whole number, as slurm.conf writes it (no sign, no unit). */
function wholeNumber(key: string, value: string, min: number, max: number, unit: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) throw invalid(key, value, `give a whole number of ${unit} from ${min} to ${max}`);
  return n;
}

/**
 * Parses `bf_interval=30,bf_continue,...` (a whole `SchedulerParameters=...` line too). Keys are
 * case-insensitive, as slurmctld reads them. SLURM's default bf_job_part_count_reserve is 0 (every
 * job backfill tests reserves); the model is EASY, which is 1, so any other value is refused.
 */
export function parseSchedulerParameters(text: string): SchedulerParameters {
  // `scontrol show config` prints "(null)" for a cluster that sets none
  const line = text.trim().replace(/^SchedulerParameters\s*=\s*/i, '').replace(/^\(null\)$/, '');
  const options: Partial<SlurmPassOptions> = {};
  const notes: string[] = [];
  let reserve: string | undefined;
  for (const item of line.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    const key = (eq < 0 ? item : item.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? '' : item.slice(eq + 1);
    const numeric = NUMERIC[key];
    if (numeric) options[numeric.option] = wholeNumber(key, value, numeric.min, numeric.max, numeric.unit);
    else if (key === 'bf_job_part_count_reserve') reserve = value;
    else if (NO_EFFECT[key]) notes.push(NO_EFFECT[key]);
    else notes.push(`${item} is not modelled: ignored`);
  }
  if (reserve !== undefined && reserve !== '1') {
    throw invalid('bf_job_part_count_reserve', reserve, 'the slurm policy models EASY backfill, bf_job_part_count_reserve=1: a reservation for the first blocked job of each partition');
  }
  if (reserve === undefined) {
    notes.push("bf_job_part_count_reserve is not given: SLURM's default (0) reserves for every job backfill tests; the slurm policy models 1 (EASY)");
  }
  return { options, notes };
}
