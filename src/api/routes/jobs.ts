/** /api/v1/jobs: submit, list, show, cancel, and a job's generated files. */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { GrmError } from '../../errors.js';
import type { JobDescription, JobState } from '../../jobs/job-types.js';
import { JOB_STATES } from '../../jobs/job-types.js';
import { presentJob, presentJobDetail } from '../present.js';
import { ErrorSchema, IdParams, JobDescriptionSchema, JobDetailSchema, JobSchema } from '../schemas.js';
import type { ApiServices } from '../services.js';
import { requestUser } from '../user.js';

const JOB_FILES = ['project.xml', 'resources.xml'] as const;

export const jobRoutes: FastifyPluginAsyncTypebox<{ services: ApiServices }> = async (app, { services }) => {
  app.post(
    '/jobs',
    {
      schema: {
        summary: 'Submit a job (sbatch)',
        body: JobDescriptionSchema,
        response: {
          201: Type.Object({ job_id: Type.Integer(), job: JobSchema, warnings: Type.Array(Type.String()) }),
          '4xx': ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      const { job, warnings } = await services.jobs.submit(request.body as JobDescription, requestUser(request));
      return reply.status(201).send({ job_id: job.id, job: presentJob(job), warnings });
    },
  );

  app.get(
    '/jobs',
    {
      schema: {
        summary: 'List jobs (squeue)',
        querystring: Type.Object({
          state: Type.Optional(
            Type.String({ description: `comma-separated states: ${JOB_STATES.join(',')}`, pattern: `^(${JOB_STATES.join('|')})(,(${JOB_STATES.join('|')}))*$` }),
          ),
          user: Type.Optional(Type.String({ maxLength: 64 })),
          partition: Type.Optional(Type.String({ maxLength: 64 })),
          limit: Type.Integer({ minimum: 1, maximum: 10000, default: 1000 }),
          offset: Type.Integer({ minimum: 0, default: 0 }),
        }),
        response: { 200: Type.Object({ jobs: Type.Array(JobSchema), total: Type.Integer() }), '4xx': ErrorSchema },
      },
    },
    async (request) => {
      const q = request.query;
      const { jobs, total } = services.jobs.list({
        ...(q.state ? { states: q.state.split(',') as JobState[] } : {}),
        ...(q.user ? { user: q.user } : {}),
        ...(q.partition ? { partition: q.partition } : {}),
        limit: q.limit,
        offset: q.offset,
      });
      return { jobs: jobs.map(presentJob), total };
    },
  );

  app.get(
    '/jobs/:id',
    { schema: { summary: 'One job with its events and allocation (scontrol show job)', params: IdParams, response: { 200: JobDetailSchema, '4xx': ErrorSchema } } },
    async (request) => {
      const job = services.jobs.get(request.params.id);
      return presentJobDetail(job, services.jobs.events(job.id), services.jobs.allocation(job.id));
    },
  );

  app.delete(
    '/jobs/:id',
    { schema: { summary: 'Cancel a job (scancel)', params: IdParams, response: { 200: JobSchema, '4xx': ErrorSchema } } },
    async (request) => presentJob(await services.jobs.cancel(request.params.id, requestUser(request))),
  );

  app.get(
    '/jobs/:id/files/:file',
    {
      schema: {
        summary: "A job's generated COMPSs file",
        params: Type.Object({ id: Type.Integer({ minimum: 1 }), file: Type.Union(JOB_FILES.map((f) => Type.Literal(f))) }),
        response: { 200: Type.String(), '4xx': ErrorSchema },
      },
    },
    async (request, reply) => {
      const { id, file } = request.params;
      services.jobs.get(id);
      try {
        const text = await fs.readFile(path.join(services.jobDir(id), file), 'utf8');
        return reply.type('application/xml; charset=utf-8').send(text);
      } catch {
        throw new GrmError('E_FILE_NOT_FOUND', `job ${id} has no ${file} yet: it is written when nodes are allocated`, { field: 'file' });
      }
    },
  );
};
