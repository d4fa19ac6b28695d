#!/usr/bin/env bash
# The README's first command: install, build the clcp-bench binary (only it: the tests are built by the second
# command, ci/test.sh), render the embedded data, run the dg_acdc protocol at smoke scale on it — CLCP, SimCLR, the
# supervised positive control and the shuffled-pairs negative control pretrained on the embedded A2D2 data, then
# random vs each encoder finetuned and evaluated — print the compare verdicts (which end with the controls' verdict on
# the scale) and the report's path.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh clcp-bench
printf '\n[quickstart] rendering the embedded synthetic data into data/synth\n' >&2
[ -f data/synth/SYNTH.json ] || build/release/clcp-bench data synth --out data/synth
printf '\n[quickstart] running: clcp-bench run --protocol dg_acdc --scale smoke\n' >&2
build/release/clcp-bench run --protocol dg_acdc --scale smoke
for ep in 3 7; do
  printf '\n[quickstart] clcp-bench compare random.frozen clcp-b16-lin@ep%s.frozen\n' "$ep" >&2
  build/release/clcp-bench compare random.frozen "clcp-b16-lin@ep$ep.frozen" --protocol dg_acdc
done
printf '\n[quickstart] report: %s\n' "$PWD/results/dg_acdc/report-smoke/report.html" >&2
