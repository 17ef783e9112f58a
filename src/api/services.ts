/** What the API needs from the rest of the daemon; the composition root passes it in. */
import type { StartForecast } from '../jobs/start-forecast.js';
import type { FieldLimits } from './request-limits.js';
import type { ResourceBackend } from '../backends/resource-backend.js';
import type { JobService } from '../jobs/job-service.js';
import type { QueuePolicy } from '../jobs/queue-policy.js';
import type { LogSubscriber } from '../logs/log-aggregator.js';
import type { LogSearch } from '../store/log-search.js';
import type { LogStore } from '../store/log-store.js';
import type { MetricStore } from '../store/metric-store.js';
import type { ReportStore } from '../store/report-store.js';
import type { UserService } from '../users/user-service.js';

/** The live side of the logs (the LogPipeline): lines as they are stored, and job ends. */
export interface LogFeed {
  subscribe(jobId: number, fn: LogSubscriber): () => void;
  /** Stores the aggregator's buffer now. */
  flush(): void;
  onJobEnded(jobId: number, fn: (state: string) => void): () => void;
}

export interface ApiServices {
  jobs: JobService;
  /** Priorities (sprio) and the fair-share tree (sshare). */
  policy: Pick<QueuePolicy, 'sprio' | 'sshare' | 'modifyLimits' | 'limitsInForce' | 'defaultAccountOf'>;
  logs: LogStore;
  /** Training metrics read from job output. */
  metrics: MetricStore;
  logFeed: LogFeed;
  search: LogSearch;
  reports: ReportStore;
  /** Users, tokens, the audit log: every request is authenticated through it. */
  users: UserService;
  backend: ResourceBackend;
  /** Pending jobs' expected starts (squeue --start). */
  forecast: Pick<StartForecast, 'starts'>;
  /** The folder of a job (project.xml, resources.xml, outputs). */
  jobDir(id: number): string;
  compressHostlist(names: string[]): string;
  /** Backend allocation id -> GRM job id, for "what runs where". */
  jobsByBackendId(): Map<string, number>;
  version: string;
  startedAt: number;
  /** The Prometheus exposition of /metrics (src/metrics). */
  prometheus: { contentType: string; render(): Promise<string> };
  /** The dedicated scrape token of /metrics, when configured (metrics.tokenFile). */
  scrapeToken?: { accepts(authorization: string | undefined): boolean };
  /** What is wrong now, in words (log storage paused...); empty when all is well. */
  problems(): string[];
  /** Why log lines are not being stored now; null while they are. */
  logStoragePaused(): string | null;
  /** The config's bounds of one job description (api/request-limits.ts). */
  limits: FieldLimits;
}
