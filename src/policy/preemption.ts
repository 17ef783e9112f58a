/**
 * QOS preemption (slurm.conf PreemptType=preempt/qos): a job whose QOS lists others in its
 * Preempt= may take the nodes of their running jobs, which are requeued (or cancelled) as their
 * own QOS's PreemptMode says, after its GraceTime. This module only picks the victims; the
 * caller signals them, waits the grace, requeues them and records reason Preempted.
 *
 * The choice, in this order of importance:
 * 1. only jobs of a QOS the pending job's QOS may preempt, whose own PreemptMode is not off;
 * 2. as few jobs as frees enough nodes;
 * 3. among sets of that size, the lowest priorities first, then the most recently started
 *    (they lose the least work), then the highest job id: the set is the first feasible one in
 *    that order (each job is taken if the rest can still be completed from the others);
 * 4. none at all when even every candidate would not free enough.
 */
import type { QosDefinition } from './policy-types.js';

export interface RunningJob {
  id: number;
  qos: string | undefined;
  priority: number;
  /** ms since epoch */
  startTime: number;
  /** Nodes it holds that the pending job could use. */
  nodes: number;
}

export interface Victim {
  id: number;
  nodes: number;
  /** What happens to it: its QOS's PreemptMode. */
  mode: 'requeue' | 'cancel';
  /** Its QOS's GraceTime: seconds between the signal and the requeue/cancel. */
  graceSeconds: number;
}

/** May a job of QOS `by` preempt a running job of QOS `victim`? */
export function canPreempt(by: QosDefinition | undefined, victim: QosDefinition | undefined): boolean {
  return !!by && !!victim && victim.preemptMode !== 'off' && by.preempt.includes(victim.name);
}

/** Preference order: lowest priority, then latest start, then highest id. */
function preferred(a: RunningJob, b: RunningJob): number {
  return a.priority - b.priority || b.startTime - a.startTime || b.id - a.id;
}

/**
 * The running jobs to preempt so that a pending job of QOS `qos` gets `nodesNeeded` more nodes
 * (its nodes minus the free ones); [] when it needs none, may preempt none, or cannot free enough.
 */
export function selectVictims(qos: string | undefined, nodesNeeded: number, running: Iterable<RunningJob>, qosDefs: ReadonlyMap<string, QosDefinition>): Victim[] {
  if (nodesNeeded <= 0 || qos === undefined) return [];
  const by = qosDefs.get(qos);
  const candidates = [...running].filter((j) => j.nodes > 0 && canPreempt(by, j.qos === undefined ? undefined : qosDefs.get(j.qos))).sort(preferred);
  const size = fewestCovering(candidates, nodesNeeded);
  if (size === 0) return [];
  return firstFeasibleSet(candidates, nodesNeeded, size).map((j) => {
    const def = qosDefs.get(j.qos!)!;
    return { id: j.id, nodes: j.nodes, mode: def.preemptMode === 'cancel' ? 'cancel' : 'requeue', graceSeconds: def.graceSeconds };
  });
}

/** The smallest number of candidates whose nodes reach `need` (the largest ones); 0 if none does. */
function fewestCovering(candidates: RunningJob[], need: number): number {
  const sizes = candidates.map((j) => j.nodes).sort((a, b) => b - a);
  let freed = 0;
  for (let i = 0; i < sizes.length; i++) {
    freed += sizes[i]!;
    if (freed >= need) return i + 1;
  }
  return 0;
}

/**
 * Walks the candidates in preference order and takes each one if a set of `size` reaching
 * `need` can still be completed with it, from the largest of the candidates after it.
 * O(n × size); n is the running jobs of preemptable QOSes.
 */
function firstFeasibleSet(candidates: RunningJob[], need: number, size: number): RunningJob[] {
  const chosen: RunningJob[] = [];
  let freed = 0;
  // the candidates not yet passed, largest first, to complete a set with
  const rest = candidates.map((j, i) => ({ nodes: j.nodes, i })).sort((a, b) => b.nodes - a.nodes || a.i - b.i);
  for (let i = 0; i < candidates.length && chosen.length < size; i++) {
    const c = candidates[i]!;
    rest.splice(rest.findIndex((r) => r.i === i), 1);
    let best = freed + c.nodes;
    for (let k = 0; k < size - chosen.length - 1 && k < rest.length; k++) best += rest[k]!.nodes;
    if (best >= need) {
      chosen.push(c);
      freed += c.nodes;
    }
  }
  return chosen;
}
