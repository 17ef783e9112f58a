/**
 * Builds the fastify app: OpenAPI at /openapi.json, the job API under /api/v1, and the
 * report viewer's static files at /. Services come in from the composition root.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import fastifyStatic from '@fastify/static';
import { JOB_STATES, STATE_CODES, TERMINAL_STATES } from '../jobs/job-types.js';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { installAuth } from './auth.js';
import { installErrorHandler } from './error-handler.js';
import { installRateLimit, type RateLimitSettings } from './rate-limit.js';
import { installShutdownGate, type ShutdownState } from './shutdown-gate.js';
import { clusterRoutes } from './routes/cluster.js';
import { jobRoutes } from './routes/jobs.js';
import { logStreamRoutes } from './routes/log-stream.js';
import { logRoutes } from './routes/logs.js';
import { metricRoutes } from './routes/metrics.js';
import { policyRoutes } from './routes/policy.js';
import { prometheusRoutes } from './routes/prometheus.js';
import { reportRoutes } from './routes/reports.js';
import { searchRoutes } from './routes/search.js';
import { userRoutes, whoamiRoutes } from './routes/users.js';
import type { ApiServices } from './services.js';
import { installStrictInput, installValidators } from './strict-input.js';

export interface AppOptions {
  services: ApiServices;
  logger: boolean | { level: string };
  /** Folder of the viewer's static files; defaults to the project's viewer folder. */
  viewerDir?: string;
  /** Largest request body (config limits.bodyBytes). */
  bodyLimit: number;
  rateLimit: RateLimitSettings;
  /** Serve HTTPS with this key and certificate (PEM). */
  https?: { key: Buffer; cert: Buffer };
  /** While it drains, changes are refused (503, Retry-After); default: never draining. */
  shutdown?: ShutdownState;
}

// src/api and dist/api both sit two levels below the project root; the viewer is plain files.
export const VIEWER_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/viewer/public');

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  // an https server is a FastifyInstance like any other to everything below
  const app = (Fastify as (o: object) => FastifyInstance)({
    logger: options.logger,
    bodyLimit: options.bodyLimit,
    ...(options.https ? { https: options.https } : {}),
  }).withTypeProvider<TypeBoxTypeProvider>();
  installErrorHandler(app);
  // before any route: strict schemas for every /api route, and the validators they compile with
  installValidators(app);
  installStrictInput(app);
  // before the rate limit and auth: a stopping daemon spends nothing on a refused change
  if (options.shutdown) installShutdownGate(app, options.shutdown);
  // before auth: a flood of wrong tokens is limited too
  await installRateLimit(app, options.rateLimit);
  // before any route: every route registered after it needs a token (but api/auth.ts PUBLIC_ROUTES)
  installAuth(app, options.services);
  await app.register(swagger, {
    openapi: {
      info: { title: 'GRM — Global Resource Manager', version: options.services.version },
      tags: [{ name: 'jobs' }, { name: 'cluster' }, { name: 'users' }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(prometheusRoutes, { services: options.services });
  await app.register(
    async (api) => {
      await api.register(jobRoutes, { services: options.services });
      await api.register(logRoutes, { services: options.services });
      await api.register(logStreamRoutes, { services: options.services });
      await api.register(metricRoutes, { services: options.services });
      await api.register(searchRoutes, { services: options.services });
      await api.register(reportRoutes, { services: options.services });
      await api.register(policyRoutes, { services: options.services });
      await api.register(clusterRoutes, { services: options.services });
      await api.register(whoamiRoutes);
      await api.register(userRoutes, { services: options.services });
    },
    { prefix: '/api/v1' },
  );
  // The viewer's state names and sets come from the daemon's own definitions, not a copy.
  const states = viewerStatesModule();
  app.get('/states.js', { schema: { hide: true } }, async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(states));
  await app.register(fastifyStatic, { root: options.viewerDir ?? VIEWER_DIR, prefix: '/', index: ['index.html'] });
  return app;
}

/** An ES module for the viewer: STATE_CODES, JOB_STATES and FINAL_STATES as src/jobs defines them. */
function viewerStatesModule(): string {
  const json = (v: unknown) => JSON.stringify(v);
  return [
    '// generated by the GRM daemon from src/jobs/job-types.ts',
    `export const STATE_CODES = Object.freeze(${json(STATE_CODES)});`,
    `export const JOB_STATES = Object.freeze(${json(JOB_STATES)});`,
    `export const FINAL_STATES = Object.freeze(${json([...TERMINAL_STATES])});`,
    '',
  ].join('\n');
}
