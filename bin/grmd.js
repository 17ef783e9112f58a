#!/usr/bin/env -S node --max-semi-space-size=2
// The GRM daemon as deployed (npm start, deploy/systemd/grmd.service, docker/Dockerfile): `grm daemon`
// with V8's young generation capped at 2 MiB per semi-space. A long-lived server holding a queue
// keeps little short-lived data; V8's default (16 MiB semi-spaces, grown under a burst of
// submissions) cost the daemon about 28 MiB of RSS for nothing. `npm run bench` (daemon RSS)
// measures the daemon started through this file. The flag must be on node's command line: V8
// sizes its heap before any code runs.
import { runCli } from '../dist/cli/main.js';

runCli(['daemon', ...process.argv.slice(2)]).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`grmd: error: ${error?.message ?? error}\n`);
    process.exitCode = 1;
  },
);
