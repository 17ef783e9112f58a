/**
 * Per-job NIO port blocks. Two jobs may share a node (non-exclusive allocations) and every
 * COMPSs master may run on the GRM host, so each running job needs ports no other running job
 * uses. The window [portsBase, portsBase + portsPerJob * portSlots) is cut into portSlots
 * blocks of portsPerJob ports; a job owns one block on every node it runs on.
 *
 * Two ways to choose the block:
 * - portRangeForJob: slot = jobId mod portSlots. Pure and stateless (survives a daemon restart
 *   with no bookkeeping), and collision-free as long as the running jobs' ids span fewer than
 *   portSlots consecutive ids. A job that runs while portSlots newer jobs start breaks that.
 * - pickPortRange: same preferred slot, but skips blocks that overlap any range still in use
 *   (GRM knows its running jobs) and fails loudly when all are taken. Use this one when the
 *   ranges of running jobs are at hand.
 */
import { GrmError } from '../errors.js';
import { type CompssConfig, resolveCompssConfig } from './compss-config.js';

export interface PortRange {
  slot: number;
  /** First port of the block; NIO workers use [minPort, masterPort - 1]. */
  minPort: number;
  /** Last port of the block (inclusive) = masterPort. */
  maxPort: number;
  /** For `runcompss --master_port`, so the master never lands on another job's port. */
  masterPort: number;
}

function rangeForSlot(slot: number, c: CompssConfig): PortRange {
  const minPort = c.portsBase + slot * c.portsPerJob;
  const maxPort = minPort + c.portsPerJob - 1;
  return { slot, minPort, maxPort, masterPort: maxPort };
}

function preferredSlot(grmJobId: number, c: CompssConfig): number {
  if (!Number.isInteger(grmJobId) || grmJobId < 0) throw new GrmError('E_INTERNAL', `invalid GRM job id ${String(grmJobId)}`);
  return grmJobId % c.portSlots;
}

/** The block keyed by job id alone; see the module comment for when it can collide. */
export function portRangeForJob(grmJobId: number, config: Partial<CompssConfig> = {}): PortRange {
  const c = resolveCompssConfig(config);
  return rangeForSlot(preferredSlot(grmJobId, c), c);
}

export function rangesOverlap(a: Pick<PortRange, 'minPort' | 'maxPort'>, b: Pick<PortRange, 'minPort' | 'maxPort'>): boolean {
  return a.minPort <= b.maxPort && b.minPort <= a.maxPort;
}

/**
 * The job's preferred block if free, else the next free one around the ring. Ranges in use are
 * compared by ports, not slot numbers, so blocks handed out under an older config still count.
 * Throws E_MASTER_START when every block overlaps a range in use.
 */
export function pickPortRange(grmJobId: number, config: Partial<CompssConfig>, inUse: Iterable<PortRange>): PortRange {
  const c = resolveCompssConfig(config);
  const taken = [...inUse];
  const first = preferredSlot(grmJobId, c);
  for (let i = 0; i < c.portSlots; i++) {
    const candidate = rangeForSlot((first + i) % c.portSlots, c);
    if (!taken.some((r) => rangesOverlap(r, candidate))) return candidate;
  }
  throw new GrmError(
    'E_MASTER_START',
    `no free COMPSs port block for job ${grmJobId}: all ${c.portSlots} blocks of ${c.portsPerJob} ports from ${c.portsBase} are in use; ` +
      'wait for a job to end or raise compss.portSlots',
  );
}
