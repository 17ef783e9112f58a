/**
 * Who is asking: the principal the request's bearer token stands for, set by api/auth.ts before
 * any handler runs. Nothing in a request's headers, query or body names its user.
 */
import type { FastifyRequest } from 'fastify';
import { GrmError } from '../errors.js';
import type { Principal } from '../users/user-types.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** null only on the public routes (api/auth.ts PUBLIC_ROUTES) */
    principal: Principal | null;
  }
}

export function requestPrincipal(request: FastifyRequest): Principal {
  // only a public route has none, and public routes do not ask: reaching here is a bug
  if (!request.principal) throw new GrmError('E_AUTH_REQUIRED', 'Authentication required');
  return request.principal;
}

export function requestUser(request: FastifyRequest): string {
  return requestPrincipal(request).name;
}

/**
 * Whose jobs a list or search may show: undefined = everyone's (an admin who names nobody),
 * names = only theirs, null = nobody's (a user who named only other users).
 * A user sees their own jobs; an admin sees all.
 */
export function visibleOwners(request: FastifyRequest, requested: string[] | undefined): string[] | undefined | null {
  const me = requestPrincipal(request);
  if (me.role === 'admin') return requested;
  if (requested === undefined || requested.includes(me.name)) return [me.name];
  return null;
}
