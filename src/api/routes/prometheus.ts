/**
 * GET /metrics: the daemon's Prometheus metrics (src/metrics). Outside /api/v1, where
 * Prometheus looks by default. Who may scrape (api/auth.ts): the dedicated scrape token
 * (config metrics.tokenFile), or an admin's token; a user's token is refused, since the
 * series name every user with running jobs.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requireAdmin } from '../../users/user-rules.js';
import type { ApiServices } from '../services.js';

export const prometheusRoutes: FastifyPluginAsyncTypebox<{ services: ApiServices }> = async (app, { services }) => {
  app.get(
    '/metrics',
    {
      // the scrape token lets this route in without a principal (api/auth.ts)
      config: { scrape: true },
      schema: {
        summary: 'Prometheus metrics (text exposition format): a scrape token (metrics.tokenFile) or an admin token',
        tags: ['cluster'],
        // outside /api, so not made strict by api/strict-input.ts: it takes no parameter, and says so
        querystring: Type.Object({}, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      if (request.principal) requireAdmin(request.principal, 'GET /metrics');
      const text = await services.prometheus.render();
      return reply.type(services.prometheus.contentType).send(text);
    },
  );
};
