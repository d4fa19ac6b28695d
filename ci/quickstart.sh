#!/usr/bin/env bash
# The README's first command: install, build the clcp-bench binary (only it: the tests are built by the second
# command, ci/test.sh), render the embedded data, run the dg_acdc protocol at smoke scale on it and print the
# report's path.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh clcp-bench
printf '\n[quickstart] rendering the embedded synthetic data into data/synth\n' >&2
[ -f data/synth/SYNTH.json ] || build/release/clcp-bench data synth --out data/synth
printf '\n[quickstart] running: clcp-bench run --protocol dg_acdc --scale smoke\n' >&2
build/release/clcp-bench run --protocol dg_acdc --scale smoke
printf '\n[quickstart] report: %s\n' "$PWD/results/dg_acdc/report-smoke/report.html" >&2
