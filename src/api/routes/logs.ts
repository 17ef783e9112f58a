/** /api/v1/jobs/:id/logs: a job's stored lines, in order, resumable with `after`. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ErrorSchema, IdParams, JobStateSchema, LogLineSchema } from '../schemas.js';
import type { ApiServices } from '../services.js';

export const logRoutes: FastifyPluginAsyncTypebox<{ services: ApiServices }> = async (app, { services }) => {
  app.get(
    '/jobs/:id/logs',
    {
      schema: {
        summary: "A job's log lines (master stdout/stderr, runtime logs, GRM events)",
        params: IdParams,
        querystring: Type.Object({
          after: Type.Integer({ minimum: 0, default: 0, description: 'only lines with seq greater than this' }),
          limit: Type.Integer({ minimum: 1, maximum: 100000, default: 10000 }),
          source: Type.Optional(Type.String({ maxLength: 4096, description: 'stdout, stderr, grm, ...' })),
        }),
        response: {
          200: Type.Object({
            job_id: Type.Integer(),
            job_state: JobStateSchema,
            lines: Type.Array(LogLineSchema),
            /** pass as `after` to continue */
            last_seq: Type.Integer(),
            sources: Type.Array(Type.Object({ source: Type.String(), lines: Type.Integer() })),
          }),
          '4xx': ErrorSchema,
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      // Read the state before the lines: a job seen as ended has all its lines stored.
      const job = services.jobs.get(id);
      const { after, limit, source } = request.query;
      const lines = services.logs.read(id, { after, limit, ...(source ? { source } : {}) });
      return {
        job_id: id,
        job_state: job.state,
        lines: lines.map((l) => ({ seq: l.seq, time: new Date(l.ts).toISOString(), source: l.source, line: l.line })),
        last_seq: lines.length ? lines[lines.length - 1]!.seq : after,
        sources: services.logs.sources(id),
      };
    },
  );
};
