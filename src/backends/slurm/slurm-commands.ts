/**
 * Thin wrappers over SLURM's client commands (sbatch, salloc, squeue, scancel, scontrol, sinfo).
 *
 * - Always argv arrays through execa, never a shell.
 * - Every call has a timeout (default 30 s: above the ~10 s a SLURM client spends retrying a
 *   controller that does not answer, so that case ends with SLURM's own message).
 * - Failures become GrmErrors that keep SLURM's words (classifySlurmError):
 *     "Unable to contact slurm controller", a timeout, a missing binary → E_BACKEND_UNAVAILABLE
 *     "Invalid partition name specified"                              → E_PARTITION_UNKNOWN
 *     "Requested node configuration is not available",
 *     "Requested time limit is invalid", "Node count specification invalid" → E_NODE_CONFIG_UNAVAILABLE
 *     anything else                                                   → E_BACKEND (stderr's text)
 * Gotchas (Slurm 22.05): scancel exits 0 even when it prints "Invalid job id specified";
 * `squeue --json` ignores -j/-t and returns every job the controller remembers (so GRM reads
 * squeue's text lines instead: squeue-parse.ts).
 */
import path from 'node:path';
import { execa } from 'execa';
import { GrmError, type GrmErrorCode } from '../../errors.js';

export const SLURM_COMMAND_NAMES = ['sbatch', 'salloc', 'squeue', 'scancel', 'scontrol', 'sinfo', 'srun'] as const;
export type SlurmCommandName = (typeof SLURM_COMMAND_NAMES)[number];

export interface SlurmCommandOptions {
  /** Directory of the SLURM client binaries; default: found on PATH. */
  binDir?: string;
  /** Path of slurm.conf, passed as SLURM_CONF; default: the environment's. */
  slurmConf?: string;
  /** Per-command timeout; default 30 000 ms. */
  timeoutMs?: number;
  /** Base environment; default process.env. */
  env?: NodeJS.ProcessEnv;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;

export interface CommandOutput {
  stdout: string;
  stderr: string;
}

/** stderr patterns, checked in order; the first that matches gives the code. */
const ERROR_PATTERNS: [RegExp, GrmErrorCode][] = [
  [/Unable to contact slurm controller/i, 'E_BACKEND_UNAVAILABLE'],
  [/Socket timed out on send\/recv operation/i, 'E_BACKEND_UNAVAILABLE'],
  [/Could not establish a configuration source/i, 'E_BACKEND_UNAVAILABLE'],
  [/Invalid partition name specified/i, 'E_PARTITION_UNKNOWN'],
  [/invalid partition specified/i, 'E_PARTITION_UNKNOWN'],
  [/Requested node configuration is not available/i, 'E_NODE_CONFIG_UNAVAILABLE'],
  [/Requested time limit is invalid/i, 'E_NODE_CONFIG_UNAVAILABLE'],
  [/Node count specification invalid/i, 'E_NODE_CONFIG_UNAVAILABLE'],
  [/Invalid node name specified/i, 'E_REQUEST_INVALID'],
];

/** SLURM's own message: stderr's lines without the "sbatch: error: " prefixes, joined. */
export function slurmMessage(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim().replace(/^[a-z]+: (?:error|fatal): /i, ''))
    .filter((l) => l !== '');
  return lines.join('; ');
}

/** A GrmError for a failed SLURM command, keeping SLURM's own message. */
export function classifySlurmError(command: string, stderr: string, detail?: string): GrmError {
  const message = slurmMessage(stderr) || detail || 'failed without a message';
  for (const [re, code] of ERROR_PATTERNS) {
    if (re.test(stderr)) return new GrmError(code, `${command}: ${message}`);
  }
  return new GrmError('E_BACKEND', `${command}: ${message}`);
}

/** A `salloc --no-shell` that has its job id and may still wait for the grant. */
export interface WaitingSalloc {
  /** SLURM's job id, as salloc printed it. */
  jobId: string;
  /** Settles when salloc exits: granted when it printed the grant and exited 0. */
  exited: Promise<{ granted: boolean; message: string }>;
  /**
   * Ends a salloc still waiting without cancelling its job (SIGKILL: salloc cancels the job on
   * SIGINT/SIGTERM). The job stays queued in SLURM; a restarted GRM adopts it by its comment.
   */
  abandon(): void;
}

/** salloc's line once the job exists: "Pending job allocation 12" or "Granted job allocation 12". */
const SALLOC_JOB_ID = /(?:Pending|Granted) job allocation (\d+)\r?\n/; // whole lines only: a chunk may end mid-number

interface ExecaFailure {
  code?: string;
  timedOut?: boolean;
  stderr?: unknown;
  exitCode?: number;
  signal?: string;
  shortMessage?: string;
  message?: string;
}

/** What one kind of SLURM command cost so far (bench, tests, and later /metrics). */
export interface CommandStats {
  calls: number;
  errors: number;
  totalMs: number;
}

/** One command done: which (the stats' label), how long (ms, the monotonic clock), whether it succeeded. */
export interface CommandEvent {
  command: string;
  durationMs: number;
  ok: boolean;
}

export class SlurmCommands {
  readonly timeoutMs: number;
  /** Per command ("squeue", "sbatch", "sbatch --test-only", ...): calls, failures, time spent. */
  readonly stats = new Map<string, CommandStats>();
  private readonly binDir: string | undefined;
  private readonly env: NodeJS.ProcessEnv;
  private readonly listeners: ((event: CommandEvent) => void)[] = [];

  constructor(options: SlurmCommandOptions = {}) {
    this.binDir = options.binDir;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const env = { ...(options.env ?? process.env) };
    if (options.slurmConf !== undefined) env.SLURM_CONF = options.slurmConf;
    this.env = env;
  }

  /** Hears of every command as it ends (/metrics: latency and errors by command). */
  onCommand(listener: (event: CommandEvent) => void): void {
    this.listeners.push(listener);
  }

  /** The one place a command's cost is counted: its stats and its event. */
  private record(command: string, started: number, ok: boolean): void {
    const stats = this.stats.get(command) ?? { calls: 0, errors: 0, totalMs: 0 };
    this.stats.set(command, stats);
    const durationMs = performance.now() - started;
    stats.calls++;
    if (!ok) stats.errors++;
    stats.totalMs += durationMs;
    const event = { command, durationMs, ok };
    this.listeners.forEach((l) => l(event));
  }

  /** The environment commands run with (SLURM_CONF set when configured). */
  get environment(): NodeJS.ProcessEnv {
    return { ...this.env };
  }

  /** The path (or bare name, for PATH lookup) of a SLURM binary. */
  binary(name: SlurmCommandName): string {
    return this.binDir ? path.join(this.binDir, name) : name;
  }

  /**
   * Runs one command; throws a classified GrmError on a non-zero exit, timeout or missing binary.
   * `as`: run it as that account (a root daemon acting in a job's allocation: SLURM lets only
   * the job's owner create steps in it); from /tmp, a folder any account may be in.
   */
  async run(name: SlurmCommandName, args: string[], input?: string, options: { as?: { uid: number; gid: number } | null } = {}): Promise<CommandOutput> {
    const file = this.binary(name);
    const as = options.as ? { uid: options.as.uid, gid: options.as.gid, cwd: '/tmp' } : {};
    const label = args[0] === '--test-only' ? `${name} --test-only` : name;
    const started = performance.now();
    let ok = false;
    try {
      const result = await execa(file, args, {
        ...as,
        env: this.env,
        extendEnv: false,
        timeout: this.timeoutMs,
        killSignal: 'SIGKILL',
        stripFinalNewline: false,
        ...(input !== undefined ? { input } : { stdin: 'ignore' as const }),
      });
      ok = true;
      return { stdout: String(result.stdout), stderr: String(result.stderr) };
    } catch (e) {
      const err = e as ExecaFailure;
      if (err.code === 'ENOENT' || err.code === 'EACCES') {
        throw new GrmError(
          'E_BACKEND_UNAVAILABLE',
          `${name}: cannot run ${file} (${err.code}); install slurm-client or set slurm.binDir to the directory of the SLURM commands`,
          { cause: e },
        );
      }
      if (err.timedOut) {
        throw new GrmError('E_BACKEND_UNAVAILABLE', `${name}: no answer after ${this.timeoutMs} ms (slurmctld unreachable?)`, {
          cause: e,
        });
      }
      const stderr = typeof err.stderr === 'string' ? err.stderr : '';
      const detail = err.exitCode !== undefined ? `exit code ${err.exitCode}` : (err.shortMessage ?? err.message);
      throw classifySlurmError(name, stderr, detail);
    } finally {
      this.record(label, started, ok);
    }
  }

  /** sbatch --parsable ARGS with the script on stdin; returns the job id. */
  async sbatch(args: string[], script: string): Promise<string> {
    const { stdout, stderr } = await this.run('sbatch', args, script);
    const id = stdout.trim().split('\n').pop()?.split(';')[0]?.trim() ?? '';
    if (!/^\d+$/.test(id)) {
      throw new GrmError('E_BACKEND', `sbatch printed no job id: ${JSON.stringify(stdout.trim())} ${slurmMessage(stderr)}`.trim());
    }
    return id;
  }

  /**
   * Starts `salloc ARGS` (ARGS has --no-shell) and resolves once SLURM gave the job an id; the
   * process goes on waiting for the grant, which slurmctld pushes to it. Its own process group
   * (a terminal's Ctrl-C to the daemon must not cancel queued jobs) and no cleanup on the
   * daemon's exit (it would cancel them too): a salloc left behind exits at the grant.
   */
  salloc(args: string[]): Promise<WaitingSalloc> {
    const file = this.binary('salloc');
    const started = performance.now();
    const sub = execa(file, args, {
      env: this.env,
      extendEnv: false,
      stdin: 'ignore',
      stdout: 'ignore',
      buffer: false,
      reject: false,
      detached: true,
      cleanup: false,
    });
    let stderr = '';
    let settled = false;
    const abandon = () => {
      sub.kill('SIGKILL');
    };
    const exited = sub.then((r) => ({
      granted: r.exitCode === 0 && /Granted job allocation/.test(stderr),
      message: slurmMessage(stderr) || (r.exitCode !== undefined ? `exit code ${r.exitCode}` : String(r.signal ?? r.shortMessage ?? '')),
      failure: r.failed ? (r as ExecaFailure) : undefined,
    }));
    return new Promise<WaitingSalloc>((resolve, reject) => {
      const fail = (error: GrmError) => {
        if (settled) return;
        settled = true;
        this.record('salloc', started, false);
        reject(error);
      };
      const timer = setTimeout(() => {
        abandon();
        fail(new GrmError('E_BACKEND_UNAVAILABLE', `salloc: no job id after ${this.timeoutMs} ms (slurmctld unreachable?)`));
      }, this.timeoutMs);
      sub.stderr?.setEncoding('utf8');
      sub.stderr?.on('data', (chunk: string) => {
        if (stderr.length < 65_536) stderr += chunk;
        const id = SALLOC_JOB_ID.exec(stderr)?.[1];
        if (id === undefined || settled) return;
        settled = true;
        clearTimeout(timer);
        this.record('salloc', started, true);
        resolve({ jobId: id, exited: exited.then(({ granted, message }) => ({ granted, message })), abandon });
      });
      void exited.then(({ failure }) => {
        clearTimeout(timer);
        if (settled) return;
        if (failure?.code === 'ENOENT' || failure?.code === 'EACCES') {
          fail(new GrmError('E_BACKEND_UNAVAILABLE', `salloc: cannot run ${file} (${failure.code}); install slurm-client or set slurm.binDir to the directory of the SLURM commands`));
        } else {
          fail(classifySlurmError('salloc', stderr, 'exited without a job id'));
        }
      });
    });
  }

  /** What GRM needs of the cluster's slurm.conf: InactiveLimit (seconds, 0: none) and SlurmUser's uid. */
  async clusterConfig(): Promise<{ inactiveLimitSeconds: number; slurmUserUid: number | null }> {
    const { stdout } = await this.run('scontrol', ['show', 'config']);
    const limit = /^InactiveLimit\s*=\s*(\d+)/m.exec(stdout);
    const user = /^SlurmUser\s*=\s*\S*\((\d+)\)/m.exec(stdout);
    return { inactiveLimitSeconds: limit ? Number(limit[1]) : 0, slurmUserUid: user ? Number(user[1]) : null };
  }

  /** sbatch --test-only: resolves when SLURM would accept the job, throws its reason otherwise. */
  async sbatchTestOnly(args: string[], script: string): Promise<string> {
    const { stdout, stderr } = await this.run('sbatch', ['--test-only', ...args.filter((a) => a !== '--parsable')], script);
    return (stderr + stdout).trim();
  }

  /** squeue -h -t all -o FORMAT: one line per job the controller remembers (raw text). */
  async squeueLines(format: string): Promise<string> {
    return (await this.run('squeue', ['--noheader', '--all', '--states=all', `--format=${format}`])).stdout;
  }

  /** scontrol show job -d -o ID: the job on one line, with its per-node detail (raw text). */
  async showJobDetail(id: string): Promise<string> {
    return (await this.run('scontrol', ['show', 'job', '-d', '-o', id])).stdout;
  }

  /** sinfo --json (raw text). */
  async sinfoJson(): Promise<string> {
    return (await this.run('sinfo', ['--json'])).stdout;
  }

  /** scontrol show partition -o (raw text, one partition a line). */
  async showPartitions(): Promise<string> {
    return (await this.run('scontrol', ['show', 'partition', '-o'])).stdout;
  }

  /** scontrol update nodename=NAME state=STATE [reason=...]: SLURM's own node states (operators only). */
  async updateNode(name: string, state: 'DOWN' | 'DRAIN' | 'RESUME', reason?: string): Promise<void> {
    await this.run('scontrol', ['update', `nodename=${name}`, `state=${state}`, ...(reason ? [`reason=${reason}`] : [])]);
  }

  /** scontrol show job -o ID (raw text). */
  async showJob(id: string): Promise<string> {
    return (await this.run('scontrol', ['show', 'job', '-o', id])).stdout;
  }

  /** scontrol show hostnames EXPR: one name a line. */
  async showHostnames(expr: string): Promise<string[]> {
    const { stdout, stderr } = await this.run('scontrol', ['show', 'hostnames', expr]);
    // 22.05 exits 0 on a bad hostlist, saying "Invalid hostlist: EXPR" on stderr.
    if (/Invalid hostlist/i.test(stderr)) throw new GrmError('E_HOSTLIST_INVALID', `scontrol: ${slurmMessage(stderr)}`);
    return stdout.split('\n').filter((l) => l !== '');
  }

  /**
   * scancel IDS. Idempotent: a job that is already finished or unknown is not an error
   * (scancel exits 0 and prints "Invalid job id specified" / "already completing or completed").
   */
  async scancel(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    let stderr: string;
    try {
      ({ stderr } = await this.run('scancel', ids));
    } catch (e) {
      if (e instanceof GrmError && e.code === 'E_BACKEND' && onlyHarmlessCancelErrors(e.message)) return;
      throw e;
    }
    const errors = stderr.split('\n').filter((l) => /error|fatal/i.test(l));
    const real = errors.filter((l) => !HARMLESS_CANCEL.test(l));
    if (real.length > 0) throw classifySlurmError('scancel', real.join('\n'));
  }
}

const HARMLESS_CANCEL = /Invalid job id specified|already completing or completed|Job\/step already completing/i;

function onlyHarmlessCancelErrors(message: string): boolean {
  const parts = message.replace(/^scancel: /, '').split('; ');
  return parts.every((p) => HARMLESS_CANCEL.test(p) || /^scancel: Terminating job/i.test(p));
}
