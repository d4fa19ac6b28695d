#!/usr/bin/env bash
# Preemption on the one-node test cluster: two cells of a grid submitted with --executor slurm; once each has written
# its first checkpoint, task 0 is requeued from outside (`scontrol requeue`, as an administrator or a node failure
# does) and task 1 gets the time-limit warning (`scancel -b -s USR2`, what --signal=B:USR2@120 sends): it checkpoints,
# ends "interrupted" and requeues itself. Both must resume from their checkpoints and end with metrics.json, evidence
# and the final checkpoint byte-identical to the local executor's uninterrupted run.
#   usage: test_requeue.sh CLCP_BENCH WORK
set -euo pipefail
BIN=$(realpath "$1")
W=$(realpath -m "$2")
source "$(dirname "$0")/env.sh"
require_cluster
T=$W/requeue
rm -rf "$T"
mkdir -p "$T/slurm"
t_start=$SECONDS

# The grid test's two cells (random and a file init, seed 0) on its data: its local bundles are the reference.
# CTest runs the grid test first (DEPENDS); without its folders there is nothing to compare with.
G=$W/grid
REF=$G/local/results/dg_acdc
[ -f "$G/synth/SYNTH.json" ] && [ -f "$G/init.safetensors" ] && [ "$(ls -d "$REF"/*.s0-* 2>/dev/null | wc -l)" = 2 ] ||
  die "the grid test's local bundles are missing under $G (run the grid test first: ctest -L slurm)"
GRID=(--protocol dg_acdc --scale ci --init "random,file:$G/init.safetensors" --seed 0 --threads 1 --data-root "$G/synth")

(cd "$T/slurm" && "$BIN" run "${GRID[@]}" --executor slurm --cpus-per-task 1 >"$T/submit.log" 2>&1) ||
  { cat "$T/submit.log"; die "the submission failed"; }
sub=$(tail -1 "$T/submit.log")
job=$(squeue -h -r -o '%i %j' | awk '$2 !~ /-report$/ {split($1, a, "_"); print a[1]; exit}')
[ -n "$job" ] || die "no array job in the queue"
id0=$(basename "$(ls -d "$REF"/random.full.s0-*)")
id1=$(basename "$(ls -d "$REF"/*.s0-* | grep -v "/random\.full\.s0-")")
out=$T/slurm/results/dg_acdc

wait_file "$out/$id0/checkpoints/latest.json" 300  # written after the iteration-6 checkpoint
scontrol requeue "${job}_0"
log "task ${job}_0 (cell $id0) requeued with scontrol after its first checkpoint"
wait_file "$out/$id1/checkpoints/latest.json" 300
scancel -b -s USR2 "${job}_1"
log "task ${job}_1 (cell $id1) sent USR2 (the time-limit warning) after its first checkpoint"

# While they run, status reads the bundles and adds each cell's Slurm task from squeue.
(cd "$T/slurm" && "$BIN" status --protocol dg_acdc) | tee "$T/status-running.txt"
grep -q "\[slurm ${job}_[01] " "$T/status-running.txt" || die "status shows no Slurm task while the tasks are queued"
wait_queue_empty 600
for id in "$id0" "$id1"; do
  l="$sub/logs/$id.log"
  grep -q "restart 0" "$l" || die "$l: no first attempt"
  grep -q "restart 1" "$l" || die "$l: the task was not requeued (no second attempt)"
  grep -q "resuming from its last checkpoint" "$l" || die "$l: the second attempt did not resume from a checkpoint"
  for f in metrics.json evidence/cityscapes_val.jsonl evidence/acdc_val.jsonl checkpoints/iter_12.safetensors; do
    same_bytes "$REF/$id/$f" "$out/$id/$f" "cell $id $f after the requeue"
  done
done
grep -q "SIGUSR2: asking cell $id1 to checkpoint and stop" "$sub/logs/$id1.log" || die "task 1 did not see USR2"
grep -q "interrupted after iteration" "$sub/logs/$id1.log" || die "cell $id1 did not stop at an iteration boundary"
grep -q "requeueing ${job}_1" "$sub/logs/$id1.log" || die "task 1 did not requeue itself"
log "both tasks resumed to byte-identical metrics.json, evidence and iter_12 checkpoint; $((SECONDS - t_start)) s"
echo "----- log of the self-requeued task (cell $id1):"
grep -E "^===|resuming|interrupted" "$sub/logs/$id1.log"
echo "----- log of the task requeued from outside (cell $id0):"
grep -E "^===|resuming" "$sub/logs/$id0.log"
# Passed: the bundles (checkpoints of 100 MB and more) go; a failure keeps them for inspection.
rm -rf "$T" "$W/grid"
