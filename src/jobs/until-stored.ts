/**
 * A write the job's life depends on (a master's end), tried again while the store cannot take
 * it: a full or unwritable disk is a pause, not the job's end. Without this, a job whose master
 * ended while the disk was full would stay RUNNING until reconciliation called its master lost
 * (FAILED), whatever its real exit status was.
 */
import { storeFault } from '../store/store-open.js';

export interface UntilStoredOptions {
  /** True once the caller gives up (the daemon stops: the next one reattaches and finishes). */
  stopped: () => boolean;
  /** Told of each refused attempt, with the wait before the next. */
  onRefused: (error: unknown, retryInMs: number) => void;
  /** Waits `ms` (injectable for tests); default: an unref'd timer. */
  wait?: (ms: number) => Promise<void>;
  firstWaitMs?: number;
  maxWaitMs?: number;
}

const unrefWait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** What the attempts so far met: how many were refused, and the first refusal. */
export interface Refusals {
  count: number;
  first: unknown;
}

/**
 * Runs `write` until it succeeds; errors other than a full or unwritable store are thrown at
 * once. `write` is told of the refusals before it (to say so in what it writes) and must be
 * safe to run again after one. False when stopped first.
 */
export async function untilStored(write: (refusals: Refusals) => Promise<void>, o: UntilStoredOptions): Promise<boolean> {
  const refusals: Refusals = { count: 0, first: undefined };
  const wait = o.wait ?? unrefWait;
  for (let ms = o.firstWaitMs ?? 1000; ; ms = Math.min(ms * 2, o.maxWaitMs ?? 30_000)) {
    if (o.stopped()) return false;
    try {
      await write(refusals);
      return true;
    } catch (e) {
      const fault = storeFault(e);
      if (fault !== 'full' && fault !== 'unwritable') throw e;
      if (refusals.count++ === 0) refusals.first = e;
      o.onRefused(e, ms);
      await wait(ms);
    }
  }
}
