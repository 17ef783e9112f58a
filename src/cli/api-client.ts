/**
 * The CLI's only way to the daemon: its REST API. Errors come back as the API's
 * { error: { code, message } } and are raised as GrmError-like CliErrors.
 */

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
  /** Sent as `Authorization: Bearer <token>` (see cli/credentials.ts for where grm finds it). */
  token?: string | undefined;
  /** Where the token came from, or where grm looked: said when the daemon refuses it. */
  tokenFrom?: string;
}

export class ApiClient {
  private readonly baseUrl: string;
  private readonly token: string | undefined;
  private readonly tokenFrom: string | undefined;
  private whoami: Promise<string> | undefined;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token || undefined;
    this.tokenFrom = options.tokenFrom;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          ...(this.token === undefined ? {} : { authorization: `Bearer ${this.token}` }),
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
      if (response.status === 401 && this.tokenFrom) message += ` [token: ${this.tokenFrom}]`;
      throw new CliError(message, code);
    }
    const type = response.headers.get('content-type') ?? '';
    return (type.includes('application/json') ? JSON.parse(text) : text) as T;
  }

  /** The user this client's token stands for (squeue --me, sacct's own jobs), asked once. */
  me(): Promise<string> {
    this.whoami ??= this.request<{ user_name: string }>('GET', '/api/v1/whoami').then((w) => w.user_name);
    return this.whoami;
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
