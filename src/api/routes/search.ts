/**
 * GET /api/v1/logs/search: full-text search (SQLite FTS5 syntax) over every job's lines.
 * Lines become searchable shortly after they are stored (the index is built off the ingest
 * path: see store/log-search.ts); newest first, or in seq order within one job.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { GrmError } from '../../errors.js';
import { LOG_LEVELS } from '../../store/log-store.js';
import { ErrorSchema, JobIdSchema, SearchResultSchema } from '../schemas.js';
import type { ApiServices } from '../services.js';
import { visibleOwners } from '../user.js';

/** An ISO 8601 time from the query, or a 400 naming the field. */
export function parseTime(field: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new GrmError('E_REQUEST_INVALID', `${field}: not an ISO 8601 time: "${value}"`, { field });
  return ms;
}

export const searchRoutes: FastifyPluginAsyncTypebox<{ services: ApiServices }> = async (app, { services }) => {
  app.get(
    '/logs/search',
    {
      schema: {
        summary: 'Search every log line (FTS5 query syntax: words, "phrases", prefix*, AND/OR/NOT, NEAR)',
        description:
          'Hits are newest first, or in seq order with job=. level is derived at ingest from markers such as ERROR, [warn], level=info, ' +
          'Python tracebacks; stderr alone sets no level. Lines are searchable a fraction of a second after they are stored.',
        querystring: Type.Object({
          q: Type.String({ minLength: 1, maxLength: 4096 }),
          job: Type.Optional(JobIdSchema),
          user: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          source: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
          since: Type.Optional(Type.String({ maxLength: 64, description: 'ISO 8601, inclusive' })),
          until: Type.Optional(Type.String({ maxLength: 64, description: 'ISO 8601, exclusive' })),
          level: Type.Optional(Type.Union(LOG_LEVELS.map((l) => Type.Literal(l)))),
          limit: Type.Integer({ minimum: 1, maximum: 10000, default: 100 }),
          after: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'with job=: only lines with seq greater than this' })),
        }),
        response: { 200: SearchResultSchema, '4xx': ErrorSchema },
      },
    },
    async (request) => {
      const q = request.query;
      const since = parseTime('since', q.since);
      const until = parseTime('until', q.until);
      // a user searches their own jobs' lines only
      const users = visibleOwners(request, q.user === undefined ? undefined : [q.user]);
      if (users === null) return { hits: [], truncated: false };
      const user = users?.[0];
      return services.search.search({
        q: q.q,
        limit: q.limit,
        ...(q.job !== undefined && { job: q.job }),
        ...(user !== undefined && { user }),
        ...(q.source !== undefined && { source: q.source }),
        ...(since !== undefined && { since }),
        ...(until !== undefined && { until }),
        ...(q.level !== undefined && { level: q.level }),
        ...(q.after !== undefined && { after: q.after }),
      });
    },
  );
};
