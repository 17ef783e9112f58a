// The bench's REST client: every request carries the token of the daemon it goes to (the
// first admin's, which the daemon writes to <dataDir>/admin.token on its first start).
import fs from 'node:fs';
import path from 'node:path';

const tokens = new Map();

/** Remembers the admin token of the daemon at `url`, whose data dir is `dataDir`. */
export function useDaemonToken(url, dataDir) {
  tokens.set(url, fs.readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim());
}

export const tokenFor = (url) => tokens.get(url);

/** fetch(url + route) with the daemon's token. */
export function api(url, route, init = {}) {
  const token = tokens.get(url);
  return fetch(`${url}${route}`, { ...init, headers: { ...(init.headers ?? {}), ...(token ? { authorization: `Bearer ${token}` } : {}) } });
}
