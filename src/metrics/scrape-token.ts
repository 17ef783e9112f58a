/**
 * The dedicated token Prometheus scrapes /metrics with (config metrics.tokenFile, the same
 * file Prometheus' `authorization: { credentials_file: ... }` reads). It opens /metrics and
 * nothing else, so the scraper need not hold an admin's token. Only its SHA-256 is kept.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import { GrmError } from '../errors.js';

/** Shorter secrets are refused: a scrape token must be as unguessable as a user's. */
export const MIN_SCRAPE_TOKEN_CHARS = 32;
const SHAPE = /^[\x21-\x7e]+$/;

export class ScrapeToken {
  private constructor(private readonly hash: Buffer) {}

  /** The token a file holds (surrounding whitespace and the final newline ignored). */
  static fromFile(file: string): ScrapeToken {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8').trim();
    } catch (e) {
      throw new GrmError('E_CONFIG_INVALID', `metrics.tokenFile: cannot read ${file}: ${(e as Error).message}`, { field: 'metrics.tokenFile' });
    }
    return ScrapeToken.of(text, file);
  }

  static of(token: string, origin = 'the token'): ScrapeToken {
    if (token.length < MIN_SCRAPE_TOKEN_CHARS || !SHAPE.test(token)) {
      throw new GrmError(
        'E_CONFIG_INVALID',
        `metrics.tokenFile: ${origin} must hold one token of at least ${MIN_SCRAPE_TOKEN_CHARS} printable characters without spaces (e.g. openssl rand -hex 32)`,
        { field: 'metrics.tokenFile' },
      );
    }
    return new ScrapeToken(sha256(token));
  }

  /** Whether an Authorization header is "Bearer <this token>" (compared in constant time). */
  accepts(header: string | undefined): boolean {
    const m = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    return m !== null && timingSafeEqual(sha256(m[1]!), this.hash);
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
