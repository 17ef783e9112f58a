#!/usr/bin/env bash
# The whole suite: typecheck, build (the CLI tests run the built `grm`), then every tap test.
# Suites needing Debian packages (xmllint, chromium, slurm) install them themselves through
# scripts/system-deps.sh when run as root, and skip with the reason otherwise (fail under CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."
# The Debian packages the suites need (xmllint, chromium, slurm, torch), installed once before
# any test file's timeout starts counting (python3-torch alone takes minutes). Root only; if it
# cannot, each suite says what is missing and skips (fails under CI=true) as before.
if [[ $(id -u) -eq 0 ]]; then scripts/system-deps.sh all || echo "test.sh: system-deps.sh all failed; the suites that need them will say so" >&2; fi
npx tsc -p tsconfig.json --noEmit
npm run --silent build
exec npx tap "$@"
