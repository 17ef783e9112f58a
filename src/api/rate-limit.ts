/**
 * Requests per time window, per caller: the bearer token (hashed: the limiter's memory never
 * holds a usable token), else the remote address. Counted before authentication, so a flood of
 * wrong tokens is limited as well as a flood of good ones. A caller over the limit gets 429
 * with Retry-After, in words.
 */
import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GrmError } from '../errors.js';

export interface RateLimitSettings {
  /** Requests per window and caller; 0 = no limit. */
  max: number;
  windowMs: number;
}

/** Who a request counts against. */
export function rateLimitKey(request: FastifyRequest): string {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string' && authorization !== '') {
    return `token:${createHash('sha256').update(authorization).digest('hex').slice(0, 32)}`;
  }
  return `address:${request.ip}`;
}

function limitedError(settings: RateLimitSettings, ttlMs: number): GrmError {
  const seconds = Math.max(1, Math.ceil(ttlMs / 1000));
  const per = settings.windowMs % 1000 === 0 ? `${settings.windowMs / 1000} s` : `${settings.windowMs} ms`;
  return new GrmError(
    'E_RATE_LIMITED',
    `too many requests: at most ${settings.max} per ${per} for each token or address (rateLimit.max, rateLimit.windowMs); retry in ${seconds} s`,
  );
}

export async function installRateLimit(app: FastifyInstance, settings: RateLimitSettings): Promise<void> {
  if (settings.max === 0) return;
  await app.register(rateLimit, {
    global: true,
    max: settings.max,
    timeWindow: settings.windowMs,
    keyGenerator: rateLimitKey,
    // the plugin throws what this returns; the error handler answers 429, Retry-After already set
    errorResponseBuilder: (_request, context) => limitedError(settings, context.ttl),
  });
}
