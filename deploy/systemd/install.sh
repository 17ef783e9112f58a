#!/usr/bin/env bash
# Installs GRM as a systemd service, from a checkout of the repository:
#   sudo deploy/systemd/install.sh [--prefix DIR] [--data-dir DIR] [--unit-dir DIR] [--no-build] [--no-start]
#
#   --prefix DIR    where GRM is installed (default /opt/grm): the sources are copied there,
#                   built (npm ci, tsc, the C supervisor), and the dev dependencies pruned
#   --data-dir DIR  the daemon's store and job folders (default /var/lib/grm), mode 0750
#   --unit-dir DIR  where grmd.service goes (default /etc/systemd/system)
#   --no-build      install the unit and the data dir only (GRM already built in --prefix)
#   --no-start      do not run systemctl (daemon-reload, enable --now grmd)
# The unit written is deploy/systemd/grmd.service with its paths set to these. Settings go in
# /etc/grm/grmd.env (GRM_* variables; GRM_CONFIG names a config file). Needs Node.js 20+, npm and cc.
# The old unit deploy/grm.service (grm.service) is replaced by grmd.service: stop and disable
# grm.service first if it is installed (this script says so when it finds it).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PREFIX=/opt/grm DATA_DIR=/var/lib/grm UNIT_DIR=/etc/systemd/system BUILD=1 START=1

die() { echo "install.sh: error: $*" >&2; exit 1; }
log() { echo "install.sh: $*" >&2; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --prefix) PREFIX=${2:?--prefix needs a value}; shift 2 ;;
    --data-dir) DATA_DIR=${2:?--data-dir needs a value}; shift 2 ;;
    --unit-dir) UNIT_DIR=${2:?--unit-dir needs a value}; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --no-start) START=0; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
for v in PREFIX DATA_DIR UNIT_DIR; do
  [[ ${!v} == /* ]] || die "${v,,} must be an absolute path, got '${!v}'"
  # the paths go into the unit file: no spaces, quotes or specifiers
  [[ ${!v} =~ ^[A-Za-z0-9/._-]+$ ]] || die "${v,,} '${!v}' has characters a unit file path cannot take"
done

build() {
  command -v node >/dev/null || die "node (20 or later) is not on PATH"
  command -v npm >/dev/null || die "npm is not on PATH"
  log "copying GRM from $REPO to $PREFIX"
  install -d -m 0755 "$PREFIX" "$PREFIX/scripts"
  cp -R "$REPO/package.json" "$REPO/package-lock.json" "$REPO/tsconfig.json" "$REPO/tsconfig.build.json" \
    "$REPO/README.md" "$REPO/src" "$REPO/bin" "$REPO/schemas" "$PREFIX/"
  cp "$REPO/scripts/build-supervisor.mjs" "$PREFIX/scripts/"
  log "building in $PREFIX"
  (
    cd "$PREFIX"
    npm ci --ignore-scripts --no-audit --no-fund
    npm rebuild better-sqlite3
    npm run build
    npm prune --omit=dev --no-audit --no-fund
  ) >&2
}

install_unit() {
  install -d -m 0755 "$UNIT_DIR"
  install -d -m 0750 "$DATA_DIR"
  [[ -x $PREFIX/bin/grmd.js ]] || die "$PREFIX/bin/grmd.js is missing: install without --no-build first"
  # the unit's own paths, swapped for the chosen ones (the template names the defaults)
  sed -e "s#/opt/grm#$PREFIX#g" -e "s#/var/lib/grm#$DATA_DIR#g" "$HERE/grmd.service" >"$UNIT_DIR/grmd.service.new"
  chmod 0644 "$UNIT_DIR/grmd.service.new"
  mv "$UNIT_DIR/grmd.service.new" "$UNIT_DIR/grmd.service"
  log "wrote $UNIT_DIR/grmd.service (ExecStart=$PREFIX/bin/grmd.js, data in $DATA_DIR)"
  if [[ -e $UNIT_DIR/grm.service ]]; then
    log "note: the old unit $UNIT_DIR/grm.service is still there: systemctl disable --now grm && rm $UNIT_DIR/grm.service"
  fi
}

((BUILD)) && build
install_unit
if ((START)); then
  systemctl daemon-reload
  systemctl enable --now grmd.service
  log "grmd started: systemctl status grmd; the first admin's token is in $DATA_DIR/admin.token"
fi
