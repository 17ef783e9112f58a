/**
 * Builds the fastify app: OpenAPI at /openapi.json, the job API under /api/v1, and the
 * report viewer's static files at /. Services come in from the composition root.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import fastifyStatic from '@fastify/static';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { installErrorHandler } from './error-handler.js';
import { clusterRoutes } from './routes/cluster.js';
import { jobRoutes } from './routes/jobs.js';
import { logStreamRoutes } from './routes/log-stream.js';
import { logRoutes } from './routes/logs.js';
import { reportRoutes } from './routes/reports.js';
import { searchRoutes } from './routes/search.js';
import type { ApiServices } from './services.js';

export interface AppOptions {
  services: ApiServices;
  logger: boolean | { level: string };
  /** Folder of the viewer's static files; defaults to the project's viewer folder. */
  viewerDir?: string;
}

// src/api and dist/api both sit two levels below the project root; the viewer is plain files.
export const VIEWER_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/viewer/public');

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger,
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false, allErrors: false } },
    bodyLimit: 8 * 1024 * 1024,
  }).withTypeProvider<TypeBoxTypeProvider>();
  installErrorHandler(app);
  await app.register(swagger, {
    openapi: {
      info: { title: 'GRM — Global Resource Manager', version: options.services.version },
      tags: [{ name: 'jobs' }, { name: 'cluster' }],
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(
    async (api) => {
      await api.register(jobRoutes, { services: options.services });
      await api.register(logRoutes, { services: options.services });
      await api.register(logStreamRoutes, { services: options.services });
      await api.register(searchRoutes, { services: options.services });
      await api.register(reportRoutes, { services: options.services });
      await api.register(clusterRoutes, { services: options.services });
    },
    { prefix: '/api/v1' },
  );
  await app.register(fastifyStatic, { root: options.viewerDir ?? VIEWER_DIR, prefix: '/', index: ['index.html'] });
  return app;
}
