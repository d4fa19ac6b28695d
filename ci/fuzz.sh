#!/usr/bin/env bash
# The fuzz tier (README "Test tiers"): builds the libFuzzer harnesses of the readers with clang-14, ASan and UBSan
# (CMake preset `fuzz`, build/fuzz), seeds them from corpora made like the test fixtures (tests/fuzz/make_seeds.py),
# runs each for CLCP_FUZZ_SECONDS (default 120) and prints executions, coverage and corpus size per harness
# (build/fuzz/summary.md). A crash, leak, timeout or sanitizer report stops the tier (exit 1); its input is kept
# in build/fuzz/crashes/<harness>/ — add it to tests/fuzz/regressions/<harness>/ with the fix, where the unit tests
# replay it (tests/unit/models/test_fuzz_regressions.cpp).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${CLCP_FUZZ_SECONDS:-120}
harnesses=(fuzz_safetensors fuzz_pickle_rewrite fuzz_torch_zip fuzz_protocol fuzz_npz)
bash ci/setup.sh none  # Debian packages (clang-14, libclang-rt-14-dev) and build/venv (LibTorch, seed makers)
printf '\n[fuzz] building the harnesses (preset fuzz, clang++-14)\n' >&2
cmake --preset fuzz >/dev/null
ninja -C build/fuzz -j"$(nproc)" "${harnesses[@]}"
rm -rf build/fuzz/seeds && build/venv/bin/python tests/fuzz/make_seeds.py build/fuzz/seeds "$PWD" >&2
summary=build/fuzz/summary.md
printf '| harness | seconds | executions | exec/s | edges covered / instrumented | features | corpus | result |\n|---|---|---|---|---|---|---|---|\n' > "$summary"
status=0
for h in "${harnesses[@]}"; do
  corpus=build/fuzz/corpus/$h crashes=build/fuzz/crashes/$h log=build/fuzz/$h.log
  mkdir -p "$corpus" "$crashes"
  regressions=(); [ -d "tests/fuzz/regressions/$h" ] && regressions=("tests/fuzz/regressions/$h")
  dict=(); [ "$h" = fuzz_protocol ] && dict=(-dict=tests/fuzz/json.dict)
  printf '\n[fuzz] %s for %ss\n' "$h" "$seconds" >&2
  # ASan's leak check is off: LibTorch keeps process-lifetime allocations that are not leaks of ours.
  rc=0
  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "build/fuzz/$h" "$corpus" "build/fuzz/seeds/$h" "${regressions[@]}" "${dict[@]}" -max_total_time="$seconds" \
    -timeout=20 -rss_limit_mb=4096 -max_len=1048576 -print_final_stats=1 -artifact_prefix="$crashes/" \
    > "$log" 2>&1 || rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' <<<"$last" | grep -o '[0-9]*' || echo '?')
  ft=$(grep -o 'ft: [0-9]*' <<<"$last" | grep -o '[0-9]*' || echo '?')
  corp=$(grep -o 'corp: [0-9]*' <<<"$last" | grep -o '[0-9]*' || echo '?')
  # Instrumented edges: the readers under test (all four harnesses link the same library) and the harness.
  total=$(grep -o 'Loaded 1 modules *([0-9]* inline 8-bit counters)' "$log" | grep -o '([0-9]*' | tr -d '(' || echo '?')
  if [[ "$cov" =~ ^[0-9]+$ && "$total" =~ ^[0-9]+$ ]]; then cov="$cov / $total ($((100 * cov / total)) %)"; fi
  result=ok
  if [ "$rc" -ne 0 ]; then result="FAILED (rc $rc, see $log, input in $crashes)"; status=1; fi
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$h" "$seconds" "$execs" "$rate" "$cov" "$ft" "$corp" "$result" >> "$summary"
done
printf '\n' >&2
cat "$summary"
exit $status
