/**
 * Who is asking. Until authentication lands, the CLI names its local user in a header and
 * the daemon trusts it (loopback only); the name is still validated like a Unix user name.
 */
import type { FastifyRequest } from 'fastify';
import { GrmError } from '../errors.js';

export const USER_HEADER = 'x-grm-user';
const USER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

export function requestUser(request: FastifyRequest): string {
  const header = request.headers[USER_HEADER];
  const name = Array.isArray(header) ? header[0] : header;
  if (name === undefined || name === '') return 'anonymous';
  if (!USER_NAME.test(name)) {
    throw new GrmError('E_REQUEST_INVALID', `header ${USER_HEADER}: "${name}" is not a valid user name`, { field: USER_HEADER });
  }
  return name;
}
