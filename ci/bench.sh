#!/usr/bin/env bash
# Speed, side by side, with the same thread count: clcp-bench's LibTorch model (tests/bench/bench_model.cpp, Google
# Benchmark) and the PyTorch + mmseg 1.2.2 oracle model (tests/parity/bench_torch.py): fp32 GEMM rate, Segmenter
# ViT-S/16 forward and forward+backward at batch 8, 224² (fp32, and when the CPU has avx512_bf16/AMX: bf16 weights,
# and bf16 autocast with fp32 weights — "amp", what train.precision "bf16" runs — against torch.autocast), slide
# inference of one 1024×2048 frame; then a profile of one finetune train step per precision
# (tests/bench/profile_step.cpp, LibTorch's profiler) as shares of time per op kind (tests/parity/profile_shares.py).
# Writes $OUT/{clcp.json,torch.json,summary.md,profile.md,step_*.trace.json} and prints the Markdown tables that
# docs/performance.md quotes. Run it on a quiet machine: it warns when the 1-minute load is above 2.5.
#   CLCP_BUILD_DIR (default build/release), CLCP_BENCH_THREADS (default 2), CLCP_BENCH_OUT (default build/bench)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${CLCP_BUILD_DIR:-build/release}
THREADS=${CLCP_BENCH_THREADS:-2}
OUT=${CLCP_BENCH_OUT:-build/bench}
mkdir -p "$OUT"
say() { printf '\n[bench] %s\n' "$*" >&2; }

load=$(cut -d' ' -f1 /proc/loadavg)
if awk "BEGIN{exit !($load > 2.5)}"; then say "WARNING: load average $load > 2.5; timings will be low — rerun when quiet"; fi
[ -x build/oracle-venv/bin/python ] || { say "no build/oracle-venv: run ci/setup.sh first"; exit 1; }

say "building bench_model in $BUILD"
ninja -C "$BUILD" bench_model profile_step >/dev/null
say "clcp-bench (LibTorch), $THREADS threads"
CLCP_BENCH_THREADS=$THREADS OMP_NUM_THREADS=$THREADS "$BUILD/tests/bench_model" --benchmark_min_time=3 \
  --benchmark_out="$OUT/clcp.json" --benchmark_out_format=json
say "PyTorch + mmseg, $THREADS threads"
OMP_NUM_THREADS=$THREADS build/oracle-venv/bin/python tests/parity/bench_torch.py "$OUT/torch.json" --threads "$THREADS"
build/venv/bin/python tests/parity/bench_table.py "$OUT/clcp.json" "$OUT/torch.json" | tee "$OUT/summary.md"
say "one finetune train step per precision under LibTorch's profiler (3 steps each)"
CLCP_BENCH_THREADS=$THREADS OMP_NUM_THREADS=$THREADS "$BUILD/tests/profile_step" "$OUT" 3 >/dev/null
build/venv/bin/python tests/parity/profile_shares.py "$OUT"/step_fp32.trace.json $(ls "$OUT"/step_bf16.trace.json 2>/dev/null) | tee "$OUT/profile.md"
isa="no bf16 matrix ISA"
for f in avx512_bf16 amx_bf16; do grep -qw "$f" /proc/cpuinfo && isa=$f; done
say "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); CPU:$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2) ($isa)"
