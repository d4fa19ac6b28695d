#!/usr/bin/env bash
# A 2 inits x 1 seed grid at the ci scale (random and a file init), run by the local executor and as a Slurm job
# array on the one-node test cluster (tests/slurm/cluster.sh): every cell must be done through Slurm, with
# metrics.json, the evidence and the final checkpoint byte-identical to the local executor's, the same report files,
# and one log per cell. The requeue test (test_requeue.sh) resubmits these two cells and compares with the same
# local bundles.
#   usage: test_grid.sh CLCP_BENCH WORK
set -euo pipefail
BIN=$(realpath "$1")
W=$(realpath -m "$2")
source "$(dirname "$0")/env.sh"
require_cluster
T=$W/grid
rm -rf "$T"
mkdir -p "$T/local" "$T/slurm"
export SOURCE_DATE_EPOCH=1767225600  # the reports' "Generated" line, the same on both sides
t_start=$SECONDS

"$BIN" data synth --out "$T/synth" --seed 5 --train-images 8 --val-images 4 --acdc-per-condition 2 >/dev/null 2>&1
# The second init: the weights of a short finished run (any ViT-S/16 safetensors file would do).
"$BIN" run --protocol dg_acdc --scale ci --init random --seed 9 --threads 1 --data-root "$T/synth" --out "$T/prep" \
  >"$T/prep.log" 2>&1 || { cat "$T/prep.log"; die "the preparatory run failed"; }
cp "$T"/prep/dg_acdc/random.full.s9-*/checkpoints/iter_12.safetensors "$T/init.safetensors"
GRID=(--protocol dg_acdc --scale ci --init "random,file:$T/init.safetensors" --seed 0 --threads 1
      --data-root "$T/synth")

t0=$SECONDS
(cd "$T/local" && "$BIN" run "${GRID[@]}" >"$T/local.log" 2>&1) || { cat "$T/local.log"; die "the local run failed"; }
log "local executor: 2 cells in $((SECONDS - t0)) s"

t0=$SECONDS
(cd "$T/slurm" && "$BIN" run "${GRID[@]}" --executor slurm --cpus-per-task 1 --time 00:20:00 >"$T/submit.log" 2>&1) ||
  { cat "$T/submit.log"; die "the submission failed"; }
cat "$T/submit.log"
sub=$(tail -1 "$T/submit.log")
[ -f "$sub/cell.sbatch" ] || die "no cell.sbatch in the submission folder '$sub'"
log "submitted: $(squeue -h -r -o '%i %j %T' | tr '\n' ';')"
wait_queue_empty 900
log "Slurm executor: 2 cells and the report job in $((SECONDS - t0)) s"
(cd "$T/slurm" && "$BIN" status --protocol dg_acdc) | tee "$T/status.txt"
grep -q "2 cells: 2 done" "$T/status.txt" || die "not every cell is done"

n=0
for cell in "$T"/local/results/dg_acdc/*.s[0-9]-*/; do
  id=$(basename "$cell")
  s="$T/slurm/results/dg_acdc/$id"
  [ -d "$s" ] || die "cell $id has no Slurm bundle"
  [ "$(grep -o '"state": "[a-z]*"' "$s/status.json")" = '"state": "done"' ] || die "cell $id is not done"
  for f in metrics.json evidence/cityscapes_val.jsonl evidence/acdc_val.jsonl checkpoints/iter_12.safetensors; do
    same_bytes "$cell/$f" "$s/$f" "cell $id $f"
  done
  grep -q "=== .* cell $id (plan index [0-9]): Slurm task [0-9]*_[0-9] (job [0-9]*), restart 0" "$sub/logs/$id.log" ||
    die "logs/$id.log has no attempt header"
  grep -q '"SLURM_ARRAY_JOB_ID"' "$s/provenance.json" || die "cell $id's provenance does not name its Slurm task"
  n=$((n + 1))
done
[ "$n" = 2 ] || die "expected 2 local cells, found $n"
log "2 cells: metrics.json, evidence and iter_12 checkpoint byte-identical to the local executor's"

for f in report.md report.csv report.json report.tex report.html; do
  same_bytes "$T/local/results/dg_acdc/report-ci/$f" "$T/slurm/results/dg_acdc/report-ci/$f" "the report's $f"
done
grep -q "report" "$sub/logs/report.log" || die "the report job left no log"
log "report (md, csv, json, tex, html) identical; whole test $((SECONDS - t_start)) s"
# Passed: drop what the requeue test does not reuse (it reuses local/, synth/ and init.safetensors), ~1 GB.
rm -rf "$T/slurm" "$T/prep"
