/** What the API needs from the rest of the daemon; the composition root passes it in. */
import type { ResourceBackend } from '../backends/resource-backend.js';
import type { JobService } from '../jobs/job-service.js';
import type { LogStore } from '../store/log-store.js';

export interface ApiServices {
  jobs: JobService;
  logs: LogStore;
  backend: ResourceBackend;
  /** The folder of a job (project.xml, resources.xml, outputs). */
  jobDir(id: number): string;
  compressHostlist(names: string[]): string;
  /** Backend allocation id -> GRM job id, for "what runs where". */
  jobsByBackendId(): Map<string, number>;
  version: string;
  startedAt: number;
}
