/**
 * Remembers which questions SLURM answered "yes" to, for a while (pure; time injected): the
 * SLURM backend asks `sbatch --test-only` once per request shape, not once per job, so a sweep
 * of a thousand alike jobs costs one slurmctld RPC. Only acceptances are kept (a refusal is asked
 * again: its cause may have been fixed), and concurrent askers of one key share the question in
 * flight. Bounded: the oldest keys go first.
 */
export interface AcceptanceCacheOptions {
  /** How long an acceptance stands (ms). */
  ttlMs: number;
  /** Keys remembered at once. */
  maxKeys: number;
  now: () => number;
}

export class AcceptanceCache {
  private readonly entries = new Map<string, { at: number; answer: Promise<unknown> }>();

  constructor(private readonly o: AcceptanceCacheOptions) {}

  /** The remembered answer for `key`, or `ask()`'s, remembered unless it rejects. */
  ask(key: string, ask: () => Promise<unknown>): Promise<unknown> {
    const now = this.o.now();
    const cached = this.entries.get(key);
    if (cached && now - cached.at < this.o.ttlMs) return cached.answer;
    const answer = ask();
    this.entries.delete(key); // re-inserted last: the map's order is the eviction order
    this.entries.set(key, { at: now, answer });
    answer.catch(() => {
      if (this.entries.get(key)?.answer === answer) this.entries.delete(key);
    });
    for (const [k, v] of this.entries) {
      if (this.entries.size <= this.o.maxKeys && now - v.at < this.o.ttlMs) break;
      this.entries.delete(k);
    }
    return answer;
  }

  get size(): number {
    return this.entries.size;
  }
}
