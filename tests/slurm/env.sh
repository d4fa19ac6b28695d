# Sourced by the Slurm tests: the one-node cluster of tests/slurm/cluster.sh and small helpers.
# Needs W (the cluster's work folder) set by the caller.
export SLURM_CONF="$W/etc/slurm.conf"
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { log "FAIL: $*"; exit 1; }

require_cluster() {
  if [ ! -s "$W/run/slurmctld.pid" ] || ! sinfo -h -o %t >/dev/null 2>&1; then
    [ "$(id -u)" -ne 0 ] && { log "SKIP: no test cluster (it needs root)"; exit 77; }
    die "the test cluster under $W is not running (tests/slurm/cluster.sh start $W)"
  fi
}

# Waits until squeue lists no job at all (the cluster is the test's own), at most $1 seconds.
wait_queue_empty() {
  local limit=$1 t0=$SECONDS
  while [ -n "$(squeue -h -o %i 2>/dev/null)" ]; do
    (( SECONDS - t0 > limit )) && { squeue; die "jobs still queued after ${limit}s"; }
    sleep 1
  done
}

# Waits until file $1 exists, at most $2 seconds.
wait_file() {
  local t0=$SECONDS
  while [ ! -e "$1" ]; do
    (( SECONDS - t0 > $2 )) && die "$1 did not appear within $2 s"
    sleep 0.2
  done
}

same_bytes() {  # a b what
  cmp -s "$1" "$2" || die "$3 differs: $1 vs $2"
}
