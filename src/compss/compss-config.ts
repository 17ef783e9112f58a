/**
 * The `compss` part of the GRM configuration: how the generated project/resources files look
 * for every job. The config loader embeds CompssConfig and fills gaps with
 * resolveCompssConfig(), which is also what every function here calls on a partial config.
 */
import { GrmError } from '../errors.js';

export interface CompssConfig {
  /** COMPSs installation on the worker nodes (project.xml InstallDir). */
  installDir: string;
  /** Each job works in `<workingDirBase>/<grmJobId>/` on every node (project.xml WorkingDir). */
  workingDirBase: string;
  /** Account the master uses to reach workers (project.xml User); absent = the master's own. */
  user?: string;
  /** First port of the window GRM hands out to jobs. */
  portsBase: number;
  /** Ports reserved per job: all but the last go to the NIO workers, the last to the master. */
  portsPerJob: number;
  /** How many per-job blocks the window holds = how many jobs may share a node at once. */
  portSlots: number;
  /** Disks mounted at the same place on every node and on the master. */
  sharedDisks?: Array<{ name: string; mountPoint: string }>;
  /** Written as `<Properties>` of the NIO adaptor in resources.xml. */
  adaptorProperties?: Record<string, string>;
  /** resources.xml Ports/RemoteExecutionCommand, e.g. `srun` to start workers inside the allocation. */
  remoteExecutionCommand?: string;
  /** project.xml Application paths, identical on every node. */
  application?: { appDir?: string; pythonpath?: string; classpath?: string; libraryPath?: string };
}

/*
 * Port defaults. A COMPSs NIO worker binds one port: the WorkerStarter tries MinPort first
 * and walks up to MaxPort only when the start fails (port taken by something else), so a job
 * needs 1 port per node plus headroom for retries. 20 per job leaves 18 retries plus the
 * master's port, and 100 slots keep the whole window at 43001-45000 (43001 is COMPSs's own
 * default MinPort), well below the 65535 ceiling even if an admin raises either number.
 */
export const COMPSS_CONFIG_DEFAULTS: Readonly<CompssConfig> = Object.freeze({
  installDir: '/opt/COMPSs/',
  workingDirBase: '/tmp/COMPSsWorker',
  portsBase: 43001,
  portsPerJob: 20,
  portSlots: 100,
});

function bad(field: string, message: string): GrmError {
  return new GrmError('E_CONFIG_INVALID', `compss.${field} ${message}`, { field: `compss.${field}` });
}

function int(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw bad(field, `must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

function absolutePath(value: unknown, field: string): string {
  if (typeof value !== 'string' || !value.startsWith('/')) {
    throw bad(field, `must be an absolute path, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Defaults filled in and every field checked; throws E_CONFIG_INVALID naming the field. */
export function resolveCompssConfig(input: Partial<CompssConfig> = {}): CompssConfig {
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Partial<CompssConfig>;
  const c: CompssConfig = { ...COMPSS_CONFIG_DEFAULTS, ...defined };
  absolutePath(c.installDir, 'installDir');
  absolutePath(c.workingDirBase, 'workingDirBase');
  int(c.portsBase, 'portsBase', 1024, 65535);
  // 2 = one worker port + the master's; fewer cannot run a job.
  int(c.portsPerJob, 'portsPerJob', 2, 65535);
  int(c.portSlots, 'portSlots', 1, 65535);
  const last = c.portsBase + c.portsPerJob * c.portSlots - 1;
  if (last > 65535) {
    throw bad('portSlots', `x portsPerJob from portsBase ends at port ${last}, above 65535; lower portSlots or portsPerJob`);
  }
  if (c.user !== undefined && (typeof c.user !== 'string' || c.user === '')) throw bad('user', 'must be a non-empty string');
  const names = new Set<string>();
  for (const [i, d] of (c.sharedDisks ?? []).entries()) {
    if (typeof d?.name !== 'string' || d.name === '') throw bad(`sharedDisks[${i}].name`, 'must be a non-empty string');
    absolutePath(d.mountPoint, `sharedDisks[${i}].mountPoint`);
    if (names.has(d.name)) throw bad(`sharedDisks[${i}].name`, `repeats ${JSON.stringify(d.name)}`);
    names.add(d.name);
  }
  for (const [k, v] of Object.entries(c.adaptorProperties ?? {})) {
    if (typeof v !== 'string') throw bad(`adaptorProperties.${k}`, 'must be a string');
  }
  return c;
}

/** `<workingDirBase>/<grmJobId>/`: one directory per job, so concurrent jobs never share files. */
export function jobWorkingDir(grmJobId: number, config: Partial<CompssConfig> = {}): string {
  const c = resolveCompssConfig(config);
  if (!Number.isInteger(grmJobId) || grmJobId < 0) throw new GrmError('E_INTERNAL', `invalid GRM job id ${String(grmJobId)}`);
  return `${c.workingDirBase.replace(/\/+$/, '')}/${grmJobId}/`;
}
