/** GET /api/v1/jobs/:id/report (one job, for the report viewer) and GET /api/v1/report (a period). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { GrmError } from '../../errors.js';
import { presentJobDetail, presentJobSummary } from '../present.js';
import { ErrorSchema, IdParams, JobReportSchema, PeriodReportSchema } from '../schemas.js';
import type { ApiServices } from '../services.js';
import { requestPrincipal } from '../user.js';
import { parseTime } from './search.js';

const FIRST_ERRORS = 20;
const DAY = 86_400_000;

export const reportRoutes: FastifyPluginAsyncTypebox<{ services: ApiServices }> = async (app, { services }) => {
  app.get(
    '/jobs/:id/report',
    {
      schema: {
        summary: 'One job: its fields, allocation, timeline, exit, line counts and first error lines (level error, or stderr)',
        params: IdParams,
        response: { 200: JobReportSchema, '4xx': ErrorSchema },
      },
    },
    async (request) => {
      const job = services.jobs.get(request.params.id);
      const detail = presentJobDetail(job, services.jobs.events(job.id), services.jobs.allocation(job.id));
      return {
        job: presentJobSummary(job),
        allocation: detail.allocation,
        timeline: detail.events,
        exit: { code: job.exitCode, signal: job.exitSignal, state: job.state, reason: job.reason },
        line_counts: Object.fromEntries(services.logs.sources(job.id).map((s) => [s.source, s.lines])),
        first_errors: services.logs
          .firstErrors(job.id, FIRST_ERRORS)
          .map((l) => ({ seq: l.seq, time: new Date(l.ts).toISOString(), source: l.source, line: l.line })),
      };
    },
  );

  app.get(
    '/report',
    {
      schema: {
        summary: 'Usage over a period: jobs by state, node-hours by user and partition, failure reasons, utilisation',
        description:
          'Jobs submitted before until and not ended before since, by current state; node-hours of allocations inside the period; ' +
          'failures ended inside the period as "STATE: reason"; utilisation as average busy nodes per bucket (at most 200 buckets: ' +
          '1 min, 5 min, 15 min, 1 h, ... whichever fits). Default period: the last 24 hours.',
        querystring: Type.Object({
          since: Type.Optional(Type.String({ maxLength: 64, description: 'ISO 8601; default until - 24 h' })),
          until: Type.Optional(Type.String({ maxLength: 64, description: 'ISO 8601; default now' })),
        }),
        response: { 200: PeriodReportSchema, '4xx': ErrorSchema },
      },
    },
    async (request) => {
      const now = Date.now();
      const until = parseTime('until', request.query.until) ?? now;
      const since = parseTime('since', request.query.since) ?? until - DAY;
      if (since >= until) throw new GrmError('E_REQUEST_INVALID', 'since: must be before until', { field: 'since' });
      if (until - since > 366 * 10 * DAY) throw new GrmError('E_REQUEST_INVALID', 'since: a period is at most 10 years', { field: 'since' });
      const nodesTotal = (await services.backend.nodes()).length;
      // a user's report is about their own jobs; an admin's about every job
      const me = requestPrincipal(request);
      return services.reports.period(since, until, nodesTotal, now, me.role === 'admin' ? undefined : me.name);
    },
  );
};
