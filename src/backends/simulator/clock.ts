/**
 * Time for the simulator. The backend reads the time and sets its time-limit timers only
 * through a Clock, so tests (and trace replay) can drive time by hand.
 */

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** ms since epoch */
  now(): number;
  /** Calls fn once at (or soon after) atMs; a time in the past fires as soon as possible. */
  setTimer(atMs: number, fn: () => void): TimerHandle;
}

/** setTimeout cannot wait longer than 2^31-1 ms (~24.8 days); longer waits are chained. */
const MAX_TIMEOUT_MS = 2_147_483_647;

/** The real clock. Its timers are unref'd: they never keep the process alive by themselves. */
export const wallClock: Clock = {
  now: () => Date.now(),
  setTimer(atMs, fn) {
    let handle: NodeJS.Timeout | undefined;
    let cancelled = false;
    const arm = (): void => {
      const delay = Math.max(0, atMs - Date.now());
      handle = setTimeout(
        () => {
          if (cancelled) return;
          if (Date.now() < atMs) arm();
          else fn();
        },
        Math.min(delay, MAX_TIMEOUT_MS),
      );
      handle.unref();
    };
    arm();
    return {
      cancel() {
        cancelled = true;
        // ref'd first: Node drops the timer list of a cleared timer only if it is ref'd, and
        // keeps an unref'd one's until its delay would have run out. The dispatcher re-arms a
        // begin-time wake-up at each pass, each with a delay of its own: 17,647 empty lists
        // (about 2 MiB) after 100,000 submissions, kept until the begin time. No tick passes
        // between ref() and clearTimeout(): the timer never holds the process.
        if (handle) clearTimeout(handle.ref());
      },
    };
  },
};

/**
 * A clock that only moves when told to: advance()/advanceTo() fire the due timers in time
 * order, each with now() equal to its own due time. For tests and trace replay.
 */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers = new Map<number, { atMs: number; seq: number; fn: () => void }>();

  constructor(startMs = 0) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(atMs: number, fn: () => void): TimerHandle {
    const id = this.seq++;
    this.timers.set(id, { atMs, seq: id, fn });
    return { cancel: () => void this.timers.delete(id) };
  }

  /** Timers not yet fired or cancelled. */
  pendingTimers(): number {
    return this.timers.size;
  }

  advance(ms: number): void {
    this.advanceTo(this.current + ms);
  }

  advanceTo(targetMs: number): void {
    for (;;) {
      let next: { id: number; atMs: number; seq: number; fn: () => void } | undefined;
      for (const [id, t] of this.timers) {
        if (t.atMs > targetMs) continue;
        if (!next || t.atMs < next.atMs || (t.atMs === next.atMs && t.seq < next.seq)) next = { id, ...t };
      }
      if (!next) break;
      this.timers.delete(next.id);
      this.current = Math.max(this.current, next.atMs);
      next.fn();
    }
    this.current = Math.max(this.current, targetMs);
  }
}
