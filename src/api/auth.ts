/**
 * Authentication and job access for every route, in one place:
 *  - preParsing: every route needs `Authorization: Bearer <token>` except PUBLIC_ROUTES, checked
 *    before the body is even read; a failure is a 401 (and an audit row);
 *  - preHandler: every route under /api/v1/jobs/:id answers 404 for a job the caller may not
 *    see, exactly as for a job that does not exist (same code, same message);
 *  - onResponse: admin actions (routes with config.audit, and an admin's changes to another
 *    user's job) become audit rows with their outcome.
 * A route added later is covered by default: it needs a token, and under /jobs/:id an owner.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isGrmError } from '../errors.js';
import type { JobService } from '../jobs/job-service.js';
import { parseJobIdSpec } from '../sbatch/array-spec.js';
import { noSuchJob } from '../store/job-store.js';
import { canSeeJobsOf, isAuthFailure } from '../users/user-rules.js';
import type { UserService } from '../users/user-service.js';
import type { AuthFailure } from '../users/user-types.js';
import { requestPrincipal } from './user.js';

/**
 * The routes answered without a token, by route pattern: nothing else is. None of them
 * carries data of any job or user.
 */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set([
  '/api/v1/health', // liveness probes: status, version, backend kind, uptime
  '/openapi.json', // the API's shape, as any copy of the source shows it
  '/states.js', // the viewer's state names, generated from the source
  '/*', // the viewer's static files (@fastify/static's catch-all): it reads every datum through the API, with a token
]);

/** Routes of one job: the caller must be allowed to see it. */
const JOB_ROUTE = /^\/api\/v1\/jobs\/:id(\/|$)/;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The audit action of this route (admin actions): every call is a row, refusals too. */
    audit?: string;
    /** The scrape token (AuthServices.scrapeToken) also opens this route, with no principal (/metrics). */
    scrape?: boolean;
  }
  interface FastifyRequest {
    /** Set when this request's outcome goes to the audit log. */
    audit: { action: string; target: string | null } | null;
    /** The error code the request ended with, for its audit row. */
    auditError: string | null;
  }
}

export interface AuthServices {
  users: UserService;
  jobs: JobService;
  scrapeToken?: { accepts(authorization: string | undefined): boolean };
}

export function installAuth(app: FastifyInstance, services: AuthServices): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('audit', null);
  app.decorateRequest('auditError', null);

  // preParsing: after every onRequest hook (the rate limit's are per route, and must count wrong
  // tokens too), before a byte of the body is read
  app.addHook('preParsing', async (request, reply) => {
    if (isPublic(request)) return;
    if (request.routeOptions.config.scrape && services.scrapeToken?.accepts(request.headers.authorization)) return;
    const result = services.users.authenticate(request.headers.authorization, request.ip);
    if (isAuthFailure(result)) return unauthorized(reply, result);
    request.principal = result;
  });

  // once the body is parsed, before it is validated: a refused action is a row too, with its target
  app.addHook('preValidation', async (request) => {
    const action = request.routeOptions.config.audit;
    if (action && request.principal) request.audit = { action, target: targetOf(request.params, request.body) };
  });

  app.addHook('preHandler', async (request) => {
    const route = request.routeOptions.url;
    if (route !== undefined && JOB_ROUTE.test(route)) checkJobAccess(request, services.jobs);
  });

  app.addHook('onError', async (request, _reply, error) => {
    // the codes the error handler answers with: schema errors are E_REQUEST_INVALID there too
    request.auditError = isGrmError(error) ? error.code : error.validation ? 'E_REQUEST_INVALID' : (error.code ?? 'E_INTERNAL');
  });

  app.addHook('onResponse', async (request, reply) => {
    if (!request.audit || !request.principal) return;
    const outcome = reply.statusCode < 400 ? 'ok' : (request.auditError ?? `HTTP ${reply.statusCode}`);
    services.users.audit.record({ actor: request.principal.name, ...request.audit, outcome, remote: request.ip });
  });
}

/** A public route; the static catch-all never under /api/ (an unknown API path needs a token too). */
function isPublic(request: FastifyRequest): boolean {
  const route = request.routeOptions.url;
  if (route === undefined || !PUBLIC_ROUTES.has(route)) return false;
  return route !== '/*' || !request.url.startsWith('/api/');
}

/** Sets the target an audited route's row names (e.g. once the handler knows a token's id). */
export function setAuditTarget(request: FastifyRequest, target: string): void {
  if (request.audit) request.audit.target = target;
}

function unauthorized(reply: FastifyReply, failure: AuthFailure): FastifyReply {
  // RFC 6750: a request without credentials gets the scheme alone; a bad token, invalid_token
  const challenge = failure.code === 'E_AUTH_REQUIRED' ? 'Bearer realm="grm"' : 'Bearer realm="grm", error="invalid_token"';
  return reply.code(401).header('www-authenticate', challenge).send({ error: { code: failure.code, message: failure.message } });
}

/** 404 for another user's job, as for a missing one; an admin's change to it is audited. */
function checkJobAccess(request: FastifyRequest, jobs: JobService): void {
  const principal = requestPrincipal(request);
  const raw = (request.params as { id?: unknown }).id;
  // DELETE takes an array spec (12_[3-5]); the handler parses it the same way
  const id = typeof raw === 'number' ? raw : parseJobIdSpec(String(raw)).jobId;
  const job = jobs.get(id);
  if (!canSeeJobsOf(principal, job.user)) throw noSuchJob(id);
  if (job.user !== principal.name && request.method !== 'GET' && request.method !== 'HEAD') {
    request.audit = { action: jobActionOf(request), target: `job ${id} of ${job.user}` };
  }
}

/** job.cancel, job.update, job.hold, ...: what an admin did to a job, from its route. */
function jobActionOf(request: FastifyRequest): string {
  const rest = (request.routeOptions.url ?? '').replace(JOB_ROUTE, '').replace(/\//g, '.');
  if (rest) return `job.${rest}`;
  return request.method === 'DELETE' ? 'job.cancel' : request.method === 'PATCH' ? 'job.update' : `job.${request.method.toLowerCase()}`;
}

/** An audited route's default target, from its path and body: "user alice", "user alice token 7", "user bob role admin". */
function targetOf(params: unknown, body: unknown): string | null {
  const p = (params ?? {}) as { name?: unknown; id?: unknown };
  const b = (body ?? {}) as { name?: unknown; role?: unknown };
  // unvalidated yet: only strings, cut short, as JSON would quote them
  const text = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v.slice(0, 64)).slice(1, -1) : undefined);
  const name = text(p.name) ?? text(b.name);
  if (name === undefined) return null;
  if (p.id !== undefined) return `user ${name} token ${text(String(p.id))}`;
  return text(b.role) === undefined ? `user ${name}` : `user ${name} role ${text(b.role)}`;
}
