/**
 * The CLI's only way to the daemon: its REST API. Errors come back as the API's
 * { error: { code, message } } and are raised as GrmError-like CliErrors.
 */
import os from 'node:os';
import { USER_HEADER } from '../api/user.js';

export class CliError extends Error {
  constructor(
    message: string,
    readonly code: string = 'E_CLI',
  ) {
    super(message);
  }
}

export interface ApiClientOptions {
  baseUrl: string;
  user?: string;
}

export class ApiClient {
  private readonly baseUrl: string;
  private readonly user: string;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.user = options.user ?? safeUserName();
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          [USER_HEADER]: this.user,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
      throw new CliError(
        `cannot reach the GRM daemon at ${this.baseUrl} (${cause}); start it with "npm start" or "grm daemon", or set GRM_URL`,
        'E_DAEMON_UNREACHABLE',
      );
    }
    const text = await response.text();
    if (!response.ok) {
      let message = `${method} ${path}: HTTP ${response.status}`;
      let code = 'E_HTTP';
      try {
        const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
        if (parsed.error?.message) message = parsed.error.message;
        if (parsed.error?.code) code = parsed.error.code;
      } catch {
        /* not JSON: keep the status line */
      }
      throw new CliError(message, code);
    }
    const type = response.headers.get('content-type') ?? '';
    return (type.includes('application/json') ? JSON.parse(text) : text) as T;
  }

  /** The user the daemon is told this client runs as (squeue --me). */
  get userName(): string {
    return this.user;
  }

  /**
   * Every job matching `params`, a page at a time (following next_cursor to the end), so a
   * list is never cut at a page's size and the CLI holds one page at once.
   */
  async *jobPages<J>(params: URLSearchParams, pageSize = 1000): AsyncGenerator<J[]> {
    let cursor: string | null = null;
    do {
      const query = new URLSearchParams(params);
      query.set('limit', String(pageSize));
      if (cursor !== null) query.set('cursor', cursor);
      const page: { jobs: J[]; next_cursor: string | null } = await this.request('GET', `/api/v1/jobs?${query}`);
      yield page.jobs;
      cursor = page.next_cursor;
    } while (cursor !== null);
  }
}

function safeUserName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'anonymous';
  }
}
