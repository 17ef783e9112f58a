#!/usr/bin/env node
// The grm command: runs the compiled CLI (npm ci builds dist/ through the prepare script).
import { runCli } from '../dist/cli/main.js';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`grm: error: ${error?.message ?? error}\n`);
    process.exitCode = 1;
  },
);
