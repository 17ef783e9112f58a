/** The users part's shared types: who may use the GRM, with which role, accounts and tokens. */

export const ROLES = ['user', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The local identity a user's masters run as (when the daemon runs as root). */
export interface RunAs {
  uid: number;
  gid: number;
  /** Supplementary groups (gids). */
  groups: number[];
}

export interface User {
  name: string;
  role: Role;
  /** Accounts the user may charge; the first is their default. */
  accounts: string[];
  enabled: boolean;
  runAs: RunAs | null;
  createdTime: number;
  createdBy: string;
}

/** A token as stored: never the token itself, only its SHA-256. */
export interface TokenInfo {
  id: number;
  user: string;
  createdTime: number;
  /** null: never expires */
  expiresTime: number | null;
  revokedTime: number | null;
  lastUsedTime: number | null;
}

/** Who a request acts as, once its token was accepted. */
export interface Principal {
  name: string;
  role: Role;
  accounts: string[];
  /** The token the request came with. */
  tokenId: number;
}

/** Why a request was not authenticated; the code is the error code the API answers with. */
export type AuthFailureCode = 'E_AUTH_REQUIRED' | 'E_AUTH_INVALID' | 'E_AUTH_EXPIRED' | 'E_AUTH_REVOKED' | 'E_AUTH_USER_DISABLED';

export interface AuthFailure {
  code: AuthFailureCode;
  message: string;
  /** The user the token belonged to, when it was a real one (expired, revoked, disabled). */
  user?: string;
  tokenId?: number;
}

/** A token with its owner, as the store finds it by hash. */
export interface TokenLookup {
  token: TokenInfo;
  user: User;
}

/** One audit row: an authentication failure, or an admin's action. */
export interface AuditEvent {
  id: number;
  /** First occurrence (ms). */
  time: number;
  /** Last occurrence (ms): failures of one kind from one address within a minute share a row. */
  lastTime: number;
  count: number;
  /** The authenticated user; null when authentication failed. */
  actor: string | null;
  action: string;
  target: string | null;
  /** "ok", or the error code the action ended with. */
  outcome: string;
  remote: string | null;
}

export type AuditEntry = Pick<AuditEvent, 'actor' | 'action' | 'target' | 'outcome' | 'remote'>;
