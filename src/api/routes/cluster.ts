/** /api/v1/nodes, /api/v1/partitions (sinfo) and /api/v1/health. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { NodeSchema, PartitionSchema } from '../schemas.js';
import { presentNode, presentPartition } from '../present.js';
import type { ApiServices } from '../services.js';
import { requestPrincipal } from '../user.js';

export const clusterRoutes: FastifyPluginAsyncTypebox<{ services: ApiServices }> = async (app, { services }) => {
  app.get(
    '/nodes',
    { schema: { summary: 'Nodes and their states (sinfo -N)', response: { 200: Type.Object({ nodes: Type.Array(NodeSchema) }) } } },
    async (request) => {
      // a user sees which of their own jobs run where; an admin, every job
      const me = requestPrincipal(request);
      const all = services.jobsByBackendId();
      const jobs = me.role === 'admin' ? all : new Map([...all].filter(([, id]) => services.jobs.get(id).user === me.name));
      return { nodes: (await services.backend.nodes()).map((n) => presentNode(n, jobs)) };
    },
  );

  app.get(
    '/partitions',
    { schema: { summary: 'Partitions (sinfo)', response: { 200: Type.Object({ partitions: Type.Array(PartitionSchema) }) } } },
    async () => ({
      partitions: (await services.backend.partitions()).map((p) => presentPartition(p, services.compressHostlist)),
    }),
  );

  app.get(
    '/health',
    {
      schema: {
        summary: 'Liveness and the backend in use (no token needed: api/auth.ts PUBLIC_ROUTES)',
        security: [],
        response: {
          200: Type.Object({
            // degraded: it answers, but something needs an operator (problems says what)
            status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
            problems: Type.Array(Type.String()),
            version: Type.String(),
            backend: Type.String(),
            uptime_s: Type.Number(),
          }),
        },
      },
    },
    async () => {
      const problems = services.problems();
      return {
        status: problems.length === 0 ? ('ok' as const) : ('degraded' as const),
        problems,
        version: services.version,
      backend: services.backend.kind,
        uptime_s: Math.round((Date.now() - services.startedAt) / 1000),
      };
    },
  );
};
