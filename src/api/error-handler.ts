/**
 * The one place where errors become HTTP: a GrmError's code picks the status; fastify's
 * schema errors become 400 naming the field; anything else is a 500 without internals.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { isGrmError, type GrmErrorCode } from '../errors.js';
import { clientErrorAnswer, validationAnswer } from './request-errors.js';

const STATUS: Partial<Record<GrmErrorCode, number>> = {
  E_JOB_NOT_FOUND: 404,
  E_FILE_NOT_FOUND: 404,
  E_JOB_STATE: 409,
  E_PERMISSION_DENIED: 403,
  E_AUTH_REQUIRED: 401,
  E_AUTH_INVALID: 401,
  E_AUTH_EXPIRED: 401,
  E_AUTH_REVOKED: 401,
  E_AUTH_USER_DISABLED: 401,
  E_USER_NOT_FOUND: 404,
  E_TOKEN_NOT_FOUND: 404,
  E_USER_EXISTS: 409,
  E_REQUEST_TOO_LARGE: 413,
  E_MEDIA_TYPE_UNSUPPORTED: 415,
  E_RATE_LIMITED: 429,
  E_BACKEND_UNAVAILABLE: 503,
  E_SHUTTING_DOWN: 503,
  E_BACKEND: 502,
  E_INTERNAL: 500,
  E_MASTER_START: 500,
  E_CONFIG_INVALID: 500,
};

export function statusOf(code: GrmErrorCode): number {
  return STATUS[code] ?? 400;
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (isGrmError(error)) {
      const status = statusOf(error.code);
      if (status >= 500 && error.code !== 'E_SHUTTING_DOWN') request.log.error({ err: error }, error.message);
      return reply.status(status).send({ error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}) } });
    }
    // schema failures and fastify's own refusals, in words naming the field or the limit
    const refused = error.validation ? validationAnswer(error, request) : error.statusCode && error.statusCode < 500 ? clientErrorAnswer(error, request) : null;
    if (refused) return reply.status(refused.status).send(refused.body);
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({ error: { code: 'E_INTERNAL', message: 'internal error; the daemon log has the details' } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: { code: 'E_NOT_FOUND', message: `no route ${request.method} ${request.url}` } }),
  );
}
