// The viewer's only way to the daemon: same-origin fetches under /api/v1.
export const API = '/api/v1';

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
    res = await fetch(`${API}${path}`, { method, signal, headers: { accept: as === 'json' ? 'application/json' : '*/*' } });
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
    throw new ApiError(res.status, code, message);
  }
  return as === 'text' ? res.text() : res.json();
}

export const getJSON = (path, opts) => request(path, opts);
export const getText = (path, opts) => request(path, { ...opts, as: 'text' });
export const del = (path) => request(path, { method: 'DELETE' });

/** Builds ?a=1&b=2 from the defined, non-empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
