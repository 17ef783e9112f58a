/**
 * Whether a pending job may enter the eligible queue, and if not, what it waits on: a hold,
 * its begin time, or its dependency. Decided when something it depends on changes (submit,
 * release, update, the begin time passing, a job it waits on changing state), never by
 * rescanning the queue.
 */
import type { QueueStore } from '../store/queue-store.js';
import { evaluateDependency } from './dependency.js';

export type Blocker = 'JobHeldUser' | 'JobHeldAdmin' | 'BeginTime' | 'Dependency' | 'DependencyNeverSatisfied';

export interface EligibilityInput {
  id: number;
  user: string;
  name: string;
  /** ms since epoch */
  beginTime: number | null;
  dependency: string | null;
  hold?: 'user' | 'admin' | null;
}

export function holdReason(by: 'user' | 'admin'): Blocker {
  return by === 'admin' ? 'JobHeldAdmin' : 'JobHeldUser';
}

export function isHold(blocked: string | null): boolean {
  return blocked === 'JobHeldUser' || blocked === 'JobHeldAdmin';
}

export class Eligibility {
  constructor(private readonly queue: QueueStore) {}

  /** null: eligible now. */
  blocker(job: EligibilityInput, now: number): Blocker | null {
    if (job.hold) return holdReason(job.hold);
    if (job.beginTime !== null && job.beginTime > now) return 'BeginTime';
    return this.dependencyBlocker(job);
  }

  dependencyBlocker(job: EligibilityInput): Blocker | null {
    if (!job.dependency) return null;
    const queue = this.queue;
    const status = evaluateDependency(job.dependency, {
      stateOf: (id) => queue.dependencyState(id),
      // only asked for `singleton` terms
      get singletonBusy() {
        return queue.singletonBusy(job.user, job.name, job.id);
      },
    });
    if (status === 'waiting') return 'Dependency';
    if (status === 'never') return 'DependencyNeverSatisfied';
    return null;
  }
}
