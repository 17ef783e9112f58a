/**
 * The tests' REST client: one request, its status and its body parsed as JSON (kept as text when
 * it is not JSON). Shared by the in-process daemon helper and the daemon-process helper.
 */
export type TestApi = <T = any>(method: string, route: string, body?: unknown, headers?: Record<string, string>) => Promise<{ status: number; body: T }>;

/** A client of the daemon at `url`, sending `bearer` as its token (null: none). A string body is sent as is. */
export function jsonApi(url: string, bearer: string | null): TestApi {
  return async (method, route, body, headers = {}) => {
    const res = await fetch(`${url}${route}`, {
      method,
      headers: {
        ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON: the text itself */
    }
    return { status: res.status, body: parsed as any };
  };
}
