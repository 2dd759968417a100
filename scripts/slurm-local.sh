#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, to run docs/slurm-sweep.sh for real (CI does: scripts/slurm-sweep-check.sh).
#
#   sudo scripts/slurm-local.sh start    # munged + slurmctld + slurmd as root; prints the SLURM_CONF to export
#   export SLURM_CONF=/tmp/noether-slurm/slurm.conf; sbatch …; squeue; sinfo
#   sudo scripts/slurm-local.sh stop     # stops the three daemons it started
#   scripts/slurm-local.sh status
#
# Debian 12 packages: slurm-wlm and munge (installed when missing). Everything it writes stays in $SLURM_LOCAL_DIR
# (default /tmp/noether-slurm): its own munge key and socket, slurm.conf, state, spool, logs and pid files; the
# machine's /etc/slurm and /etc/munge are not touched, and no systemd unit is started. One node (this machine, its
# CPUs and memory as `slurmd -C` reports them), one partition `local`, SelectType=select/cons_tres (cores and
# memory are consumable: a task asking for 2 CPUs on a 2-CPU node runs alone). Daemons listen on 127.0.0.1 only,
# ports $SLURM_LOCAL_PORT (slurmctld, default 16817) and +1 (slurmd).
set -euo pipefail

dir=${SLURM_LOCAL_DIR:-/tmp/noether-slurm}
port=${SLURM_LOCAL_PORT:-16817}
conf=$dir/slurm.conf
socket=$dir/munge/munge.socket
export SLURM_CONF=$conf

die() { echo "slurm-local: $*" >&2; exit 1; }
pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
  [[ $(id -u) -eq 0 ]] || die "start must run as root (slurmd runs jobs as their user)"
  if pid_alive "$dir/slurmctld.pid" || pid_alive "$dir/slurmd.pid"; then die "already running in $dir (stop it first: $0 stop)"; fi
  local need=()
  for pkg in slurm-wlm munge; do
    [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" == "install ok installed" ]] || need+=("$pkg")
  done
  if ((${#need[@]})); then
    echo "slurm-local: installing ${need[*]} …"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
  fi

  rm -rf "$dir"
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
  chmod 700 "$dir/munge"
  # A fresh key for this cluster only (munged wants it 0600 and owned by the user it runs as).
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1 count=1024 status=none
  chmod 600 "$dir/munge/munge.key"
  munged --force --socket="$socket" --key-file="$dir/munge/munge.key" --pid-file="$dir/munged.pid" \
    --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed"

  local node host
  host=$(hostname -s)
  # "NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24105"
  node=$(slurmd -C | head -n 1)
  [[ "$node" == NodeName=* ]] || die "slurmd -C printed no node line: $node"
  cat > "$conf" <<EOF
# Written by scripts/slurm-local.sh: a single-node cluster for testing.
ClusterName=noether-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
# No cgroups: the processes of a job are tracked by their parent ids, tasks are not confined.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Start a queued job as soon as the node frees (the default waits up to 3 s: batch_sched_delay).
SchedulerParameters=batch_sched_delay=0
ReturnToService=2
# A failed shard cancels its merge job (afterok can no longer be satisfied) instead of leaving it pending.
DependencyParameters=kill_invalid_depend
MaxArraySize=1001
MailProg=/bin/true
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  slurmctld -f "$conf"
  slurmd -f "$conf"
  # Ready when the node is idle (slurmd registered with slurmctld).
  local state=""
  for _ in $(seq 1 60); do
    state=$(sinfo -h -n "$host" -o %t 2>/dev/null || true)
    [[ "$state" == idle ]] && break
    sleep 0.5
  done
  if [[ "$state" != idle ]]; then
    echo "slurm-local: the node did not become idle within 30 s (state '${state:-none}'); logs:" >&2
    tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
    stop
    exit 1
  fi
  sinfo
  echo "slurm-local: running; clients need: export SLURM_CONF=$conf"
}

stop() {
  local stopped=0
  # slurmd first (it may still be running job steps), then the controller, then munge.
  for d in slurmd slurmctld munged; do
    if pid_alive "$dir/$d.pid"; then
      local pid
      pid=$(cat "$dir/$d.pid")
      kill "$pid"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
      stopped=$((stopped + 1))
    fi
  done
  echo "slurm-local: stopped $stopped daemon(s) of $dir"
}

status() {
  for d in munged slurmctld slurmd; do
    if pid_alive "$dir/$d.pid"; then echo "$d: running (pid $(cat "$dir/$d.pid"))"; else echo "$d: not running"; fi
  done
  if pid_alive "$dir/slurmctld.pid"; then sinfo; squeue; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status   (state in \$SLURM_LOCAL_DIR, default /tmp/noether-slurm)" >&2; exit 2 ;;
esac
