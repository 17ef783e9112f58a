/**
 * Bearer tokens, pure: their format, their hash, their lifetime.
 *
 * A token is `grm_` + 43 base64url characters of 32 random bytes (256 bits). The prefix makes a
 * leaked token recognisable (secret scanners, logs); the store keeps only SHA-256(token).
 * A plain, fast hash is right here: a slow KDF (bcrypt, scrypt) protects low-entropy
 * passwords against guessing, but nobody can enumerate 2^256 random tokens, fast hash or not,
 * and a fast hash lets every request be checked by one indexed lookup.
 */
import { createHash, randomBytes } from 'node:crypto';
import { GrmError } from '../errors.js';

export const TOKEN_PREFIX = 'grm_';
export const TOKEN_BYTES = 32;
const TOKEN_SHAPE = /^grm_[A-Za-z0-9_-]{43}$/;

export function newToken(): { token: string; hash: string } {
  const token = `${TOKEN_PREFIX}${randomBytes(TOKEN_BYTES).toString('base64url')}`;
  return { token, hash: hashToken(token) };
}

/** Hex SHA-256 of the token's text. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Whether `text` has a token's shape (anything else is refused without a lookup). */
export function isWellFormedToken(text: string): boolean {
  return TOKEN_SHAPE.test(text);
}

const DAY = 86_400_000;
const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: DAY, w: 7 * DAY };
/** Longest lifetime a token may be given: ten years. */
const MAX_LIFETIME = 3660 * DAY;

/**
 * A token lifetime as the CLI spells it: "30d", "12h", "90m", "2w", or "never".
 * Returns milliseconds, or null for never.
 */
export function parseTokenLifetime(text: string): number | null {
  const t = text.trim().toLowerCase();
  if (t === 'never' || t === 'unlimited') return null;
  const m = /^(\d{1,6})([mhdw])$/.exec(t);
  const ms = m ? Number(m[1]) * UNITS[m[2]!]! : NaN;
  if (!(ms > 0) || ms > MAX_LIFETIME) {
    throw new GrmError('E_REQUEST_INVALID', `Invalid token lifetime "${text}": use a number of minutes, hours, days or weeks (90m, 12h, 30d, 2w; at most 10 years) or "never"`, {
      field: 'expires',
    });
  }
  return ms;
}

/** When a token made at `now` expires: the given lifetime, else the configured default (0 days = never). */
export function expiryOf(now: number, lifetime: string | undefined, defaultDays: number): number | null {
  if (lifetime !== undefined) {
    const ms = parseTokenLifetime(lifetime);
    return ms === null ? null : now + ms;
  }
  return defaultDays > 0 ? now + Math.round(defaultDays * DAY) : null;
}
