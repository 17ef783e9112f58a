/**
 * Where the daemon may listen. Loopback (the default, 127.0.0.1) reaches only this machine;
 * any other address serves the API to a network, so it needs TLS (tokens must not cross it in
 * clear) and authentication on. Refused otherwise, before anything starts, saying what to set.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { GrmError } from '../errors.js';
import type { GrmConfig } from './config-schema.js';

export interface TlsFiles {
  key: Buffer;
  cert: Buffer;
}

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and the name localhost. A host name may resolve anywhere: not loopback. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  const v4 = h.startsWith('::ffff:') && net.isIPv4(h.slice(7)) ? h.slice(7) : h;
  if (net.isIPv4(v4)) return v4.split('.')[0] === '127';
  // ::1 in any spelling (0:0:0:0:0:0:0:1, ::0001)
  return net.isIPv6(h) && new net.SocketAddress({ address: h, family: 'ipv6' }).address === '::1';
}

/** The config's TLS files read, or undefined for plain HTTP; a half-set or unreadable pair is refused. */
export function readTls(config: Pick<GrmConfig, 'tls'>, cwd = process.cwd()): TlsFiles | undefined {
  const { key, cert } = config.tls;
  if (key === '' && cert === '') return undefined;
  if (key === '' || cert === '') {
    const missing = key === '' ? 'tls.key (GRM_TLS_KEY)' : 'tls.cert (GRM_TLS_CERT)';
    throw new GrmError('E_CONFIG_INVALID', `invalid configuration: TLS needs both a key and a certificate; set ${missing} too`, {
      field: key === '' ? 'tls.key' : 'tls.cert',
    });
  }
  const read = (file: string, field: string) => {
    try {
      return fs.readFileSync(path.resolve(cwd, file));
    } catch (e) {
      throw new GrmError('E_CONFIG_INVALID', `invalid configuration: cannot read ${field} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
        field,
      });
    }
  };
  return { key: read(key, 'tls.key'), cert: read(cert, 'tls.cert') };
}

/**
 * Refuses a non-loopback host without TLS or with authentication off. Authentication is
 * always on (src/api/auth.ts); a config that could turn it off says so with `auth.enabled`.
 */
export function checkBinding(config: Pick<GrmConfig, 'host' | 'tls'>): void {
  if (isLoopbackHost(config.host)) return;
  const tlsSet = config.tls.key !== '' && config.tls.cert !== '';
  const authOff = (config as { auth?: { enabled?: unknown } }).auth?.enabled === false;
  if (tlsSet && !authOff) return;
  const missing = [
    ...(tlsSet ? [] : ['TLS (set tls.key and tls.cert, or GRM_TLS_KEY and GRM_TLS_CERT, to PEM files)']),
    ...(authOff ? ['authentication (remove auth.enabled: false)'] : []),
  ];
  throw new GrmError(
    'E_CONFIG_INVALID',
    `refusing to listen on ${config.host}: it is not a loopback address, so the API would be served to the network ` +
      `without ${missing.join(' and ')}. Set those, or set host (GRM_HOST) to 127.0.0.1 and put a TLS proxy in front.`,
    { field: 'host' },
  );
}

/** The URL of the address actually bound, for the start-up line: https://0.0.0.0:8443 (every interface). */
export function boundUrl(address: net.AddressInfo | string | null, tls: boolean): string {
  if (address === null || typeof address === 'string') return String(address);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const everywhere = address.address === '0.0.0.0' || address.address === '::';
  return `${tls ? 'https' : 'http'}://${host}:${address.port}${everywhere ? ' (every interface)' : ''}`;
}
