/**
 * How the daemon stops (SIGTERM from systemd or `docker stop`, SIGINT from ctrl-c, or
 * Daemon.stop()): changes are refused first (the API answers 503 with Retry-After, see
 * src/api/shutdown-gate.ts), then each part stops in order while the time each step took is
 * kept, so the log says what the daemon waited for. Masters are never ended: they run on
 * under their supervisors and the next start reattaches them.
 */
import type { ShutdownState } from './api/shutdown-gate.js';

export interface ShutdownStep {
  /** What is waited for, in words ("requests in flight"). */
  name: string;
  run(): unknown;
}

export interface ShutdownReport {
  steps: { name: string; ms: number }[];
  /** Jobs whose masters were left running, to be reattached by the next start. */
  mastersLeftRunning: number[];
}

export class Shutdown implements ShutdownState {
  private isDraining = false;
  private step: string | null = null;
  readonly retryAfterSeconds: number;

  constructor(readonly timeoutMs: number, private readonly now: () => number = Date.now) {
    this.retryAfterSeconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  }

  get draining(): boolean {
    return this.isDraining;
  }

  /** The step being waited for now (null before and after). */
  get waitingFor(): string | null {
    return this.step;
  }

  /** Refuses changes from now on; runs the steps in order, timing each. */
  async run(steps: ShutdownStep[]): Promise<ShutdownReport['steps']> {
    this.isDraining = true;
    const took: ShutdownReport['steps'] = [];
    const failed: string[] = [];
    for (const s of steps) {
      this.step = s.name;
      const t0 = this.now();
      // a step that fails does not keep the later ones (storing buffered lines) from running
      try {
        await s.run();
      } catch (e) {
        failed.push(`${s.name}: ${e instanceof Error ? e.message : String(e)}`);
      }
      took.push({ name: s.name, ms: this.now() - t0 });
    }
    this.step = null;
    if (failed.length > 0) throw new Error(failed.join('; '));
    return took;
  }
}

/** One line for the daemon's log. */
export function describeShutdown(report: ShutdownReport): string {
  const total = report.steps.reduce((sum, s) => sum + s.ms, 0);
  const steps = report.steps.map((s) => `${s.name} ${s.ms} ms`).join(', ');
  const masters = report.mastersLeftRunning.length === 0
    ? 'no master was running'
    : `${report.mastersLeftRunning.length} master(s) left running under their supervisors (job ${report.mastersLeftRunning.join(', ')}), to be reattached by the next start`;
  return `stopped in ${total} ms (${steps}); ${masters}`;
}

export interface StopSignalOptions {
  stop(): Promise<ShutdownReport>;
  shutdown: Shutdown;
  log: { info(msg: string): void; error(msg: string): void };
  exit(code: number): void;
}

/**
 * SIGTERM and SIGINT stop the daemon the same way. A second signal while stopping does not
 * cut the stop short (the bound does); past the bound the daemon exits 1, saying what it was
 * still waiting for.
 */
export function handleStopSignals(o: StopSignalOptions): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return o.log.info(`${signal}: already stopping (waiting for ${o.shutdown.waitingFor ?? 'the exit'}; at most ${o.shutdown.timeoutMs} ms)`);
    stopping = true;
    o.log.info(`${signal}: stopping; changes are refused (503, retry in ${o.shutdown.retryAfterSeconds} s), running masters stay up`);
    const bound = setTimeout(() => {
      o.log.error(`shutdown: gave up after ${o.shutdown.timeoutMs} ms (shutdownTimeoutMs) waiting for ${o.shutdown.waitingFor ?? 'the exit'}; running masters stay up`);
      o.exit(1);
    }, o.shutdown.timeoutMs);
    bound.unref();
    o.stop().then(
      (report) => {
        o.log.info(describeShutdown(report));
        o.exit(0);
      },
      (e: unknown) => {
        o.log.error(`shutdown failed while waiting for ${o.shutdown.waitingFor ?? 'the exit'}: ${e instanceof Error ? e.message : String(e)}`);
        o.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
