/**
 * Job state names as squeue -t and sacct -s take them: long (PENDING) or compact (PD), any
 * case, comma-separated, or "all". Pure; errors name the word and list what is allowed.
 */
import { GrmError } from '../errors.js';
import { JOB_STATES, STATE_CODES, type JobState } from '../jobs/job-types.js';

const BY_NAME = new Map<string, JobState>();
for (const s of JOB_STATES) {
  BY_NAME.set(s, s);
  BY_NAME.set(STATE_CODES[s], s);
}
// SLURM's spellings of the same states
BY_NAME.set('CANCELED', 'CANCELLED');
BY_NAME.set('CONFIGURING', 'ALLOCATING');

/** The states named by `text`; undefined for "all". */
export function parseStateList(text: string): JobState[] | undefined {
  const words = text.split(',').map((w) => w.trim().toUpperCase()).filter((w) => w !== '');
  if (words.includes('ALL')) return undefined;
  if (words.length === 0) throw invalidState(text);
  const states = new Set<JobState>();
  for (const w of words) {
    const state = BY_NAME.get(w);
    if (!state) throw invalidState(w);
    states.add(state);
  }
  return [...states];
}

function invalidState(word: string): GrmError {
  const allowed = JOB_STATES.map((s) => `${s} (${STATE_CODES[s]})`).join(', ');
  return new GrmError('E_REQUEST_INVALID', `Invalid job state specified: ${JSON.stringify(word)}; valid states are ${allowed}, or all`, {
    field: 'state',
  });
}
