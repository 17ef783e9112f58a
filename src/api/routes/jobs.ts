/** /api/v1/jobs: submit, list, show, cancel, and a job's generated files. */
import type { QueueKey } from '../../store/job-list.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { GrmError } from '../../errors.js';
import { readGrmJobFile } from '../../runtime/safe-files.js';
import type { JobDescription } from '../../jobs/job-types.js';
import { JOB_STATES } from '../../jobs/job-types.js';
import { MAX_JOB_ID, parseJobIdSpec } from '../../sbatch/array-spec.js';
import { UPDATABLE_FIELDS, type JobUpdate } from '../../jobs/job-update.js';
import { parseStateList } from '../../sbatch/state-names.js';
import { awaitsStart, presentJobDetail, presentJobSummary } from '../present.js';
import { checkDescriptionLimits } from '../request-limits.js';
import { ErrorSchema, IdParams, JobDescriptionSchema, JobDetailSchema, JobIdSchema, JobSummarySchema } from '../schemas.js';
import { isDecimalInteger } from '../strict-input.js';
import { shown } from '../validation-messages.js';
import type { ApiServices } from '../services.js';
import { requestPrincipal, requestUser, visibleOwners } from '../user.js';

const JOB_FILES = ['project.xml', 'resources.xml'] as const;
/** A COMPSs file lists nodes: thousands fit in a few MiB. */
const MAX_JOB_FILE_BYTES = 64 * 1024 * 1024;

export const jobRoutes: FastifyPluginAsyncTypebox<{ services: ApiServices }> = async (app, { services }) => {
  app.post(
    '/jobs',
    {
      schema: {
        summary: 'Submit a job (sbatch)',
        body: JobDescriptionSchema,
        response: {
          201: Type.Object({ job_id: Type.Integer(), job: JobSummarySchema, warnings: Type.Array(Type.String()) }),
          '4xx': ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      checkDescriptionLimits(request.body as JobDescription, services.limits);
      const { job, warnings } = await services.jobs.submit(request.body as JobDescription, requestUser(request));
      return reply.status(201).send({ job_id: job.id, job: presentJobSummary(job), warnings });
    },
  );

  app.get(
    '/jobs',
    {
      schema: {
        summary: 'List jobs (squeue, sacct), a page at a time, oldest or newest first',
        querystring: Type.Object({
          state: Type.Optional(Type.String({ maxLength: 400, description: `comma-separated states, long or short (PENDING or PD), or all: ${JOB_STATES.join(',')}` })),
          user: Type.Optional(Type.String({ maxLength: 4000, description: 'comma-separated user names' })),
          name: Type.Optional(Type.String({ maxLength: 4000, description: 'comma-separated job names' })),
          partition: Type.Optional(Type.String({ maxLength: 4000, description: 'comma-separated partitions' })),
          ids: Type.Optional(Type.String({ maxLength: 10000, description: 'comma-separated job ids; an array id selects its tasks' })),
          limit: Type.Integer({ minimum: 1, maximum: 10000, default: 1000 }),
          cursor: Type.Optional(Type.String({ maxLength: 80, description: 'next_cursor of the previous page' })),
          order: Type.Optional(Type.Union([Type.Literal('oldest'), Type.Literal('newest')], { description: 'oldest first (default) or newest first' })),
          sort: Type.Optional(Type.Literal('priority', { description: "priority: in the queue's order (priority, nice, submit time, id), as GRM will start them" })),
          since: Type.Optional(Type.String({ maxLength: 64, description: 'ISO 8601; jobs not ended before it (sacct -S)' })),
          until: Type.Optional(Type.String({ maxLength: 64, description: 'ISO 8601; jobs submitted at or before it (sacct -E)' })),
          state_at: Type.Optional(
            Type.Union([Type.Literal('now'), Type.Literal('window')], {
              description: "now (default): jobs in `state` now (squeue); window: jobs in `state` during since/until (sacct -s: ended states ended in it, RUNNING ran during it, PENDING waited during it)",
            }),
          ),
        }),
        response: {
          200: Type.Object({
            jobs: Type.Array(JobSummarySchema),
            /** every job matching the filter */
            total: Type.Integer(),
            /** pass as `cursor` for the next page; null on the last page */
            next_cursor: Type.Union([Type.String(), Type.Null()]),
          }),
          '4xx': ErrorSchema,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const states = q.state ? parseStateList(q.state) : undefined;
      // a user lists their own jobs only; asking for someone else's finds none
      const users = visibleOwners(request, q.user ? words(q.user) : undefined);
      if (users === null) return { jobs: [], total: 0, next_cursor: null };
      const { jobs, total } = services.jobs.list({
        ...(states ? { states } : {}),
        ...(q.state_at === 'window' ? { statesDuringWindow: true } : {}),
        ...(users?.length ? { users } : {}),
        ...(q.name ? { names: words(q.name) } : {}),
        ...(q.partition ? { partitions: words(q.partition) } : {}),
        ...(q.ids ? parseIdList(q.ids) : {}),
        ...parseWindow(q.since, q.until),
        ...(q.cursor !== undefined ? (q.sort === 'priority' ? { afterKey: parseQueueCursor(q.cursor) } : { afterId: parseCursor(q.cursor) }) : {}),
        ...(q.order === 'newest' ? { newestFirst: true } : {}),
        ...(q.sort === 'priority' ? { queueOrder: true } : {}),
        // one more than asked tells whether a next page exists
        limit: q.limit + 1,
      });
      const page = jobs.slice(0, q.limit);
      const more = jobs.length > q.limit;
      const last = page[page.length - 1];
      const cursor = !more || !last ? null : q.sort === 'priority' ? `${last.priority}.${last.nice}.${last.submitTime}.${last.id}` : String(last.id);
      const starts = page.some(awaitsStart) ? await services.forecast.starts() : undefined;
      return { jobs: page.map((j) => presentJobSummary(j, starts?.get(j.id) ?? null)), total, next_cursor: cursor };
    },
  );

  app.get(
    '/jobs/:id',
    { schema: { summary: 'One job with its events and allocation (scontrol show job)', params: IdParams, response: { 200: JobDetailSchema, '4xx': ErrorSchema } } },
    async (request) => {
      const job = services.jobs.get(request.params.id);
      const expected = awaitsStart(job) ? ((await services.forecast.starts()).get(job.id) ?? null) : null;
      const detail = presentJobDetail(job, services.jobs.events(job.id), services.jobs.allocation(job.id), expected);
      // only a job with a master can have lines waiting
      return { ...detail, log_storage_paused: job.state === 'RUNNING' || job.state === 'COMPLETING' ? services.logStoragePaused() : null };
    },
  );

  app.delete(
    '/jobs/:id',
    {
      schema: {
        summary: 'Cancel a job, an array, or tasks of an array: 12, 12_7, 12_[3-5] (scancel)',
        params: Type.Object({ id: Type.String({ maxLength: 200, description: 'job id, or array_task spec' }) }),
        response: { 200: Type.Object({ jobs: Type.Array(JobSummarySchema) }), '4xx': ErrorSchema },
      },
    },
    async (request) => {
      const spec = parseJobIdSpec(request.params.id);
      const jobs = await services.jobs.cancel(spec.jobId, requestUser(request), spec.tasks);
      return { jobs: jobs.map((j) => presentJobSummary(j)) };
    },
  );

  app.patch(
    '/jobs/:id',
    {
      schema: {
        summary: `Update a job (scontrol update): pending, any of ${UPDATABLE_FIELDS.join(', ')}; running, a lower time_limit`,
        params: IdParams,
        body: Type.Pick(JobDescriptionSchema, [...UPDATABLE_FIELDS], { additionalProperties: false }),
        response: { 200: JobSummarySchema, '4xx': ErrorSchema },
      },
    },
    async (request) => {
      checkDescriptionLimits(request.body as JobUpdate, services.limits);
      return presentJobSummary(await services.jobs.update(request.params.id, requestUser(request), request.body as JobUpdate));
    },
  );

  app.post(
    '/jobs/:id/hold',
    {
      schema: {
        summary: "Hold a pending job (scontrol hold: an admin's hold is JobHeldAdmin; user: true asks for a user hold, scontrol uhold)",
        params: IdParams,
        body: Type.Optional(Type.Object({ user: Type.Optional(Type.Boolean()) }, { additionalProperties: false, nullable: true })),
        response: { 200: JobSummarySchema, '4xx': ErrorSchema },
      },
    },
    async (request) => {
      const me = requestPrincipal(request);
      const by = me.role === 'admin' && request.body?.user !== true ? 'admin' : 'user';
      return presentJobSummary(services.jobs.hold(request.params.id, me.name, by));
    },
  );

  app.post(
    '/jobs/:id/release',
    { schema: { summary: 'Release a held job (scontrol release)', params: IdParams, response: { 200: JobSummarySchema, '4xx': ErrorSchema } } },
    async (request) => presentJobSummary(services.jobs.release(request.params.id, requestUser(request))),
  );

  app.post(
    '/jobs/:id/requeue',
    {
      schema: {
        summary: 'Requeue a job that runs or ended, or every task of an array (scontrol requeue; hold: requeuehold)',
        params: IdParams,
        // no body at all is a plain requeue (null to the validator)
        body: Type.Optional(Type.Object({ hold: Type.Optional(Type.Boolean()) }, { additionalProperties: false, nullable: true })),
        response: { 200: Type.Object({ jobs: Type.Array(JobSummarySchema) }), '4xx': ErrorSchema },
      },
    },
    async (request) => {
      const jobs = await services.jobs.requeue(request.params.id, requestUser(request), request.body?.hold ?? false);
      return { jobs: jobs.map((j) => presentJobSummary(j)) };
    },
  );

  app.get(
    '/jobs/:id/files/:file',
    {
      schema: {
        summary: "A job's generated COMPSs file",
        params: Type.Object({ id: JobIdSchema, file: Type.Union(JOB_FILES.map((f) => Type.Literal(f))) }),
        response: { 200: Type.String(), '4xx': ErrorSchema },
      },
    },
    async (request, reply) => {
      const { id, file } = request.params;
      services.jobs.get(id);
      // only the very file GRM wrote: never through a link, never a FIFO, never the job's own file
      const text = await readGrmJobFile(services.jobDir(id), file, MAX_JOB_FILE_BYTES);
      if (text === null) throw new GrmError('E_FILE_NOT_FOUND', `job ${id} has no ${file} yet: it is written when nodes are allocated`, { field: 'file' });
      return reply.type('application/xml; charset=utf-8').send(text);
    },
  );
};

/** "a,b" → ["a", "b"] (empty words dropped, as squeue's lists). */
const words = (text: string): string[] => text.split(',').map((w) => w.trim()).filter((w) => w !== '');

/** Most tasks one `12_[...]` word may name before it is taken as the whole array. */
const MAX_TASKS_NAMED = 1000;

/** "12,13_7,14_[1-3]" → job ids and array tasks, in scancel's and squeue -j's words. */
function parseIdList(text: string): { ids: number[]; tasks: { arrayJobId: number; index: number }[] } {
  const ids: number[] = [];
  const tasks: { arrayJobId: number; index: number }[] = [];
  // split at commas outside brackets: 14_[1,3] is one word
  for (const word of text.match(/(?:[^,[]|\[[^\]]*\])+/g) ?? []) {
    const spec = parseJobIdSpec(word.trim());
    if (spec.tasks === null || spec.tasks.length > MAX_TASKS_NAMED) ids.push(spec.jobId);
    else for (const index of spec.tasks) tasks.push({ arrayJobId: spec.jobId, index });
  }
  return { ids, tasks };
}

/** sacct's -S/-E window, as ISO 8601 times; refused, in sacct's words, when it ends before it starts. */
function parseWindow(sinceText: string | undefined, untilText: string | undefined): { since?: number; until?: number } {
  const since = sinceText === undefined ? undefined : parseIsoTime(sinceText, 'since');
  const until = untilText === undefined ? undefined : parseIsoTime(untilText, 'until');
  if (since !== undefined && until !== undefined && since > until) {
    throw new GrmError('E_REQUEST_INVALID', `Start time (${sinceText}) requested is after end time (${untilText})`, { field: 'since' });
  }
  return { ...(since === undefined ? {} : { since }), ...(until === undefined ? {} : { until }) };
}

/** A date and time with its zone (Z or ±HH:MM): a time without one would depend on the daemon's zone. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

function parseIsoTime(text: string, field: 'since' | 'until'): number {
  const ms = ISO_TIME.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) {
    throw new GrmError('E_REQUEST_INVALID', `Invalid time specification for ${field}: ${JSON.stringify(text)}; use ISO 8601 with a zone, e.g. 2026-01-31T09:00:00Z`, {
      field,
    });
  }
  return ms;
}

/** A cursor is the last job id of the previous page: decimal digits, a job id's range. */
/** A queue-order cursor: priority.nice.submit_time.id of the previous page's last job. */
function parseQueueCursor(text: string): QueueKey {
  const m = /^(\d{1,10})\.(-?\d{1,10})\.(\d{1,16})\.(\d{1,16})$/.exec(text);
  if (!m) throw new GrmError('E_REQUEST_INVALID', `invalid cursor ${shown(text)}: pass the next_cursor of the previous page (sort=priority)`, { field: 'cursor' });
  return { priority: Number(m[1]), nice: Number(m[2]), submitTime: Number(m[3]), id: Number(m[4]) };
}

function parseCursor(text: string): number {
  if (!isDecimalInteger(text) || Number(text) > MAX_JOB_ID) {
    throw new GrmError('E_REQUEST_INVALID', `invalid cursor ${shown(text)}: pass the next_cursor of the previous page (a decimal job id)`, { field: 'cursor' });
  }
  return Number(text);
}
