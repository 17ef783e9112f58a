/** /api/v1/jobs/:id/metrics: the training metrics a job printed (logs/metric-line.ts), in print order, paged. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ErrorSchema, IdParams, JobStateSchema } from '../schemas.js';
import type { ApiServices } from '../services.js';

const MetricPointSchema = Type.Object({
  id: Type.Integer({ description: 'pass the last one as `after` to continue' }),
  name: Type.String(),
  step: Type.Integer(),
  rank: Type.Integer(),
  value: Type.Number(),
  time: Type.String({ format: 'date-time', description: 'when the line was read' }),
});

export const metricRoutes: FastifyPluginAsyncTypebox<{ services: ApiServices }> = async (app, { services }) => {
  app.get(
    '/jobs/:id/metrics',
    {
      schema: {
        summary: 'A job\'s training metrics (GRM_METRIC name=value step=N lines, or JSON lines with "grm_metric"), oldest first',
        params: IdParams,
        querystring: Type.Object({
          after: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0, description: 'only points with an id greater than this' }),
          limit: Type.Integer({ minimum: 1, maximum: 100000, default: 10000 }),
          name: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'only this metric' })),
        }),
        response: {
          200: Type.Object({
            job_id: Type.Integer(),
            job_state: JobStateSchema,
            metrics: Type.Array(MetricPointSchema),
            /** pass as `after` to continue (the same `after` when there was nothing new) */
            last_id: Type.Integer(),
            /** more points exist after this page */
            more: Type.Boolean(),
            /** the job reached logs.maxMetricsPerJob: later points are in its log only */
            capped: Type.Boolean(),
          }),
          '4xx': ErrorSchema,
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const job = services.jobs.get(id);
      const { after, limit, name } = request.query;
      const page = services.metrics.read(id, { after, limit, ...(name === undefined ? {} : { name }) });
      return {
        job_id: id,
        job_state: job.state,
        metrics: page.points.map((p) => ({ id: p.id, name: p.name, step: p.step, rank: p.rank, value: p.value, time: new Date(p.ts).toISOString() })),
        last_id: page.points.at(-1)?.id ?? after,
        more: page.more,
        capped: page.capped,
      };
    },
  );
};
