/** /api/v1/nodes (sinfo -N; PATCH: scontrol update nodename=), /api/v1/partitions (sinfo) and /api/v1/health. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ErrorSchema, NodeSchema, PartitionSchema } from '../schemas.js';
import { GrmError } from '../../errors.js';
import { requireAdmin } from '../../users/user-rules.js';
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

  app.patch(
    '/nodes/:name',
    {
      config: { audit: 'nodes.update' },
      schema: {
        summary: 'Take a node down, drain it or resume it (admin; scontrol update nodename=NAME state=down|drain|resume reason=...)',
        params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 255 }) }),
        body: Type.Object(
          {
            state: Type.Union([Type.Literal('down'), Type.Literal('drain'), Type.Literal('resume')]),
            reason: Type.Optional(Type.String({ maxLength: 256 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: NodeSchema, '4xx': ErrorSchema },
      },
    },
    async (request) => {
      requireAdmin(requestPrincipal(request), 'PATCH /api/v1/nodes/:name');
      const { name } = request.params;
      await services.backend.updateNode(name, request.body);
      const node = (await services.backend.nodes()).find((n) => n.name === name);
      if (!node) throw new GrmError('E_REQUEST_INVALID', `Invalid node name specified: ${name}`, { field: 'name' });
      return presentNode(node, services.jobsByBackendId());
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
