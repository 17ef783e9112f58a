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
PORT_MIN=${GRM_SLURM_PORT_MIN:-20000}
PORT_MAX=${GRM_SLURM_PORT_MAX:-32000}

log() { echo "slurm-cluster: $*" >&2; }
die() { echo "slurm-cluster: error: $*" >&2; exit 1; }

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

find_bin() { # name -> absolute path
  local name=$1 d
  for d in ${SLURM_BIN_DIR:-} ${MUNGE_BIN_DIR:-}; do
    [[ -x $d/$name ]] && { echo "$d/$name"; return; }
  done
  command -v "$name" 2>/dev/null && return
  for d in /usr/sbin /usr/local/sbin /sbin; do
    [[ -x $d/$name ]] && { echo "$d/$name"; return; }
  done
  die "$name not found (install slurm-wlm and munge: scripts/system-deps.sh slurm)"
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

# ---------------------------------------------------------------- layout
set_paths() {
  CONF=$DIR/slurm.conf
  RUN=$DIR/run        # pid files
  LOGS=$DIR/log
  MUNGE_DIR=$DIR/munge
  MUNGE_SOCKET=$MUNGE_DIR/munge.socket
  MUNGE_PID=$RUN/munged.pid
  CTLD_PID=$RUN/slurmctld.pid
  export SLURM_CONF=$CONF
}
slurmd_pidfile() { echo "$RUN/slurmd-$1.pid"; }

# Node names from an existing slurm.conf (so stop/status work whatever --nodes says).
conf_nodes() {
  sed -n 's/^NodeName=\([^ ]*\) .*/\1/p' "$CONF" 2>/dev/null
}

# alive PID: running (a zombie waiting for its reaper counts as gone).
alive() {
  local st
  st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
  [[ -n $st && $st != Z && $st != X ]]
}

# pid from a pid file, only if that process is alive and is one of ours: its command line
# names this DIR's slurm.conf or munge dir (guards against a recycled pid).
our_pid() {
  local f=$1 pid
  [[ -s $f ]] || return 1
  pid=$(tr -dc '0-9' <"$f")
  [[ -n $pid ]] && alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$DIR/" || return 1
  echo "$pid"
}

# ---------------------------------------------------------------- ports
used_ports() { # every local TCP port in any state, from /proc (no ss/netstat/python needed)
  local f
  for f in /proc/net/tcp /proc/net/tcp6; do
    [[ -r $f ]] || continue
    awk 'NR > 1 { n = split($2, a, ":"); print a[n] }' "$f" | while read -r h; do echo $((16#$h)); done
  done
}

# pick_ports COUNT -> COUNT distinct free ports, random in [PORT_MIN, PORT_MAX]
pick_ports() {
  local want=$1 used p tries=0
  declare -A taken=()
  used=$(used_ports | sort -un)
  for p in $used; do taken[$p]=1; done
  local out=()
  while ((${#out[@]} < want)); do
    ((tries++ < 10000)) || die "no free ports in $PORT_MIN-$PORT_MAX"
    p=$((PORT_MIN + (RANDOM * 32768 + RANDOM) % (PORT_MAX - PORT_MIN + 1)))
    [[ -n ${taken[$p]:-} ]] && continue
    taken[$p]=1
    out+=("$p")
  done
  echo "${out[@]}"
}

port_listening() { # port -> 0 if something listens on it
  local hex
  hex=$(printf ':%04X ' "$1")
  grep -h ' 0A ' /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '{print $2" "}' | grep -q -- "$hex"
}

# ---------------------------------------------------------------- config
write_config() {
  local cluster=$1 ctld_port=$2; shift 2
  local ports=("$@") k gres_line=''
  ((GPUS > 0)) && gres_line=" Gres=gpu:tesla:$GPUS"
  {
    cat <<EOF
# Generated by scripts/slurm-cluster.sh for a single-host test cluster. Do not edit: 'start'
# rewrites it when the cluster is not running.
ClusterName=$cluster
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmUser=root
SlurmdUser=root

# Authentication through this cluster's own munged (never the system's /run/munge socket).
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET

# Everything in $DIR (%n = node name: several slurmd share this host).
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool/%n
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$RUN/slurmd-%n.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$DIR/plugstack.conf
MailProg=/bin/true

# No cgroups, no systemd: works in containers and unprivileged-ish hosts.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none

SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Trust the node lines below rather than the hardware: N nodes on a 2-core host would
# otherwise be drained for "Low CPUs"/"Low RealMemory".
SlurmdParameters=config_overrides
ReturnToService=2
# Without a default, a job that gives no --mem gets the whole node's memory under
# CR_Core_Memory, so a node would run one job at a time whatever its free CPUs.
DefMemPerCPU=$((MEMORY / CPUS))

# Fast turnaround for tests:
# - no 'defer' and batch_sched_delay=0 in SchedulerParameters: a batch job is scheduled
#   when it is submitted (the default lets batch jobs wait up to 3 s for the main
#   scheduler), so a job that fits starts well within a second of sbatch;
# - sched_interval=2 / bf_interval=1: pending jobs are retried every 1-2 s (defaults 60/30)
#   when resources free up; sched_min_interval=100000 (0.1 s) bounds how often the
#   event-triggered scheduler may run;
# - KillWait=2: scancel/timeouts escalate from SIGTERM to SIGKILL after 2 s (default 30);
# - MinJobAge=60: finished jobs stay visible (squeue --states=all, scontrol show job, with
#   their exit code) for at least a minute so pollers can read their final state, then are
#   purged (the purge runs about every minute, so expect 60-120 s); default is 300;
# - CompleteWait=0: do not hold scheduling while jobs complete.
SchedulerParameters=batch_sched_delay=0,sched_interval=2,bf_interval=1,sched_min_interval=100000${SCHED_EXTRA:+,$SCHED_EXTRA}
KillWait=2
MinJobAge=60
CompleteWait=0
InactiveLimit=0
# A node that stops answering is set DOWN after 30 s (default 300); backup-controller
# takeover time (there is no backup here).
SlurmdTimeout=30
SlurmctldTimeout=30
MessageTimeout=10
EOF
    ((GPUS > 0)) && echo "GresTypes=gpu"
    echo
    for ((k = 1; k <= NODES; k++)); do
      echo "NodeName=node$k NodeAddr=127.0.0.1 Port=${ports[k - 1]} CPUs=$CPUS RealMemory=$MEMORY$gres_line State=UNKNOWN"
    done
    echo "PartitionName=debug Nodes=node[1-$NODES] Default=YES MaxTime=INFINITE State=UP"
  } >"$CONF.new"
  mv "$CONF.new" "$CONF"

  # Empty: no SPANK plugins (the default would be /etc/slurm/plugstack.conf).
  : >"$DIR/plugstack.conf"
  if ((GPUS > 0)); then
    # Fake GPUs: the files only give each device its index (CUDA_VISIBLE_DEVICES is built from
    # the trailing number); /dev/ttyN are character devices present on any Linux host.
    cat >"$DIR/gres.conf" <<EOF
AutoDetect=off
NodeName=node[1-$NODES] Name=gpu Type=tesla File=/dev/tty[0-$((GPUS - 1))]
EOF
  else
    rm -f "$DIR/gres.conf"
  fi
}

# ---------------------------------------------------------------- daemons
# launch NAME PIDFILE LOGFILE CMD... : starts CMD in the foreground mode of the daemon, in its
# own session (no controlling terminal, no signals from the caller's process group), with
# stdio on LOGFILE. The daemon writes PIDFILE itself; we also remember $! for early failures.
launch() {
  local name=$1 pidfile=$2 logfile=$3; shift 3
  rm -f "$pidfile"
  setsid "$@" </dev/null >>"$logfile" 2>&1 &
  LAUNCHED_PID=$!
  # setsid execs in place (the background child is not a process-group leader), so $! is
  # the daemon itself; write it now so stop works even before the daemon writes its own.
  echo "$LAUNCHED_PID" >"$pidfile"
  log "started $name (pid $LAUNCHED_PID)"
}

tail_log() { # file [lines]
  local f=$1 n=${2:-25}
  if [[ -s $f ]]; then
    echo "----- last $n lines of $f" >&2
    tail -n "$n" "$f" >&2
  else
    echo "----- $f is empty or missing" >&2
  fi
}

start_munged() {
  if our_pid "$MUNGE_PID" >/dev/null; then return; fi
  local munged mungekey
  munged=$(find_bin munged)
  mkdir -p "$MUNGE_DIR"
  chmod 0755 "$MUNGE_DIR" # clients of any user reach the socket; munged refuses group/world-writable dirs
  if [[ ! -s $MUNGE_DIR/munge.key ]]; then
    if mungekey=$(find_bin mungekey 2>/dev/null); then
      "$mungekey" --create --keyfile="$MUNGE_DIR/munge.key" --bits=1024 >&2
    else
      dd if=/dev/urandom of="$MUNGE_DIR/munge.key" bs=128 count=1 status=none
    fi
  fi
  chmod 0600 "$MUNGE_DIR/munge.key"
  rm -f "$MUNGE_SOCKET" "$MUNGE_SOCKET.lock"
  # --force: run even where munged finds a directory on the way to DIR group-writable (a
  # volume in a container, say); everything it uses is DIR's, created here.
  # In --foreground mode munged logs to stderr, not to --log-file: both go to munged.log.
  launch munged "$MUNGE_PID" "$LOGS/munged.log" "$munged" --foreground --force \
    --socket="$MUNGE_SOCKET" --key-file="$MUNGE_DIR/munge.key" \
    --pid-file="$MUNGE_PID" --log-file="$LOGS/munged.log" --seed-file="$MUNGE_DIR/munged.seed"
  local pid=$LAUNCHED_PID deadline=$((SECONDS + 15))
  until [[ -S $MUNGE_SOCKET ]]; do
    if ! alive "$pid" || ((SECONDS > deadline)); then
      tail_log "$LOGS/munged.log"
      die "munged did not come up (socket $MUNGE_SOCKET)"
    fi
    sleep 0.1
  done
}

start_ctld() {
  if our_pid "$CTLD_PID" >/dev/null; then return; fi
  local port
  port=$(sed -n 's/^SlurmctldPort=//p' "$CONF")
  launch slurmctld "$CTLD_PID" "$LOGS/slurmctld.out" "$(find_bin slurmctld)" -D -f "$CONF"
  local pid=$LAUNCHED_PID deadline=$((SECONDS + 30))
  until port_listening "$port"; do
    if ! alive "$pid" || ((SECONDS > deadline)); then
      tail_log "$LOGS/slurmctld.log"; tail_log "$LOGS/slurmctld.out" 10
      die "slurmctld did not start listening on port $port"
    fi
    sleep 0.1
  done
}

start_slurmds() {
  local n slurmd
  slurmd=$(find_bin slurmd)
  for n in $(conf_nodes); do
    our_pid "$(slurmd_pidfile "$n")" >/dev/null && continue
    mkdir -p "$DIR/spool/$n"
    chmod 0755 "$DIR/spool/$n"
    launch "slurmd $n" "$(slurmd_pidfile "$n")" "$LOGS/slurmd-$n.out" "$slurmd" -D -N "$n" -f "$CONF"
  done
}

# wait_ready TIMEOUT_SECS STATES_REGEX: until sinfo shows every node of the conf in a usable state
# (idle at start; idle/mixed/allocated after a controller restart with jobs running).
wait_ready() {
  local timeout=$1 ok_states=$2 deadline out bad n
  deadline=$((SECONDS + timeout))
  local sinfo
  sinfo=$(find_bin sinfo)
  while :; do
    bad=''
    out=$("$sinfo" -h -N -o '%N %T' 2>&1) || bad="sinfo failed: $out"
    if [[ -z $bad ]]; then
      for n in $(conf_nodes); do
        if ! grep -qE "^$n ($ok_states)\$" <<<"$out"; then bad="$n: $(grep -E "^$n " <<<"$out" | head -1 | cut -d' ' -f2)"; break; fi
      done
    fi
    [[ -z $bad ]] && return 0
    # A daemon that died will not come back: fail fast.
    local dead=''
    our_pid "$MUNGE_PID" >/dev/null || dead+=' munged'
    our_pid "$CTLD_PID" >/dev/null || dead+=' slurmctld'
    for n in $(conf_nodes); do our_pid "$(slurmd_pidfile "$n")" >/dev/null || dead+=" slurmd-$n"; done
    if [[ -n $dead ]] || ((SECONDS > deadline)); then
      echo "slurm-cluster: sinfo now:" >&2
      "$sinfo" -N -o '%N %T %E' >&2 || true
      tail_log "$LOGS/slurmctld.log"
      [[ $bad == node* && $dead != *"slurmd-${bad%%:*}"* ]] && tail_log "$LOGS/slurmd-${bad%%:*}.log"
      for d in $dead; do [[ $d == slurmd-* ]] && tail_log "$LOGS/$d.log" && tail_log "$LOGS/$d.out" 10; done
      [[ $dead == *munged* ]] && tail_log "$LOGS/munged.log"
      [[ -n $dead ]] && die "daemon(s) exited:$dead"
      die "nodes not ready after ${timeout}s (first: $bad)"
    fi
    sleep 0.2
  done
}

# stop_pids NAME:PIDFILE...: SIGTERM to each that is ours, wait for all (15 s), then SIGKILL.
stop_pids() {
  local item name f pid pids=() names=()
  for item in "$@"; do
    name=${item%%:*} f=${item#*:}
    if pid=$(our_pid "$f"); then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid"); names+=("$name")
    fi
    rm -f "$f"
  done
  ((${#pids[@]})) || return 0
  log "stopping ${names[*]}"
  local deadline=$((SECONDS + 15)) left
  while :; do
    left=()
    for pid in "${pids[@]}"; do alive "$pid" && left+=("$pid"); done
    ((${#left[@]})) || return 0
    if ((SECONDS > deadline)); then
      log "still alive after 15 s, sending SIGKILL: ${left[*]}"
      kill -KILL "${left[@]}" 2>/dev/null || true
      sleep 0.2
      return 0
    fi
    sleep 0.1
  done
}

# slurmstepd processes of this cluster (they outlive slurmd by design). Recognized by an
# open file under DIR (their slurmd log), so a system slurm's steps are never touched.
our_stepds() {
  local p ppid comm
  while read -r p ppid comm; do
    [[ $comm == slurmstepd ]] || continue
    local fd
    for fd in /proc/"$p"/fd/*; do
      if [[ $(readlink "$fd" 2>/dev/null) == "$DIR"/* ]]; then echo "$p"; break; fi
    done
  done < <(proc_table)
}

# "pid ppid comm" for every process, from /proc (procps may be missing in a container).
proc_table() {
  local f line pid rest comm
  for f in /proc/[0-9]*/stat; do
    { read -r line <"$f"; } 2>/dev/null || continue
    pid=${f#/proc/} pid=${pid%/stat}
    comm=${line#*(} comm=${comm%)*}
    rest=${line##*) }
    set -- $rest
    echo "$pid $2 ${comm// /_}"
  done
}

descendants() { # PIDS -> every descendant pid
  local -A kids=()
  local pid ppid comm c
  while read -r pid ppid comm; do kids[$ppid]+=" $pid"; done < <(proc_table)
  local queue=("$@") out=() p
  while ((${#queue[@]})); do
    p=${queue[0]}; queue=("${queue[@]:1}")
    for c in ${kids[$p]:-}; do out+=("$c"); queue+=("$c"); done
  done
  echo "${out[@]}"
}

cancel_jobs() {
  our_pid "$CTLD_PID" >/dev/null || return 0
  local ids
  ids=$(squeue -h -o %i 2>/dev/null) || return 0
  [[ -n $ids ]] || return 0
  log "cancelling jobs: $(echo $ids)"
  # shellcheck disable=SC2086
  scancel $ids 2>/dev/null || true
  local deadline=$((SECONDS + 10))
  while ((SECONDS < deadline)) && [[ -n $(squeue -h -o %i 2>/dev/null) ]]; do sleep 0.2; done
}

# Jobs first (so their processes end through slurm), then slurmd's and slurmctld, any
# slurmstepd left, and munged last (the others need it to talk while shutting down).
stop_all() {
  cancel_jobs
  local n items=()
  for n in $(conf_nodes); do items+=("slurmd-$n:$(slurmd_pidfile "$n")"); done
  stop_pids "${items[@]}" "slurmctld:$CTLD_PID"
  # slurmstepd's left (jobs could not be cancelled: slurmctld was down) and the job
  # processes under them (proctrack/linuxproc: they are the stepd's descendants).
  local stepds victims
  stepds=$(our_stepds)
  if [[ -n $stepds ]]; then
    # shellcheck disable=SC2086
    victims="$stepds $(descendants $stepds)"
    log "ending leftover slurmstepd and their job processes: $(echo $victims)"
    # shellcheck disable=SC2086
    kill -STOP $victims 2>/dev/null || true # no forking while we kill
    # shellcheck disable=SC2086
    kill -KILL $victims 2>/dev/null || true
  fi
  stop_pids "munged:$MUNGE_PID"
  rm -f "$MUNGE_SOCKET" "$MUNGE_SOCKET.lock"
}

cluster_up() {
  [[ -f $CONF ]] || return 1
  our_pid "$MUNGE_PID" >/dev/null && our_pid "$CTLD_PID" >/dev/null || return 1
  local n
  for n in $(conf_nodes); do our_pid "$(slurmd_pidfile "$n")" >/dev/null || return 1; done
  sinfo -h >/dev/null 2>&1
}

need_dir() {
  [[ -n $DIR ]] || die "$cmd needs --dir DIR"
  [[ -f $DIR/slurm.conf ]] || die "$DIR/slurm.conf not found: no cluster was started there"
  set_paths
}

# ---------------------------------------------------------------- commands
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
    chmod 0755 "$DIR"
    mkdir -p "$RUN" "$LOGS" "$DIR/state" "$DIR/spool"
    chmod 0700 "$DIR/state"
    cluster=$(sed -n 's/^ClusterName=//p' "$CONF" 2>/dev/null || true)
    # unique per dir: the mktemp suffix (or a hash of the path), lower case, <= 40 chars
    [[ -n $cluster ]] || cluster="grm$(basename "$DIR" | tr -cd 'a-zA-Z0-9' | tr 'A-Z' 'a-z' | tail -c 12)$(echo "$DIR" | cksum | cut -c1-6)"

    # One lock while ports are picked and bound, so two clusters started at once cannot pick
    # the same port.
    exec 8>/tmp/grm-slurm-ports.lock
    flock 8
    read -r -a ports <<<"$(pick_ports $((NODES + 1)))"
    write_config "$cluster" "${ports[0]}" "${ports[@]:1}"
    log "dir $DIR, cluster $cluster, $NODES node(s) x $CPUS cpu(s) x ${MEMORY} MiB, $GPUS gpu(s); slurmctld port ${ports[0]}, slurmd ports ${ports[*]:1}"
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

  *) die "unknown command '$cmd' (start, stop, status, stop-ctld, start-ctld)" ;;
esac
