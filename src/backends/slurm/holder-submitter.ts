/**
 * How a holder reaches SLURM: which kind this cluster gets ('auto': by its InactiveLimit, read
 * once), whether GRM may set priorities (root or SlurmUser), the holder's argv for a request
 * (holder-job.ts), `sbatch --test-only` asked once per request shape, and the submission itself.
 * Apart from slurm-backend.ts, which tracks what was submitted: this file decides nothing about
 * a holder once SLURM has its id.
 */
import type { ResourceRequest } from '../resource-backend.js';
import { AcceptanceCache } from './acceptance-cache.js';
import { HOLDER_SCRIPT, holderSallocArgs, holderSbatchArgs, type HolderJobOptions } from './holder-job.js';
import type { SlurmCommands, WaitingSalloc } from './slurm-commands.js';

export type HolderKind = 'salloc' | 'batch';

export interface HolderSubmitterOptions {
  commands: SlurmCommands;
  /** This GRM's id, in every holder's comment. */
  instance: string;
  /** The account a user's holders are submitted for; null: the daemon's own. */
  holderAccount: (user: string) => { uid: number; gid: number } | null;
  /** --chdir of holder jobs; default /tmp. */
  holderWorkDir: string | undefined;
  holder: HolderKind | 'auto';
  /** How long a --test-only acceptance is reused. */
  infoCacheMs: number;
}

/** What GRM reads of the cluster once: the holder kind, and whether it may set priorities. */
export interface ClusterAnswer {
  kind: HolderKind;
  setPriority: boolean;
}

/** Request shapes whose --test-only acceptance is remembered at once. */
const TEST_ONLY_CACHE_SIZE = 256;

export class HolderSubmitter {
  /** sbatch --test-only acceptances per request shape, for infoCacheMs. */
  private readonly testOnlyCache: AcceptanceCache;
  private clusterAnswer: Promise<ClusterAnswer> | undefined;

  constructor(private readonly o: HolderSubmitterOptions) {
    this.testOnlyCache = new AcceptanceCache({ ttlMs: o.infoCacheMs, maxKeys: TEST_ONLY_CACHE_SIZE, now: () => Date.now() });
  }

  /** `sbatch --test-only`, asked once per request shape: the holder's argv but its name and comment. */
  testOnly(request: ResourceRequest): Promise<unknown> {
    const args = this.sbatchArgs(request);
    const key = args.filter((a) => !a.startsWith('--job-name=') && !a.startsWith('--comment=')).join('\0');
    return this.testOnlyCache.ask(key, () => this.o.commands.sbatchTestOnly(args, HOLDER_SCRIPT));
  }

  /** Submits the request's holder: its SLURM job id, and the salloc that waits for its grant (salloc kind). */
  async submit(request: ResourceRequest): Promise<{ backendId: string; salloc?: WaitingSalloc }> {
    const { kind, setPriority } = await this.cluster();
    const options = { ...this.holderOptions(request), setPriority };
    if (kind === 'batch') return { backendId: await this.o.commands.sbatch(holderSbatchArgs(request, options), HOLDER_SCRIPT) };
    const salloc = await this.o.commands.salloc(holderSallocArgs(request, options));
    return { backendId: salloc.jobId, salloc };
  }

  /** The holder kind, and whether GRM may set priorities (root or SlurmUser): read once. */
  cluster(): Promise<ClusterAnswer> {
    this.clusterAnswer ??= this.o.commands.clusterConfig().then((c) => {
      const uid = process.getuid?.() ?? -1;
      const kind: HolderKind = this.o.holder !== 'auto' ? this.o.holder : c.inactiveLimitSeconds > 0 ? 'batch' : 'salloc';
      return { kind, setPriority: uid === 0 || uid === c.slurmUserUid };
    });
    this.clusterAnswer.catch(() => (this.clusterAnswer = undefined));
    return this.clusterAnswer;
  }

  /** The batch holder's argv for a request (without --priority: the shape handover compares). */
  sbatchArgs(request: ResourceRequest): string[] {
    return holderSbatchArgs(request, this.holderOptions(request));
  }

  private holderOptions(request: ResourceRequest): HolderJobOptions {
    return {
      instance: this.o.instance,
      account: this.o.holderAccount(request.user),
      ...(this.o.holderWorkDir !== undefined ? { workDir: this.o.holderWorkDir } : {}),
    };
  }
}
