/**
 * The simulated cluster's node states an admin set (scontrol update nodename=X state=...), kept
 * across daemon restarts as slurmctld keeps them in its state files: a drained or down node
 * stays so until resumed. Only nodes out of service have a row.
 */
import type { Db } from './database.js';

export interface StoredNodeState {
  name: string;
  state: 'drained' | 'down';
  reason: string | null;
}

export class NodeStateStore {
  constructor(private readonly db: Db) {}

  all(): StoredNodeState[] {
    return this.db.prepare('SELECT name, state, reason FROM node_states ORDER BY name').all() as StoredNodeState[];
  }

  /** Out of service ('drained', 'down') or back in it ('idle': the row goes). */
  set(name: string, state: 'idle' | 'drained' | 'down', reason: string | null): void {
    if (state === 'idle') this.db.prepare('DELETE FROM node_states WHERE name = ?').run(name);
    else {
      this.db
        .prepare('INSERT INTO node_states (name, state, reason) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET state = excluded.state, reason = excluded.reason')
        .run(name, state, reason);
    }
  }
}
