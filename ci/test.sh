#!/usr/bin/env bash
# The README's second command (and CI's): install, build, run the whole test suite with CTest, two tests at a time
# (a test that uses both cores — PROCESSORS 2 in tests/CMakeLists.txt — runs alone). Labels select parts:
#   CLCP_TEST_LABELS=unit bash ci/test.sh   the in-process fast tests only (the inner loop, about a minute);
#   others: slow, e2e, parity, slurm, docs, and each stage's name (docs/testing.md).
#   default tier:              everything but the tests labelled "full"
#   CLCP_TEST_TIER=full:       adds them: the [visual] report checks (headless Chromium screenshot, pdflatex +
#                              pdftoppm; images in build/release/visual/)
#   CLCP_TEST_TIER=sanitize:   the unit tests (parity oracles left out) built with the debug-sanitize preset
#                              (AddressSanitizer + UndefinedBehaviorSanitizer, build/debug-sanitize); any report
#                              fails its test. Not in .ci/run: see README "Test tiers" for its measured wall time.
#   CLCP_TEST_TIER=fuzz:       ci/fuzz.sh (libFuzzer harnesses of the readers, bounded time)
set -euo pipefail
cd "$(dirname "$0")/.."
case "${CLCP_TEST_TIER:-}" in
  fuzz) exec bash ci/fuzz.sh ;;
  sanitize)
    bash ci/setup.sh none
    printf '\n[test] building the debug-sanitize preset (ASan + UBSan, build/debug-sanitize)\n' >&2
    cmake --preset debug-sanitize >/dev/null
    ninja -C build/debug-sanitize -j"$(nproc)"
    printf '\n[test] running the unit tests under ASan + UBSan (parity oracles left out)\n' >&2
    cd build/debug-sanitize
    rm -rf test-tmp
    # halt_on_error: a UBSan report fails the test as an ASan one does. LeakSanitizer: suppressions name the
    # process-lifetime allocations of LibTorch and OpenCV (not of our code).
    export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    export LSAN_OPTIONS=suppressions=$PWD/../../ci/lsan.supp
    exec ctest --output-on-failure -j1 --timeout 3600 -LE full -E '^parity: '
    ;;
esac
bash ci/setup.sh
printf '\n[test] running the test suite (ctest)\n' >&2
cd build/release
# The tests' scratch folders (tests/catch_main.cpp) live here; clear what a killed test may have left last time.
rm -rf test-tmp slurm-test
# Default tier: everything but the tests labelled "full". CLCP_TEST_TIER=full adds them: the [visual] report
# checks (headless Chromium screenshot, pdflatex + pdftoppm; images in build/release/visual/). The default tier
# includes the exact regression gate (cli: "the exact gate passes against the committed baselines on any CPU …":
# clcp-bench gate --tier exact against baselines/regression/, then against this build's own recording) and the
# tests labelled "slurm": a real one-node Slurm installed and started by tests/slurm/cluster.sh (root only; they
# skip visibly otherwise).
# The suite's scratch folders peak at about 7 GB (docs/testing.md#disk); say what the disk has, so a run that fills
# it reads as that.
df -h . | awk 'NR==2 {printf "[test] disk: %s free of %s before the tests\n", $4, $2}' >&2
rc=0
select=()
[ "${CLCP_TEST_TIER:-}" = full ] || select+=(-LE full)
[ -n "${CLCP_TEST_LABELS:-}" ] && select+=(-L "$CLCP_TEST_LABELS")
ctest --output-on-failure -j2 --timeout 1800 "${select[@]}" || rc=$?
# Catch2's own count of what the passing tests checked (each test case prints its summary line into ctest's log).
awk '/All tests passed \(/ {gsub(/[(]/, ""); a += $4} END {printf "[test] assertions checked by the passing tests: %d\n", a}' \
  Testing/Temporary/LastTest.log >&2 || true
# The fixtures cached across test processes (about 3.4 GB) go too: the disk may be shared with other jobs.
rm -rf test-tmp
exit $rc
