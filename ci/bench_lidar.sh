#!/usr/bin/env bash
# Speed of the lidar encoder, side by side in one run on this machine: clcp-bench's MinkUNet34-W32 on our sparse
# convolution (tests/bench/bench_minkunet.cpp, Google Benchmark; 1 and 2 threads), the same network on spconv 2.3.8's
# CPU path (tests/parity/bench_spconv.py; 1 thread — spconv is wrong with more) and the dense conv3d emulation on a
# small grid. Inputs: the real A2D2 npz of ../shared/realdata cropped as in training (16 windows of 896×896) and a
# synthetic VLP-16-like street scan. Prints the Markdown table of README "Performance". Run it on a quiet machine.
#   CLCP_BUILD_DIR (default build/release), CLCP_BENCH_OUT (default build/bench-lidar)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${CLCP_BUILD_DIR:-build/release}
OUT=${CLCP_BENCH_OUT:-build/bench-lidar}
NPZ=../shared/realdata/a2d2/camera_lidar_semantic_bboxes/20180810_142822/lidar/cam_front_center/20180810142822_lidar_frontcenter_000015196.npz
mkdir -p "$OUT"
say() { printf '\n[bench-lidar] %s\n' "$*" >&2; }
load=$(cut -d' ' -f1 /proc/loadavg)
if awk "BEGIN{exit !($load > 2.5)}"; then say "WARNING: load average $load > 2.5; timings will be low — rerun when quiet"; fi
ninja -C "$BUILD" bench_minkunet >/dev/null
if [ -f "$NPZ" ]; then
  build/venv/bin/python tests/parity/lidar_bench_clouds.py "$NPZ" "$OUT/a2d2_clouds.safetensors" >&2
  export CLCP_BENCH_A2D2=$PWD/$OUT/a2d2_clouds.safetensors
else
  say "no real A2D2 npz at $NPZ: the a2d2 rows are skipped"
fi
for t in 1 2; do
  say "clcp-bench MinkUNet34-W32, $t thread(s)"
  CLCP_BENCH_THREADS=$t OMP_NUM_THREADS=$t "$BUILD/tests/bench_minkunet" --benchmark_min_time=2 \
    --benchmark_out="$OUT/clcp_t$t.json" --benchmark_out_format=json
done
if [ -n "${CLCP_BENCH_A2D2:-}" ]; then
  say "spconv 2.3.8 CPU, 1 thread"
  OMP_NUM_THREADS=1 build/oracle-venv/bin/python tests/parity/bench_spconv.py "$CLCP_BENCH_A2D2" "$OUT/spconv.json" ||
    say "spconv did not run (see above); its column stays empty"
fi
build/venv/bin/python tests/parity/bench_lidar_table.py "$OUT" | tee "$OUT/summary.md"
say "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
