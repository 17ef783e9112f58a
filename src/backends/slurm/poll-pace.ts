/**
 * When the SLURM backend looks at squeue next (pure). A holder that fits usually starts the
 * moment it is submitted, or at slurmctld's next scheduling pass; GRM must notice within a
 * second, not at its next 2 s poll. So: right after a submit (kick) squeue is read within
 * 100 ms, then, while any holder waits, at twice the previous delay up to `pendingCapMs`
 * (1 s); with none waiting, every `intervalMs` (slurm.pollIntervalMs), as before.
 */
export interface PollPaceOptions {
  /** slurm.pollIntervalMs: the pace with no holder pending. */
  intervalMs: number;
  /** The first delay after a kick (default 100 ms). */
  firstMs?: number;
  /** The longest delay while a holder is pending (default 1000 ms, never above intervalMs). */
  pendingCapMs?: number;
}

export class PollPace {
  private readonly intervalMs: number;
  private readonly firstMs: number;
  private readonly capMs: number;
  private nextFastMs: number;

  constructor(o: PollPaceOptions) {
    this.intervalMs = o.intervalMs;
    this.capMs = Math.min(o.pendingCapMs ?? 1000, o.intervalMs);
    this.firstMs = Math.min(o.firstMs ?? 100, this.capMs);
    this.nextFastMs = this.capMs;
  }

  /** A holder was just submitted or restored: the delay before the next poll, and the fast pace starts over. */
  kick(): number {
    this.nextFastMs = Math.min(this.firstMs * 2, this.capMs);
    return this.firstMs;
  }

  /** The delay after a poll that found holders pending (or none). */
  after(holdersPending: boolean): number {
    if (!holdersPending) return this.intervalMs;
    const delay = this.nextFastMs;
    this.nextFastMs = Math.min(delay * 2, this.capMs);
    return delay;
  }
}
