#!/usr/bin/env bash
# A real, self-contained SLURM cluster on one host: one munged, one slurmctld and N slurmd
# (node1..nodeN, each on its own loopback port), everything in one directory.
#
#   scripts/slurm-cluster.sh start [--dir DIR] [--nodes N] [--cpus C] [--memory MiB] [--gpus G]
#                                  [--timeout SECS] [--keep-jobs] [--sched-params LIST]
#       Starts the cluster (installs slurm-wlm and munge first through system-deps.sh when root
#       and missing) and waits until sinfo shows every node idle. Its only stdout line is
#           export SLURM_CONF=DIR/slurm.conf
#       so   eval "$(scripts/slurm-cluster.sh start)"   works; everything else goes to stderr.
#       DIR defaults to a new mktemp -d /tmp/grm-slurm.XXXXXX. Idempotent: on a DIR whose
#       cluster is up it only prints the export line. On a DIR whose daemons are gone it
#       starts them again (new ports, same cluster name and state) and cancels the jobs that
#       slurmctld recovers from its state, unless --keep-jobs. --sched-params appends to
#       slurm.conf's SchedulerParameters (e.g. bf_job_part_count_reserve=1). --timeout (default 60) bounds
#       the wait for the nodes.
#   scripts/slurm-cluster.sh config --dir DIR [--nodes N] [--cpus C] [--memory MiB] [--gpus G]
#                                   [--sched-params LIST]
#       Writes DIR's slurm.conf (new free ports) and munge key, as start does, and starts
#       nothing: the daemons are then started one per process by scripts/slurm-node.sh (the
#       slurm image's entrypoint). Prints the same export line.
#   scripts/slurm-cluster.sh stop --dir DIR [--purge]
#       Cancels the cluster's jobs, ends the daemons it started (by their pid files) and waits
#       for them to go. --purge also removes DIR.
#   scripts/slurm-cluster.sh status --dir DIR
#       Which daemons are up, and sinfo. Exit 0 when all are up, 1 otherwise.
#   scripts/slurm-cluster.sh stop-ctld --dir DIR | start-ctld --dir DIR [--timeout SECS]
#       Stop / start only slurmctld (for controller-restart tests); start-ctld waits for the
#       nodes to be idle (or allocated) again.
#
# Never touches /etc/munge, /etc/slurm, systemd or any daemon it did not start: munged runs
# with its own key and socket in DIR (slurm.conf AuthInfo=socket=...), and slurm.conf points
# every file slurm would otherwise look for in /etc/slurm or /var into DIR.
# Environment: SLURM_BIN_DIR / MUNGE_BIN_DIR (where the daemons are; default: PATH, /usr/sbin),
# GRM_SLURM_PORT_MIN / GRM_SLURM_PORT_MAX (range to pick free ports from; default 20000-32000,
# below Linux's ephemeral range so a client connection cannot take a port between the pick and
# the bind).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=slurm-lib.sh
. "$SCRIPT_DIR/slurm-lib.sh"

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

# ---------------------------------------------------------------- options
cmd=${1:-}
[[ -z $cmd || $cmd == -h || $cmd == --help ]] && usage
shift
DIR='' NODES=4 CPUS=2 MEMORY=2000 GPUS=0 PURGE=0 TIMEOUT=60 KEEP_JOBS=0 SCHED_EXTRA=''
while [[ $# -gt 0 ]]; do
  case $1 in
    --dir) DIR=${2:?--dir needs a value}; shift 2 ;;
    --dir=*) DIR=${1#*=}; shift ;;
    --nodes) NODES=${2:?}; shift 2 ;;
    --nodes=*) NODES=${1#*=}; shift ;;
    --cpus) CPUS=${2:?}; shift 2 ;;
    --cpus=*) CPUS=${1#*=}; shift ;;
    --memory) MEMORY=${2:?}; shift 2 ;;
    --memory=*) MEMORY=${1#*=}; shift ;;
    --gpus) GPUS=${2:?}; shift 2 ;;
    --gpus=*) GPUS=${1#*=}; shift ;;
    --timeout) TIMEOUT=${2:?}; shift 2 ;;
    --timeout=*) TIMEOUT=${1#*=}; shift ;;
    --purge) PURGE=1; shift ;;
    --keep-jobs) KEEP_JOBS=1; shift ;;
    --sched-params) SCHED_EXTRA=${2:?}; shift 2 ;;
    --sched-params=*) SCHED_EXTRA=${1#*=}; shift ;;
    -h|--help) usage ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
for v in NODES CPUS MEMORY GPUS TIMEOUT; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "--${v,,} must be a whole number, got '${!v}'"
done
((NODES >= 1)) || die "--nodes must be at least 1"
((CPUS >= 1)) || die "--cpus must be at least 1"
((MEMORY >= CPUS)) || die "--memory (MiB per node) must be at least --cpus"

if [[ -n $DIR ]]; then
  [[ $DIR == /* ]] || DIR=$PWD/$DIR
  DIR=${DIR%/}
fi

need_dir() {
  [[ -n $DIR ]] || die "$cmd needs --dir DIR"
  [[ -f $DIR/slurm.conf ]] || die "$DIR/slurm.conf not found: no cluster was started there"
  set_paths
}

# ---------------------------------------------------------------- commands
# new_config: DIR's layout and a slurm.conf with new free ports (in `ports`: slurmctld's, then
# one per node), keeping the ClusterName of an earlier run (slurmctld refuses state saved
# under another name).
new_config() {
  chmod 0755 "$DIR"
  mkdir -p "$RUN" "$LOGS" "$DIR/state" "$DIR/spool"
  chmod 0700 "$DIR/state"
  local cluster
  cluster=$(sed -n 's/^ClusterName=//p' "$CONF" 2>/dev/null || true)
  # unique per dir: the mktemp suffix (or a hash of the path), lower case, <= 40 chars
  [[ -n $cluster ]] || cluster="grm$(basename "$DIR" | tr -cd 'a-zA-Z0-9' | tr '[:upper:]' '[:lower:]' | tail -c 12)$(echo "$DIR" | cksum | cut -c1-6)"
  read -r -a ports <<<"$(pick_ports $((NODES + 1)))"
  write_config "$cluster" "${ports[0]}" "${ports[@]:1}"
  log "dir $DIR, cluster $cluster, $NODES node(s) x $CPUS cpu(s) x ${MEMORY} MiB, $GPUS gpu(s); slurmctld port ${ports[0]}, slurmd ports ${ports[*]:1}"
}

case $cmd in
  start)
    t0=$(date +%s.%N)
    "$SCRIPT_DIR/system-deps.sh" slurm >&2 || die "slurm-wlm and munge are missing and cannot be installed (see above)"
    # the client commands used below
    PATH=$PATH:/usr/sbin:/usr/bin
    if [[ -z $DIR ]]; then
      DIR=$(mktemp -d /tmp/grm-slurm.XXXXXX)
    fi
    mkdir -p "$DIR"
    set_paths
    if cluster_up; then
      log "cluster in $DIR is already running"
      echo "export SLURM_CONF=$CONF"
      exit 0
    fi
    # Partly up (a daemon died) or stale: stop what is left, then start afresh with new ports
    # but the same ClusterName (slurmctld refuses state saved under another name).
    [[ -f $CONF ]] && stop_all
    # A start that fails stops whatever it started (the logs stay in DIR), unless
    # GRM_SLURM_KEEP_ON_FAILURE=1 (to poke at a half-started cluster).
    on_start_exit() {
      local rc=$?
      ((rc == 0)) && return
      if [[ ${GRM_SLURM_KEEP_ON_FAILURE:-0} == 1 ]]; then
        log "start failed; daemons left running (GRM_SLURM_KEEP_ON_FAILURE=1): stop --dir $DIR"
      else
        log "start failed; stopping what it started (logs stay in $DIR/log)"
        stop_all || true
      fi
      exit "$rc"
    }
    trap on_start_exit EXIT
    # One lock while ports are picked and bound, so two clusters started at once cannot pick
    # the same port.
    exec 8>/tmp/grm-slurm-ports.lock
    flock 8
    new_config
    start_munged
    start_ctld
    start_slurmds
    # release the lock once every slurmd listens on its port
    deadline=$((SECONDS + 20))
    k=0
    for n in $(conf_nodes); do
      p=${ports[++k]}
      until port_listening "$p" || ((SECONDS > deadline)); do
        our_pid "$(slurmd_pidfile "$n")" >/dev/null || break # dead: wait_ready says why
        sleep 0.1
      done
    done
    flock -u 8
    exec 8>&-
    # slurmctld recovers jobs from DIR/state (e.g. after a crash of the previous run) and
    # requeues or resumes them; a started cluster is an idle one unless --keep-jobs.
    if ((KEEP_JOBS)); then ready_states='idle|mixed|allocated|completing'; else
      cancel_jobs
      ready_states='idle'
    fi
    wait_ready "$TIMEOUT" "$ready_states"
    t1=$(date +%s.%N)
    log "cluster ready in $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s: $(sinfo -h -o '%D nodes %T' | tr '\n' ' ')"
    trap - EXIT
    echo "export SLURM_CONF=$CONF"
    ;;

  config)
    [[ -n $DIR ]] || die "config needs --dir DIR"
    mkdir -p "$DIR"
    set_paths
    our_pid "$CTLD_PID" >/dev/null && die "a slurmctld of $DIR is running: stop it before writing a new slurm.conf"
    exec 8>/tmp/grm-slurm-ports.lock
    flock 8
    new_config
    flock -u 8
    exec 8>&-
    ensure_munge_key
    echo "export SLURM_CONF=$CONF"
    ;;

  stop)
    [[ -n $DIR ]] || die "stop needs --dir DIR"
    if [[ -f $DIR/slurm.conf ]]; then
      set_paths
      PATH=$PATH:/usr/sbin:/usr/bin
      stop_all
    else
      log "no cluster in $DIR"
    fi
    if ((PURGE)) && [[ -d $DIR ]]; then
      rm -rf -- "$DIR"
      log "removed $DIR"
    fi
    ;;

  stop-ctld)
    need_dir
    stop_pids "slurmctld:$CTLD_PID"
    ;;

  start-ctld)
    need_dir
    PATH=$PATH:/usr/sbin:/usr/bin
    our_pid "$MUNGE_PID" >/dev/null || start_munged
    start_ctld
    # After a restart the nodes' saved state is recovered; running jobs keep their nodes.
    wait_ready "$TIMEOUT" 'idle|mixed|allocated|completing'
    log "slurmctld up"
    ;;

  status)
    need_dir
    PATH=$PATH:/usr/sbin:/usr/bin
    rc=0
    show() { # name pidfile
      local pid
      if pid=$(our_pid "$2"); then echo "$1: up (pid $pid)"; else echo "$1: down"; rc=1; fi
    }
    show munged "$MUNGE_PID"
    show slurmctld "$CTLD_PID"
    for n in $(conf_nodes); do show "slurmd $n" "$(slurmd_pidfile "$n")"; done
    echo "SLURM_CONF=$CONF"
    if our_pid "$CTLD_PID" >/dev/null; then sinfo || rc=1; fi
    exit $rc
    ;;

  *) die "unknown command '$cmd' (start, config, stop, status, stop-ctld, start-ctld)" ;;
esac
