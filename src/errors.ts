/**
 * One error family for the whole daemon. Every error a user can meet carries a stable
 * code; the API maps codes to HTTP statuses in one place (api/error-handler.ts) and the
 * CLI prints the message and exits 1. Messages say what is wrong and what to do.
 */
export type GrmErrorCode =
  | 'E_CONFIG_INVALID'
  | 'E_OPTION_UNKNOWN'
  | 'E_OPTION_INVALID'
  | 'E_SCRIPT_INVALID'
  | 'E_REQUEST_INVALID'
  | 'E_REQUEST_TOO_LARGE'
  | 'E_MEDIA_TYPE_UNSUPPORTED'
  | 'E_RATE_LIMITED'
  | 'E_PARTITION_UNKNOWN'
  | 'E_NODE_CONFIG_UNAVAILABLE'
  | 'E_JOB_NOT_FOUND'
  | 'E_FILE_NOT_FOUND'
  | 'E_JOB_STATE'
  | 'E_PERMISSION_DENIED'
  | 'E_AUTH_REQUIRED'
  | 'E_AUTH_INVALID'
  | 'E_AUTH_EXPIRED'
  | 'E_AUTH_REVOKED'
  | 'E_AUTH_USER_DISABLED'
  | 'E_ACCOUNT_INVALID'
  /** Over a submit limit of the queue policy (src/policy/limits.ts): sbatch's "Job violates accounting/QOS policy". */
  | 'E_POLICY_LIMIT'
  | 'E_USER_INVALID'
  | 'E_USER_EXISTS'
  | 'E_USER_NOT_FOUND'
  | 'E_TOKEN_NOT_FOUND'
  | 'E_TRANSITION_ILLEGAL'
  | 'E_HOSTLIST_INVALID'
  | 'E_XML_INVALID'
  | 'E_BACKEND_UNAVAILABLE'
  /** The daemon is stopping (SIGTERM): changes are refused with 503 and Retry-After until it is back. */
  | 'E_SHUTTING_DOWN'
  /** The store cannot be opened or written (damaged, read-only, full): the daemon does not start. */
  | 'E_STORE_UNUSABLE'
  | 'E_BACKEND'
  | 'E_MASTER_START'
  | 'E_INTERNAL';

export class GrmError extends Error {
  readonly code: GrmErrorCode;
  /** The field or option the error is about, when there is one. */
  readonly field: string | undefined;

  constructor(code: GrmErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GrmError';
    this.code = code;
    this.field = options.field;
  }
}

export function isGrmError(e: unknown): e is GrmError {
  return e instanceof GrmError;
}
