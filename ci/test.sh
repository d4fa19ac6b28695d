#!/usr/bin/env bash
# The README's second command (and CI's): install, build, run the whole test suite with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
printf '\n[test] running the test suite (ctest)\n' >&2
cd build/release
ctest --output-on-failure -j1 --timeout 1800
