#!/usr/bin/env node
// The images' HEALTHCHECK (and usable by any probe): GET /api/v1/health on this host's daemon.
// Exit 0 when it answers 200 with status "ok", 1 otherwise (Docker's healthy/unhealthy).
// Reads what the daemon reads: GRM_PORT (default 8080) and, when GRM_TLS_CERT is set, speaks
// https. The certificate is not checked against 127.0.0.1: it names the service's public
// name, the probe stays on this host's loopback and sends no token.
import http from 'node:http';
import https from 'node:https';

const port = Number(process.env.GRM_PORT || 8080);
const tls = Boolean(process.env.GRM_TLS_CERT);
const client = tls ? https : http;
const timeoutMs = Number(process.env.GRM_HEALTH_TIMEOUT_MS || 4000);

const req = client.get(
  { host: '127.0.0.1', port, path: '/api/v1/health', timeout: timeoutMs, ...(tls ? { rejectUnauthorized: false } : {}) },
  (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => (body += chunk));
    res.on('end', () => {
      let status = '';
      try {
        status = JSON.parse(body).status;
      } catch {
        /* not JSON: unhealthy below */
      }
      if (res.statusCode === 200 && status === 'ok') process.exit(0);
      process.stderr.write(`unhealthy: HTTP ${res.statusCode} ${body.slice(0, 200)}\n`);
      process.exit(1);
    });
  },
);
req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
req.on('error', (e) => {
  process.stderr.write(`unhealthy: ${e.message}\n`);
  process.exit(1);
});
