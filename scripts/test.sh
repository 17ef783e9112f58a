#!/usr/bin/env bash
# The whole suite: typecheck, build (the CLI tests run the built `grm`), then every tap test.
# Suites needing Debian packages (xmllint, chromium, slurm) install them themselves through
# scripts/system-deps.sh when run as root, and skip with the reason otherwise (fail under CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json --noEmit
npx tsc -p tsconfig.build.json
exec npx tap "$@"
