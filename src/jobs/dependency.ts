/**
 * Evaluates sbatch --dependency specs against the jobs the GRM knows. Pure: the caller
 * passes a lookup. "a,b" needs all, "a?b" needs any, as in SLURM.
 */
import type { JobState } from './job-types.js';
import { isTerminal } from './job-state.js';

export type DependencyStatus = 'satisfied' | 'waiting' | 'never';

export interface DependencyContext {
  stateOf(jobId: number): JobState | undefined;
  /** For `singleton`: another job of the same name and user already holds nodes. */
  singletonBusy: boolean;
}

interface Term {
  type: string;
  ids: number[];
}

export function parseDependency(spec: string): { any: boolean; terms: Term[] } {
  const any = spec.includes('?');
  const terms = spec
    .split(any ? '?' : ',')
    .filter((t) => t.length > 0)
    .map((t) => {
      const [type, ...ids] = t.split(':');
      // "+time" suffixes (afterok:12+5) are accepted; the delay is not modelled.
      return { type: type!, ids: ids.map((id) => Number(id.split('+')[0]!.split('_')[0])) };
    });
  return { any, terms };
}

/** The job ids a spec refers to (to check at submit that they exist). */
export function dependencyJobIds(spec: string): number[] {
  return parseDependency(spec).terms.flatMap((t) => t.ids);
}

function termStatus(term: Term, ctx: DependencyContext): DependencyStatus {
  if (term.type === 'singleton') return ctx.singletonBusy ? 'waiting' : 'satisfied';
  const statuses = term.ids.map((id): DependencyStatus => {
    const state = ctx.stateOf(id);
    if (state === undefined) return 'never';
    const ended = isTerminal(state);
    switch (term.type) {
      case 'after':
        return state === 'PENDING' || state === 'ALLOCATING' ? 'waiting' : 'satisfied';
      case 'afterany':
        return ended ? 'satisfied' : 'waiting';
      case 'afterok':
      case 'aftercorr':
        return !ended ? 'waiting' : state === 'COMPLETED' ? 'satisfied' : 'never';
      case 'afternotok':
        return !ended ? 'waiting' : state === 'COMPLETED' ? 'never' : 'satisfied';
      default:
        return 'never';
    }
  });
  if (statuses.includes('never')) return 'never';
  return statuses.every((s) => s === 'satisfied') ? 'satisfied' : 'waiting';
}

export function evaluateDependency(spec: string, ctx: DependencyContext): DependencyStatus {
  const { any, terms } = parseDependency(spec);
  const statuses = terms.map((t) => termStatus(t, ctx));
  if (any) {
    if (statuses.includes('satisfied')) return 'satisfied';
    return statuses.every((s) => s === 'never') ? 'never' : 'waiting';
  }
  if (statuses.includes('never')) return 'never';
  return statuses.every((s) => s === 'satisfied') ? 'satisfied' : 'waiting';
}
