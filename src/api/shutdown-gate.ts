/**
 * Intake stops first when the daemon is asked to stop (SIGTERM, SIGINT): from then on every
 * request that would change something (a submission, a cancel, a user change) is refused
 * with 503 and Retry-After, in words, while reads go on until the server closes. A client that
 * retries after that time reaches the restarted daemon; nothing it sent is half done.
 */
import type { FastifyInstance } from 'fastify';
import { GrmError } from '../errors.js';

/** The daemon's side: whether it is stopping, and when to come back. */
export interface ShutdownState {
  readonly draining: boolean;
  /** Seconds a refused client should wait before it tries again. */
  readonly retryAfterSeconds: number;
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function shuttingDownError(method: string, url: string, retryAfterSeconds: number): GrmError {
  const what = method === 'POST' && url.split('?')[0] === '/api/v1/jobs' ? 'Batch job submission failed' : `${method} ${url.split('?')[0]} refused`;
  return new GrmError('E_SHUTTING_DOWN', `${what}: the GRM daemon is shutting down; retry in ${retryAfterSeconds} s`);
}

/** Before authentication and rate limits: a stopping daemon does no work for the request. */
export function installShutdownGate(app: FastifyInstance, state: ShutdownState): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!state.draining || READS.has(request.method)) return;
    reply.header('retry-after', String(state.retryAfterSeconds));
    throw shuttingDownError(request.method, request.url, state.retryAfterSeconds);
  });
}
