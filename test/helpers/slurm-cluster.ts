/**
 * A real SLURM cluster for tests, started by scripts/slurm-cluster.sh (one munged, one
 * slurmctld and N slurmd on this host, all in one temp directory).
 *
 *   const cluster = await startTestCluster(t, { nodes: 4 });
 *   if (!cluster) return;                 // skipped: packages missing and not root
 *   await execFileP('sinfo', [], { env: cluster.env });
 *
 * If SLURM_CONF is already set (a cluster started by hand, or by CI once for every file:
 * eval "$(scripts/slurm-cluster.sh start)"), that cluster is reused when it has enough nodes
 * and GPUs, and is left running. Otherwise a new cluster is started and stopped in
 * t.teardown (which tap runs also when the test fails), with a process-exit hook as a
 * backstop so no daemon outlives the test process.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT, requireSystem, type Tap } from './system.js';

const execFileP = promisify(execFile);

export const SLURM_CLUSTER_SCRIPT = path.join(PROJECT_ROOT, 'scripts/slurm-cluster.sh');

export interface TestCluster {
  /** Path of the cluster's slurm.conf (what SLURM_CONF is set to in env). */
  slurmConf: string;
  /** The cluster's directory: slurm.conf, logs in log/, pid files in run/, state, spool. */
  dir: string;
  /** process.env with SLURM_CONF (and /usr/sbin on PATH): pass to every SLURM command. */
  env: NodeJS.ProcessEnv;
  /** Node names, node1..nodeN. */
  nodes: string[];
  /** True when started by scripts/slurm-cluster.sh (so stop-ctld/start-ctld apply). */
  managed: boolean;
  /** True when an already running cluster (SLURM_CONF) was reused. */
  reused: boolean;
  /** Seconds the start took (0 when reused). */
  startSeconds: number;
}

export interface StartOptions {
  nodes?: number;
  /** Fake GPUs per node (gres gpu:tesla:G). */
  gpus?: number;
  cpus?: number;
  memoryMiB?: number;
  /** Appended to slurm.conf's SchedulerParameters; a cluster of its own (none is reused). */
  schedulerParameters?: string;
}

export interface ClusterTap extends Tap {
  teardown(fn: () => unknown): void;
  comment(...args: unknown[]): void;
  passing?(): boolean;
}

function envWith(slurmConf: string): NodeJS.ProcessEnv {
  const pathParts = (process.env.PATH ?? '').split(':');
  for (const extra of ['/usr/sbin', '/usr/bin']) if (!pathParts.includes(extra)) pathParts.push(extra);
  return { ...process.env, SLURM_CONF: slurmConf, PATH: pathParts.join(':') };
}

/** Runs the cluster script; on failure the error carries its stderr (log tails). */
async function runScript(args: string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.SLURM_CONF; // the script sets its own
  try {
    return await execFileP(SLURM_CLUSTER_SCRIPT, args, { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
  } catch (e) {
    const err = e as Error & { stderr?: string; code?: number | string };
    throw new Error(`slurm-cluster.sh ${args.join(' ')} failed (${err.code ?? err.message}):\n${err.stderr ?? ''}`);
  }
}

/** Nodes and GPUs per node of a running cluster, from sinfo; null if sinfo fails. */
async function describe(env: NodeJS.ProcessEnv): Promise<{ nodes: string[]; minGpus: number } | null> {
  try {
    const { stdout } = await execFileP('sinfo', ['-h', '-N', '-o', '%N %G'], { env, timeout: 30_000 });
    const rows = stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => l.trim().split(/\s+/));
    const nodes = [...new Set(rows.map((r) => r[0]!))];
    const gpus = rows.map((r) => Number(/gpu(?::[^:(,]+)?:(\d+)/.exec(r[1] ?? '')?.[1] ?? 0));
    return { nodes, minGpus: gpus.length ? Math.min(...gpus) : 0 };
  } catch {
    return null;
  }
}

/**
 * Starts (or reuses) a cluster. Returns null when the test was skipped because slurm-wlm and
 * munge are missing and cannot be installed (requireSystem fails the test instead under CI).
 */
export async function startTestCluster(t: ClusterTap, opts: StartOptions = {}): Promise<TestCluster | null> {
  const nodes = opts.nodes ?? 4;
  const gpus = opts.gpus ?? 0;

  const existing = opts.schedulerParameters === undefined ? process.env.SLURM_CONF : undefined;
  if (existing) {
    const env = envWith(existing);
    const info = await describe(env);
    if (info && info.nodes.length >= nodes && info.minGpus >= gpus) {
      const dir = path.dirname(existing);
      return {
        slurmConf: existing,
        dir,
        env,
        nodes: info.nodes,
        managed: existsSync(path.join(dir, 'run/slurmctld.pid')),
        reused: true,
        startSeconds: 0,
      };
    }
    t.comment(
      `SLURM_CONF=${existing} ${info ? `has ${info.nodes.length} node(s), ${info.minGpus} gpu(s)` : 'does not answer'}; ` +
        `starting a cluster of ${nodes} node(s), ${gpus} gpu(s) for this test`,
    );
  }

  if (!requireSystem(t, 'slurm')) return null;

  const dir = mkdtempSync('/tmp/grm-slurm-test.');
  let stopped = false;
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    try {
      execFileSync(SLURM_CLUSTER_SCRIPT, ['stop', '--dir', dir, '--purge'], { stdio: 'ignore', timeout: 60_000 });
    } catch {
      /* best effort at exit */
    }
  };
  // Backstop for a test process that ends without running its teardowns.
  process.once('exit', stopSync);
  t.teardown(async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', stopSync);
    // A failed test keeps the directory (logs in log/) for a look; a passing one removes it.
    const keep = typeof t.passing === 'function' && !t.passing();
    await runScript(['stop', '--dir', dir, ...(keep ? [] : ['--purge'])], 60_000);
    if (keep) t.comment(`slurm cluster logs kept in ${dir}/log`);
  });

  const args = ['start', '--dir', dir, '--nodes', String(nodes), '--gpus', String(gpus)];
  if (opts.cpus !== undefined) args.push('--cpus', String(opts.cpus));
  if (opts.memoryMiB !== undefined) args.push('--memory', String(opts.memoryMiB));
  if (opts.schedulerParameters !== undefined) args.push('--sched-params', opts.schedulerParameters);
  const t0 = performance.now();
  const { stdout } = await runScript(args, 180_000);
  const startSeconds = (performance.now() - t0) / 1000;
  const last = stdout.trim().split('\n').pop() ?? '';
  const m = /^export SLURM_CONF=(.+)$/.exec(last);
  if (!m) throw new Error(`slurm-cluster.sh start printed no export line: ${JSON.stringify(stdout)}`);
  const slurmConf = m[1]!;
  const nodeNames = readFileSync(slurmConf, 'utf8')
    .split('\n')
    .map((l) => /^NodeName=(\S+)/.exec(l)?.[1])
    .filter((n): n is string => !!n);
  return { slurmConf, dir, env: envWith(slurmConf), nodes: nodeNames, managed: true, reused: false, startSeconds };
}

/** Stops only slurmctld of a cluster started by the script (slurmd's and munged keep running). */
export async function stopSlurmctld(dir: string): Promise<void> {
  await runScript(['stop-ctld', '--dir', dir], 60_000);
}

/** Starts slurmctld again and waits until every node is usable (idle, or busy with a job). */
export async function startSlurmctld(dir: string): Promise<void> {
  await runScript(['start-ctld', '--dir', dir], 120_000);
}
