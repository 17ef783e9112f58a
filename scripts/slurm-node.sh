#!/usr/bin/env bash
# One SLURM role in the foreground, with the munged it needs: the entrypoint of the slurm image
# (docker/slurm.Dockerfile) and of the grm image's COMPSs/SLURM stage, built on the same
# functions as scripts/slurm-cluster.sh (scripts/slurm-lib.sh).
#
#   scripts/slurm-node.sh slurmctld          slurmctld -D, the controller
#   scripts/slurm-node.sh slurmd [NAME]      slurmd -D -N NAME (default SLURMD_NODENAME, else the host name)
#   scripts/slurm-node.sh client CMD [ARG]...  CMD (e.g. grmd) with a munged beside it for sbatch & co.
#
# First munged: started with the cluster's key unless a munged already answers on the socket
# slurm.conf names (AuthInfo=socket=..., else munge's default /run/munge/munge.socket.2), as
# when several roles share one host. Then the role runs as this script's child; SIGTERM or
# SIGINT is passed to it, and when it ends the munged started here is stopped too. Exits
# with the role's status.
# Environment:
#   SLURM_CONF       the cluster's slurm.conf (default /etc/slurm/slurm.conf)
#   GRM_SLURM_DIR    this role's own files: run/ (pid files), log/ (munged.log), munge/
#                    (default /var/lib/grm-slurm)
#   MUNGE_KEY_FILE   the cluster's munge key, copied into GRM_SLURM_DIR/munge when that holds
#                    none (default /run/secrets/munge.key: a swarm secret)
#   SLURMD_NODENAME  slurmd's node name (default: the host name)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOG_NAME=slurm-node
# shellcheck source-path=SCRIPTDIR source=slurm-lib.sh
. "$SCRIPT_DIR/slurm-lib.sh"

role=${1:-}
[[ $role == slurmctld || $role == slurmd || $role == client ]] ||
  die "usage: slurm-node.sh slurmctld | slurmd [NAME] | client CMD [ARG]... (got '${role}')"
shift

DIR=${GRM_SLURM_DIR:-/var/lib/grm-slurm}
DIR=${DIR%/}
CONF_FILE=${SLURM_CONF:-/etc/slurm/slurm.conf}
set_paths
CONF=$CONF_FILE
export SLURM_CONF=$CONF
[[ -r $CONF ]] || die "slurm.conf not found at $CONF (set SLURM_CONF)"
PATH=$PATH:/usr/sbin:/usr/bin

conf_value() { # KEY -> its value in slurm.conf (first occurrence), or nothing
  sed -n "s/^[[:space:]]*$1=\\([^[:space:]#]*\\).*/\\1/Ip" "$CONF" | head -n 1
}

# The socket the cluster's daemons and commands use: slurm.conf's AuthInfo=socket=PATH, else
# munge's compiled-in default.
auth_socket=$(conf_value AuthInfo | tr ',' '\n' | sed -n 's/^socket=//p')
MUNGE_SOCKET=${auth_socket:-/run/munge/munge.socket.2}

munge_answers() {
  local munge
  munge=$(find_bin munge 2>/dev/null) || return 1
  [[ -S $MUNGE_SOCKET ]] && "$munge" --socket="$MUNGE_SOCKET" -n >/dev/null 2>&1
}

# The directories slurm.conf names for this role (slurmd's spool per node: %n).
make_role_dirs() {
  local node=${1:-} d
  for d in "$(conf_value StateSaveLocation)" "$(conf_value SlurmdSpoolDir)"; do
    [[ -n $d ]] || continue
    d=${d//%n/$node}
    mkdir -p "$d"
  done
  local f
  for f in SlurmctldPidFile SlurmdPidFile SlurmctldLogFile SlurmdLogFile; do
    d=$(conf_value "$f")
    [[ -n $d ]] && mkdir -p "$(dirname "${d//%n/$node}")"
  done
  return 0
}

mkdir -p "$RUN" "$LOGS"
STARTED_MUNGED=0
if munge_answers; then
  log "munged already answers on $MUNGE_SOCKET: using it"
else
  if [[ ! -s $MUNGE_DIR/munge.key ]]; then
    key_src=${MUNGE_KEY_FILE:-/run/secrets/munge.key}
    [[ -r $key_src ]] || die "no munge key: $MUNGE_DIR/munge.key is missing and MUNGE_KEY_FILE ($key_src) cannot be read"
    mkdir -p "$MUNGE_DIR"
    install -m 0600 "$key_src" "$MUNGE_DIR/munge.key"
  fi
  start_munged
  STARTED_MUNGED=1
fi

case $role in
  slurmctld)
    make_role_dirs
    [[ -n $(conf_value StateSaveLocation) ]] && chmod 0700 "$(conf_value StateSaveLocation)"
    cmd=("$(find_bin slurmctld)" -D -f "$CONF")
    ;;
  slurmd)
    node=${1:-${SLURMD_NODENAME:-$(uname -n)}}
    node=${node%%.*}
    make_role_dirs "$node"
    cmd=("$(find_bin slurmd)" -D -N "$node" -f "$CONF")
    ;;
  client)
    (($# > 0)) || die "client needs a command to run"
    cmd=("$@")
    ;;
esac

# The command runs under a subshell that records its exit status, so a signal that interrupts
# this script's own wait (bash's wait returns 128+signal and may forget the child's status:
# seen as a 143 for a command that exited 0) never loses it; TERM/INT go to the command itself.
status_file="$RUN/$role.$$.status" pid_file="$RUN/$role.$$.pid"
rm -f "$status_file" "$pid_file"
interrupted=0 forwarded=0
finish() {
  local rc=$1
  trap - TERM INT
  rm -f "$status_file" "$pid_file"
  if ((STARTED_MUNGED)); then stop_pids "munged:$MUNGE_PID"; fi
  exit "$rc"
}
# shellcheck disable=SC2317 # reached through the trap below
send_term() {
  local p
  ((forwarded)) && return 0
  p=$(cat "$pid_file" 2>/dev/null) || return 0
  [[ -n $p ]] || return 0
  kill -TERM "$p" 2>/dev/null
  forwarded=1
}
# shellcheck disable=SC2317 # reached through the trap below
forward() {
  interrupted=1
  send_term
  return 0
}
trap forward TERM INT

log "$role: ${cmd[*]}"
{
  "${cmd[@]}" </dev/null &
  echo "$!" >"$pid_file"
  st=0
  wait "$!" || st=$? # (set -e: a failing command is a status to record, not the end)
  echo "$st" >"$status_file"
} &
sub=$!
# until the subshell is gone; a signal that came before the command's pid was known is passed on now
while kill -0 "$sub" 2>/dev/null; do
  wait "$sub" || true
  ((interrupted)) && send_term
done
rc=$(cat "$status_file" 2>/dev/null) || rc=1
log "$role ended (status $rc)"
finish "$rc"
