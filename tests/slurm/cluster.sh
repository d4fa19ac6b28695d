#!/usr/bin/env bash
# A real one-node Slurm (Debian bookworm's 22.05) for the Slurm executor's tests, started without systemd
# (scaleout_reference.md §1.2–1.4, §1.10):
#   bash tests/slurm/cluster.sh start WORK   installs slurm-wlm and munge (ci/apt-packages-slurm.txt) if missing,
#                                           writes WORK/etc/slurm.conf, starts munged (unless one answers), slurmctld
#                                           and slurmd, waits until the node is idle
#   bash tests/slurm/cluster.sh stop WORK    stops the daemons it started, by their recorded pids
# Client commands find the cluster through SLURM_CONF=WORK/etc/slurm.conf (tests/slurm/env.sh sets it). The
# cluster's ports (16817/16818), spool, state, logs and pid files are all under WORK, so it never touches an
# installed Slurm's configuration. Needs root (package install, daemons as root); exits 77 (ctest: skipped) otherwise.
set -euo pipefail
cmd=${1:?usage: cluster.sh start|stop WORK}
W=$(realpath -m "${2:?usage: cluster.sh start|stop WORK}")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
say() { printf '[slurm-cluster] %s\n' "$*"; }

stop_pid() {  # name pidfile: SIGTERM, wait up to 10 s, then SIGKILL
  local name=$1 file=$2 pid
  [ -s "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    say "stopped $name (pid $pid)"
  fi
  rm -f "$file"
}

if [ "$cmd" = stop ]; then
  stop_pid slurmd "$W/run/slurmd.pid"
  stop_pid slurmctld "$W/run/slurmctld.pid"
  stop_pid munged "$W/run/munged.pid"
  exit 0
fi
[ "$cmd" = start ] || { echo "usage: cluster.sh start|stop WORK" >&2; exit 2; }

if [ "$(id -u)" -ne 0 ]; then
  say "SKIP: the one-node Slurm needs root (packages, daemons); run the Slurm tests as root"
  exit 77
fi

# 1. Packages, pinned.
mapfile -t pkgs < <(grep -hvE '^\s*(#|$)' "$repo/ci/apt-packages-slurm.txt")
missing=()
for p in "${pkgs[@]}"; do
  [ "$(dpkg-query -W -f='${Version}' "${p%%=*}" 2>/dev/null || true)" = "${p#*=}" ] || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  t0=$(date +%s)
  # policy-rc.d 101: no service is started by the packages' postinst (we start the daemons ourselves).
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
      rm -f /usr/sbin/policy-rc.d
      say "FAILED to install ${missing[*]}: apt-cache policy shows what is available; update ci/apt-packages-slurm.txt"
      exit 1
    }
  fi
  rm -f /usr/sbin/policy-rc.d
  say "installed in $(( $(date +%s) - t0 )) s"
fi

# 2. Configuration: everything under WORK.
node=$(hostname -s)
mkdir -p "$W/etc" "$W/run" "$W/log" "$W/spool/ctld" "$W/spool/d"
hw=$(slurmd -C | head -1 | sed -E "s/^NodeName=[^ ]+ //; s/ UpTime=.*//")
cat > "$W/etc/slurm.conf" <<EOF
# One-node test cluster of clcp-bench (tests/slurm/cluster.sh); every path is under $W.
ClusterName=clcptest
SlurmctldHost=localhost
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=cred_expire=5
StateSaveLocation=$W/spool/ctld
SlurmdSpoolDir=$W/spool/d
SlurmctldPidFile=$W/run/slurmctld.pid
SlurmdPidFile=$W/run/slurmd.pid
SlurmctldLogFile=$W/log/slurmctld.log
SlurmdLogFile=$W/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=1,sched_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=3600
KillWait=10
NodeName=$node NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$W/etc/slurm.conf"

# 3. munged (Debian's key from the package's postinst; the socket folder has no tmpfiles.d without systemd).
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  say "munged: already running"
else
  [ -s /etc/munge/munge.key ] || { mungekey --create --force; chown munge:munge /etc/munge/munge.key; chmod 0400 /etc/munge/munge.key; }
  install -d -o munge -g munge -m 0755 /run/munge
  setsid runuser -u munge -- /usr/sbin/munged -F </dev/null >"$W/log/munged.log" 2>&1 &
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n | unmunge | grep -q 'STATUS: *Success' || { say "munged did not come up: $(tail -3 "$W/log/munged.log")"; exit 1; }
  pgrep -u munge -x munged | head -1 > "$W/run/munged.pid"
  say "munged: up (pid $(cat "$W/run/munged.pid"))"
fi

# 4. slurmctld and slurmd in the foreground mode, detached from this shell (the test runner must not wait on them).
setsid slurmctld -D -c -f "$SLURM_CONF" </dev/null >>"$W/log/slurmctld.out" 2>&1 &
echo $! > "$W/run/slurmctld.pid"
setsid slurmd -D -N "$node" -f "$SLURM_CONF" </dev/null >>"$W/log/slurmd.out" 2>&1 &
echo $! > "$W/run/slurmd.pid"
state=""
for _ in $(seq 300); do
  state=$(sinfo -h -o %t 2>/dev/null || true)
  [ "$state" = idle ] && break
  sleep 0.1
done
if [ "$state" != idle ]; then
  say "the node did not become idle (sinfo: '${state:-no answer}'); slurmctld.log: $(tail -3 "$W/log/slurmctld.log" 2>/dev/null)"
  say "slurmd.log: $(tail -3 "$W/log/slurmd.log" 2>/dev/null)"
  exit 1
fi
say "slurmctld (pid $(cat "$W/run/slurmctld.pid")) and slurmd (pid $(cat "$W/run/slurmd.pid")) up; node $node: $(sinfo -h -N -o '%N %t %c CPUs')"
