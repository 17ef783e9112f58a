/**
 * `db.prepare(sql)` that hands out the statement it compiled last time for the same SQL text,
 * as Python's sqlite3 module does (`cached_statements`, 128 by default).
 *
 * Why: the stores call `db.prepare(sql)` on every call. Each call compiles a new sqlite3_stmt
 * (native memory) that is freed only when V8 collects its tiny JS wrapper, and V8, which does
 * not see that memory, collects them late: 17 MiB of dead statements in the daemon after 20,000
 * submissions, 30 MiB after 100,000 (bench/queue.mjs, heaptrack).
 *
 * Sharing is safe because better-sqlite3 runs a statement synchronously and resets it after
 * every run/get/all. Two things would not be: a statement iterating (`busy`) is never handed out
 * again; and modes, which belong to the statement: whoever calls pluck/raw/expand/
 * safeIntegers/bind on a shared one gets it for their own (it leaves the cache), so no holder
 * ever sees another caller's mode.
 */
import type Database from 'better-sqlite3';

const CUSTOMIZERS = ['pluck', 'raw', 'expand', 'safeIntegers', 'bind'] as const;

export const STATEMENT_CACHE_SIZE = 128;

export function cacheStatements(db: Database.Database, capacity = STATEMENT_CACHE_SIZE): void {
  const compile = db.prepare.bind(db);
  // insertion order is recency order: a hit is moved to the end, the first key is the oldest
  const cache = new Map<string, Database.Statement>();
  db.prepare = ((sql: string) => {
    const hit = cache.get(sql);
    if (hit !== undefined && !hit.busy) {
      cache.delete(sql);
      cache.set(sql, hit);
      return hit;
    }
    const stmt = compile(sql);
    share(stmt, () => {
      if (cache.get(sql) === stmt) cache.delete(sql);
    });
    cache.set(sql, stmt);
    if (cache.size > capacity) cache.delete(cache.keys().next().value!);
    return stmt;
  }) as Database.Database['prepare'];
}

/** Shadows the mode setters: the first call releases the statement to its caller, then runs as usual. */
function share(stmt: Database.Statement, release: () => void): void {
  const own = stmt as unknown as Record<string, unknown>;
  for (const name of CUSTOMIZERS) {
    own[name] = (...args: unknown[]) => {
      release();
      for (const n of CUSTOMIZERS) delete own[n];
      return (own[name] as (...a: unknown[]) => unknown).apply(stmt, args);
    };
  }
}
