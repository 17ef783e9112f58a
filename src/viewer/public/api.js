// The viewer's only way to the daemon: same-origin fetches under /api/v1, each with the
// user's bearer token. The token lives in sessionStorage: this tab only, gone when it closes,
// never in a URL (where history, logs and Referer headers would keep it).
export const API = '/api/v1';

const TOKEN_KEY = 'grm.token';
export const getToken = () => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (token) => sessionStorage.setItem(TOKEN_KEY, token);
export const clearToken = () => sessionStorage.removeItem(TOKEN_KEY);

/** The Authorization header of every request (empty before sign-in). */
export function authHeaders() {
  const token = getToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** The daemon refused the token (expired, revoked, disabled): sign in again. */
export function unauthorized(message) {
  clearToken();
  window.dispatchEvent(new CustomEvent('grm:unauthorized', { detail: message }));
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function request(path, { method = 'GET', signal, as = 'json' } = {}) {
  let res;
  try {
    res = await fetch(`${API}${path}`, { method, signal, headers: { ...authHeaders(), accept: as === 'json' ? 'application/json' : '*/*' } });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'E_NETWORK', `the daemon does not answer (${e.message})`);
  }
  if (!res.ok) {
    let code = `HTTP_${res.status}`;
    let message = res.statusText || `HTTP ${res.status}`;
    try {
      const body = await res.json();
      if (body?.error) ({ code, message } = { code: body.error.code ?? code, message: body.error.message ?? message });
      else if (body?.message) message = body.message;
    } catch { /* not JSON */ }
    if (res.status === 401) unauthorized(message);
    throw new ApiError(res.status, code, message);
  }
  return as === 'text' ? res.text() : as === 'blob' ? res.blob() : res.json();
}

export const getJSON = (path, opts) => request(path, opts);
export const getText = (path, opts) => request(path, { ...opts, as: 'text' });
export const getBlob = (path, opts) => request(path, { ...opts, as: 'blob' });
export const del = (path) => request(path, { method: 'DELETE' });

/** Builds ?a=1&b=2 from the defined, non-empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
