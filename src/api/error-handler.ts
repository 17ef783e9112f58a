/**
 * The one place where errors become HTTP: a GrmError's code picks the status; fastify's
 * schema errors become 400 naming the field; anything else is a 500 without internals.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { isGrmError, type GrmErrorCode } from '../errors.js';

const STATUS: Partial<Record<GrmErrorCode, number>> = {
  E_JOB_NOT_FOUND: 404,
  E_FILE_NOT_FOUND: 404,
  E_JOB_STATE: 409,
  E_PERMISSION_DENIED: 403,
  E_BACKEND_UNAVAILABLE: 503,
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
      if (status >= 500) request.log.error({ err: error }, error.message);
      return reply.status(status).send({ error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}) } });
    }
    if (error.validation) {
      const first = error.validation[0];
      const field = first
        ? (first.instancePath.replace(/^\//, '').replace(/\//g, '.') || (first.params as { missingProperty?: string; additionalProperty?: string }).missingProperty || (first.params as { additionalProperty?: string }).additionalProperty)
        : undefined;
      const message = `${error.validationContext ?? 'request'}: ${error.message}`;
      return reply.status(400).send({ error: { code: 'E_REQUEST_INVALID', message, ...(field ? { field } : {}) } });
    }
    if (error.statusCode && error.statusCode < 500) {
      return reply.status(error.statusCode).send({ error: { code: error.code ?? 'E_REQUEST_INVALID', message: error.message } });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({ error: { code: 'E_INTERNAL', message: 'internal error; the daemon log has the details' } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: { code: 'E_NOT_FOUND', message: `no route ${request.method} ${request.url}` } }),
  );
}
