/**
 * A typed model of the COMPSs 2.x/3.x `project.xml` and `resources.xml` files
 * (schemas/compss/{project,resources}_schema.xsd), limited to the part GRM writes and reads:
 * master, compute nodes, shared disks and adaptors. Cloud providers, data nodes, services,
 * HTTP services, computing clusters and prices are outside the model; the parsers skip them and
 * report each one through ParseOptions.onSkipped, so nothing is dropped silently.
 *
 * Units follow the XSD comments: sizes in GB (xsd:float), speed in GHz. Optional fields are
 * absent, never `undefined`, so parse(build(m)) deep-equals m under strict comparison.
 */

/** The adaptor COMPSs uses to run workers over plain TCP; GRM only ever writes this one. */
export const NIO_ADAPTOR_NAME = 'es.bsc.compss.nio.master.NIOAdaptor';

/** `<AttachedDisk Name><MountPoint>`: a shared disk as seen from one node. */
export interface AttachedDiskModel {
  name: string;
  mountPoint: string;
}

/** `<Property><Name><Value>` inside an adaptor's `<Properties>`. */
export interface AdaptorPropertyModel {
  name: string;
  value: string;
}

/** `<SubmissionSystem>`: at least one of interactive or batch must be present. */
export interface SubmissionSystemModel {
  interactive: boolean;
  /** `<Batch><Queue>…`; when present it holds at least one queue. */
  batchQueues?: string[];
}

/**
 * `<Ports>` of the NIO adaptor. The project schema only allows MinPort/MaxPort; the extra two
 * exist in resources.xml only (the project builder refuses them).
 */
export interface NioPortsModel {
  minPort: number;
  maxPort: number;
  spawnerPort?: number;
  /** How the master launches a worker on the node, e.g. `srun` inside a SLURM allocation. */
  remoteExecutionCommand?: string;
}

/** `<Adaptor Name>`, shared by both files. */
export interface AdaptorModel {
  name: string;
  submissionSystem: SubmissionSystemModel;
  ports?: NioPortsModel;
  /** GAT adaptors name their broker instead of ports, e.g. `sshtrilead`. */
  brokerAdaptor?: string;
  user?: string;
  /** `<Properties/>` (an empty list) is legal and kept as []. */
  properties?: AdaptorPropertyModel[];
}

// ---------------------------------------------------------------------------------------------
// project.xml

/** `<Application>` (xsd:all, every child optional). */
export interface ApplicationModel {
  appDir?: string;
  libraryPath?: string;
  classpath?: string;
  pythonpath?: string;
  environmentScript?: string;
  pythonInterpreter?: string;
}

export interface MasterNodeModel {
  sharedDisks?: AttachedDiskModel[];
}

/** `<ComputeNode Name>` in project.xml: where and how COMPSs runs a worker on that node. */
export interface ProjectComputeNodeModel {
  name: string;
  installDir: string;
  workingDir: string;
  user?: string;
  application?: ApplicationModel;
  /** Most tasks COMPSs runs at once on the node. */
  limitOfTasks?: number;
  adaptors?: AdaptorModel[];
}

export interface ProjectModel {
  masterNode: MasterNodeModel;
  computeNodes: ProjectComputeNodeModel[];
}

// ---------------------------------------------------------------------------------------------
// resources.xml

/** The XSD types Processor/Type as a free string; COMPSs itself understands these three. */
export type ProcessorKind = 'CPU' | 'GPU' | 'FPGA';
export const PROCESSOR_KINDS: readonly ProcessorKind[] = ['CPU', 'GPU', 'FPGA'];

export interface ProcessorModel {
  name: string;
  computingUnits: number;
  architecture?: string;
  speedGHz?: number;
  type?: ProcessorKind;
  internalMemorySizeGB?: number;
  property?: { key: string; value: string };
}

export interface MemoryModel {
  sizeGB: number;
  type?: string;
}

/** `<Storage>`: every child optional, but at least one must be present. */
export interface StorageModel {
  sizeGB?: number;
  type?: string;
  bandwidth?: number;
}

export type OsKind = 'Linux' | 'Windows' | 'MacOS' | 'FreeBSD' | 'SunOS';
export const OS_KINDS: readonly OsKind[] = ['Linux', 'Windows', 'MacOS', 'FreeBSD', 'SunOS'];

export interface OperatingSystemModel {
  type: OsKind;
  distribution?: string;
  version?: string;
}

/** `<ComputeNode Name>` in resources.xml: what the node offers and how to reach it. */
export interface ResourcesComputeNodeModel {
  name: string;
  /** At least one. */
  processors: ProcessorModel[];
  /** At least one. */
  adaptors: AdaptorModel[];
  memory?: MemoryModel;
  storage?: StorageModel;
  operatingSystem?: OperatingSystemModel;
  /** `<Software><Application>…`; at least one entry when present. */
  software?: string[];
  sharedDisks?: AttachedDiskModel[];
}

/** `<SharedDisk Name>` declared once at the top of resources.xml. */
export interface SharedDiskModel {
  name: string;
  storage?: StorageModel;
}

export interface ResourcesModel {
  sharedDisks: SharedDiskModel[];
  computeNodes: ResourcesComputeNodeModel[];
}

/** Options shared by both parsers. */
export interface ParseOptions {
  /**
   * Called for each element (or attribute) name the file uses where the model has no place for
   * it, once per parent element, with its path, e.g. `Project/Cloud` or
   * `ResourcesList/ComputeNode[n1]/Price`.
   */
  onSkipped?: (path: string) => void;
}
