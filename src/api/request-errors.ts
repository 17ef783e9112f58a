/**
 * A refused request's answer, in words: schema failures (api/validation-messages.ts) and
 * fastify's own refusals (body too large, not JSON, unknown content type) with GRM codes and
 * messages that say what to send instead. Used by the one error handler.
 */
import type { FastifyError, FastifyRequest } from 'fastify';
import { describeSchemaErrors, type RequestPart, type SchemaError } from './validation-messages.js';

export interface ErrorAnswer {
  status: number;
  body: { error: { code: string; message: string; field?: string } };
}

const answer = (status: number, code: string, message: string, field?: string): ErrorAnswer => ({
  status,
  body: { error: { code, message, ...(field ? { field } : {}) } },
});

/** A schema failure: 400 naming the field. */
export function validationAnswer(error: FastifyError, request: FastifyRequest): ErrorAnswer {
  const part = (error.validationContext ?? 'body') as RequestPart;
  const route = `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`;
  const { message, field } = describeSchemaErrors((error.validation ?? []) as unknown as SchemaError[], part, route);
  return answer(400, 'E_REQUEST_INVALID', message, field);
}

/** fastify's refusals below 500, by their codes; anything else keeps its status with its own words. */
export function clientErrorAnswer(error: FastifyError, request: FastifyRequest): ErrorAnswer {
  const type = request.headers['content-type'];
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const limit = request.routeOptions.bodyLimit;
      const length = request.headers['content-length'];
      const size = length && /^\d+$/.test(length) ? `${length} bytes` : `more than ${limit} bytes`;
      return answer(413, 'E_REQUEST_TOO_LARGE', `the request body is ${size}; the daemon takes at most ${limit} (limits.bodyBytes)`);
    }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return answer(415, 'E_MEDIA_TYPE_UNSUPPORTED', `content type ${JSON.stringify(type ?? '')} is not taken: send application/json`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return answer(400, 'E_REQUEST_INVALID', 'the request body is empty but its content type says JSON: send a JSON object, or no content type');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return answer(400, 'E_REQUEST_INVALID', 'the request body is not valid JSON (or names __proto__ or constructor.prototype): send a JSON object');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return answer(400, 'E_REQUEST_INVALID', 'the request body is not as long as its Content-Length says');
    default:
      return answer(error.statusCode ?? 400, error.statusCode === 404 ? 'E_NOT_FOUND' : 'E_REQUEST_INVALID', error.message);
  }
}
