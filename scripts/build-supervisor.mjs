#!/usr/bin/env node
// Builds dist/native/grm-supervisor, the C supervisor every master runs under
// (src/runtime/native/). Run by `npm run build`; does nothing when the binary is newer than
// every source. CC picks the compiler (default cc). argv arrays only: no shell.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = path.join(root, 'src/runtime/native');
const out = path.join(root, 'dist/native/grm-supervisor');
const sources = fs.readdirSync(srcDir).filter((f) => /\.[ch]$/.test(f)).map((f) => path.join(srcDir, f));
const newest = Math.max(...sources.map((f) => fs.statSync(f).mtimeMs));
const built = fs.statSync(out, { throwIfNoEntry: false });
if (built !== undefined && built.mtimeMs >= newest && process.argv[2] !== '--force') process.exit(0);

fs.mkdirSync(path.dirname(out), { recursive: true });
const cc = process.env.CC || 'cc';
const flags = ['-std=c11', '-O2', '-Wall', '-Wextra', '-D_FORTIFY_SOURCE=2', '-fstack-protector-strong'];
const tmp = `${out}.${process.pid}.tmp`;
try {
  execFileSync(cc, [...flags, '-o', tmp, ...sources.filter((f) => f.endsWith('.c'))], { stdio: 'inherit' });
} catch (e) {
  console.error(`build-supervisor: ${cc} could not build ${path.relative(root, out)} (${e.message}).`);
  console.error('GRM needs a C compiler to build its master supervisor: apt-get install gcc (or set CC).');
  process.exit(1);
}
fs.renameSync(tmp, out); // atomic: a running daemon never sees half a binary
