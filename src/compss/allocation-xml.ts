/**
 * Turns one job's allocation into the COMPSs project and resources models: one ComputeNode
 * per allocated node, in allocation order, describing exactly what SLURM (or the simulator)
 * granted on it, so COMPSs never schedules more than the job holds.
 */
import type { AllocatedNode, Allocation } from '../backends/resource-backend.js';
import { type CompssConfig, jobWorkingDir, resolveCompssConfig } from './compss-config.js';
import {
  type AdaptorModel,
  type ApplicationModel,
  NIO_ADAPTOR_NAME,
  type NioPortsModel,
  type ProcessorModel,
  type ProjectComputeNodeModel,
  type ProjectModel,
  type ResourcesComputeNodeModel,
  type ResourcesModel,
} from './compss-model.js';
import { type PortRange, portRangeForJob } from './ports.js';
import { invalid } from './xml-common.js';

/** Processor names GRM writes (COMPSs's own examples call the CPU `MainProcessor`). */
export const CPU_PROCESSOR_NAME = 'MainProcessor';
export const GPU_PROCESSOR_NAME = 'GPU';

export interface CompssJobInput {
  grmJobId: number;
  allocation: Allocation;
  /**
   * Tasks the job runs on each node, which becomes LimitOfTasks. A node missing here gets its
   * allocated CPU count (COMPSs's own default: one task per computing unit).
   */
  tasksPerNode?: ReadonlyMap<string, number> | Readonly<Record<string, number>>;
  config?: Partial<CompssConfig>;
  /** From pickPortRange when the caller tracks running jobs; default portRangeForJob(grmJobId). */
  ports?: PortRange;
  /** The job's own `<Application>` paths (--classpath...): each one given replaces the config's. */
  application?: ApplicationModel;
}

export interface CompssJobFiles {
  project: ProjectModel;
  resources: ResourcesModel;
  /** The block the workers were given; the master belongs on ports.masterPort. */
  ports: PortRange;
  /** The job's WorkingDir on every node. */
  workingDir: string;
}

/**
 * MiB -> GB (the XSD's unit, xsd:float), rounded down to 2 decimals so COMPSs is never told
 * about memory the job does not hold; anything allocated stays at least 0.01 so a tiny grant is
 * not written as 0.
 */
export function memoryMiBToGB(memoryMiB: number): number {
  if (memoryMiB <= 0) return 0;
  return Math.max(0.01, Math.floor((memoryMiB * 100) / 1024) / 100);
}

function tasksFor(tasks: CompssJobInput['tasksPerNode'], node: string): number | undefined {
  if (tasks === undefined) return undefined;
  if (tasks instanceof Map) return tasks.get(node);
  // hasOwn, so nodes named like Object.prototype members ("constructor") are not misread.
  const record = tasks as Readonly<Record<string, number>>;
  return Object.hasOwn(record, node) ? record[node] : undefined;
}

function taskNodeNames(tasks: CompssJobInput['tasksPerNode']): string[] {
  if (tasks === undefined) return [];
  return tasks instanceof Map ? [...tasks.keys()] : Object.keys(tasks);
}

function checkNode(n: AllocatedNode, i: number): void {
  const where = `allocation.nodes[${i}] (${String(n.name)})`;
  if (typeof n.name !== 'string' || n.name === '') throw invalid(`${where}: the node has no name`);
  if (!Number.isInteger(n.cpus) || n.cpus < 1) throw invalid(`${where}: cpus must be an integer >= 1, got ${String(n.cpus)}`);
  if (!Number.isInteger(n.gpus) || n.gpus < 0) throw invalid(`${where}: gpus must be an integer >= 0, got ${String(n.gpus)}`);
  if (!Number.isFinite(n.memoryMiB) || n.memoryMiB < 0) throw invalid(`${where}: memoryMiB must be >= 0, got ${String(n.memoryMiB)}`);
}

export function compssFilesForAllocation(input: CompssJobInput): CompssJobFiles {
  const config = resolveCompssConfig(input.config);
  const { allocation, grmJobId, tasksPerNode } = input;
  const nodes = allocation.nodes;
  if (nodes.length === 0) throw invalid(`job ${grmJobId}: the allocation has no nodes`);
  nodes.forEach(checkNode);
  const names = new Set(nodes.map((n) => n.name));
  if (names.size !== nodes.length) throw invalid(`job ${grmJobId}: the allocation lists a node twice (${allocation.nodeList})`);
  for (const name of taskNodeNames(tasksPerNode)) {
    if (!names.has(name)) throw invalid(`job ${grmJobId}: tasksPerNode names ${JSON.stringify(name)}, which is not in the allocation`);
  }

  const ports = input.ports ?? portRangeForJob(grmJobId, config);
  const workingDir = jobWorkingDir(grmJobId, config);
  const attached = (config.sharedDisks ?? []).map((d) => ({ name: d.name, mountPoint: d.mountPoint }));
  const application = applicationOf(config, input.application);

  const project: ProjectModel = {
    masterNode: attached.length > 0 ? { sharedDisks: attached } : {},
    computeNodes: nodes.map((n) => {
      const node: ProjectComputeNodeModel = { name: n.name, installDir: config.installDir, workingDir };
      if (config.user !== undefined) node.user = config.user;
      if (application !== undefined) node.application = { ...application };
      node.limitOfTasks = tasksFor(tasksPerNode, n.name) ?? n.cpus;
      return node;
    }),
  };

  const resources: ResourcesModel = {
    sharedDisks: attached.map((d) => ({ name: d.name })),
    computeNodes: nodes.map((n) => {
      const node: ResourcesComputeNodeModel = {
        name: n.name,
        processors: processorsOf(n),
        adaptors: [nioAdaptor(ports, config)],
      };
      if (n.memoryMiB > 0) node.memory = { sizeGB: memoryMiBToGB(n.memoryMiB) };
      if (attached.length > 0) node.sharedDisks = attached.map((d) => ({ ...d }));
      return node;
    }),
  };
  return { project, resources, ports, workingDir };
}

function processorsOf(n: AllocatedNode): ProcessorModel[] {
  const list: ProcessorModel[] = [{ name: CPU_PROCESSOR_NAME, computingUnits: n.cpus, type: 'CPU' }];
  if (n.gpus > 0) {
    const gpu: ProcessorModel = { name: GPU_PROCESSOR_NAME, computingUnits: n.gpus, type: 'GPU' };
    // The GRES type (e.g. "a100") is what tasks can constrain on as processor architecture.
    if (n.gpuType !== undefined && n.gpuType !== '') gpu.architecture = n.gpuType;
    list.push(gpu);
  }
  return list;
}

function nioAdaptor(range: PortRange, config: CompssConfig): AdaptorModel {
  // The master's port is the block's last one, so workers stop just below it.
  const ports: NioPortsModel = { minPort: range.minPort, maxPort: range.masterPort - 1 };
  if (config.remoteExecutionCommand !== undefined) ports.remoteExecutionCommand = config.remoteExecutionCommand;
  const adaptor: AdaptorModel = { name: NIO_ADAPTOR_NAME, submissionSystem: { interactive: true }, ports };
  const props = Object.entries(config.adaptorProperties ?? {});
  if (props.length > 0) adaptor.properties = props.map(([name, value]) => ({ name, value }));
  return adaptor;
}

function applicationOf(config: CompssConfig, job: ApplicationModel = {}): ApplicationModel | undefined {
  const a = config.application ?? {};
  const out: ApplicationModel = {};
  const appDir = job.appDir ?? a.appDir;
  const libraryPath = job.libraryPath ?? a.libraryPath;
  const classpath = job.classpath ?? a.classpath;
  const pythonpath = job.pythonpath ?? a.pythonpath;
  if (appDir !== undefined) out.appDir = appDir;
  if (libraryPath !== undefined) out.libraryPath = libraryPath;
  if (classpath !== undefined) out.classpath = classpath;
  if (pythonpath !== undefined) out.pythonpath = pythonpath;
  return Object.keys(out).length > 0 ? out : undefined;
}
