/** /api/v1/jobs/:id/logs: a job's stored lines, in order, resumable with `after`; logs.txt: all of them as text. */
import { Readable } from 'node:stream';
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
          after: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0, description: 'only lines with seq greater than this' }),
          limit: Type.Integer({ minimum: 1, maximum: 100000, default: 10000 }),
          source: Type.Optional(Type.String({ maxLength: 4096, description: 'stdout, stderr, grm, ...' })),
          rank: Type.Optional(Type.Integer({ minimum: 0, maximum: 999_999, description: 'only lines of this task rank (srun --label)' })),
          run: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000, description: "only lines of this run (0: the first; a requeued job's next runs 1, 2...)" })),
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
      const { after, limit, source, rank, run } = request.query;
      const lines = services.logs.read(id, { after, limit, ...(source ? { source } : {}), ...(rank === undefined ? {} : { rank }), ...(run === undefined ? {} : { run }) });
      return {
        job_id: id,
        job_state: job.state,
        lines: lines.map((l) => ({ seq: l.seq, time: new Date(l.ts).toISOString(), source: l.source, line: l.line, ...(l.rank == null ? {} : { rank: l.rank }), ...(l.run == null ? {} : { run: l.run }) })),
        last_seq: lines.length ? lines[lines.length - 1]!.seq : after,
        sources: services.logs.sources(id),
      };
    },
  );

  app.get(
    '/jobs/:id/logs.txt',
    {
      schema: {
        summary: "A job's whole log as text: `<ISO time> <source>: <line>` per line (a download)",
        params: IdParams,
        response: { '4xx': ErrorSchema },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      services.jobs.get(id);
      const logs = services.logs;
      // pages read on demand as the client takes them: a big job is never held in memory
      async function* text() {
        let after = 0;
        for (;;) {
          const page = logs.read(id, { after, limit: TEXT_PAGE });
          if (page.length === 0) return;
          let chunk = '';
          for (const l of page) chunk += `${new Date(l.ts).toISOString()} ${l.source}: ${l.line}\n`;
          yield chunk;
          after = page[page.length - 1]!.seq;
          if (page.length < TEXT_PAGE) return;
        }
      }
      return reply
        .type('text/plain; charset=utf-8')
        .header('content-disposition', `attachment; filename="grm-job-${id}.log"`)
        .send(Readable.from(text(), { objectMode: false }) as never); // a stream: the typed (JSON) response does not apply
    },
  );
};

const TEXT_PAGE = 5000;
