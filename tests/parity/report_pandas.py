"""Reads a report's long-format CSV and JSON with pandas, the way a user would, and prints what pandas sees.

Usage: report_pandas.py REPORT.csv REPORT.json
Prints one line per check as `key value`; the C++ test (tests/unit/parity/test_report_pandas.cpp) compares them
with the numbers the report fixtures were built from. Exit status 3 when pandas does not import (oracle_env).
"""
import sys

try:
    import pandas as pd
except ImportError as e:  # the caller skips visibly
    print(f"pandas does not import: {e}")
    sys.exit(3)

csv_path, json_path = sys.argv[1], sys.argv[2]
csv = pd.read_csv(csv_path)
js = pd.read_json(json_path)

print("rows", len(csv), len(js))
print("same_columns", list(csv.columns) == list(js.columns))
# Numbers must come out as numbers (not strings) so users can aggregate without casting.
print("numeric", all(pd.api.types.is_float_dtype(csv[c]) for c in ("mean", "sd", "ci_low", "ci_high", "value")))


def group(df, experiment, dataset, metric, condition=None):
    sel = df[(df.level == "group") & (df.experiment == experiment) & (df.dataset == dataset) & (df.metric == metric)]
    if condition is not None:
        sel = sel[sel.condition == condition]
    assert len(sel) == 1, (experiment, dataset, metric, condition, len(sel))
    return sel.iloc[0]


for name, df in (("csv", csv), ("json", js)):
    r = group(df, "imagenet", "cityscapes_val", "mIoU")
    print(f"{name}_imagenet_cityscapes {r['mean']:g} {r['sd']:g} {int(r['n'])}")
    r = group(df, "imagenet (fb)", "acdc_val", "mIoU", "pooled")
    print(f"{name}_imagenet_fb_acdc {r['mean']:g} {r['sd']:g} {int(r['n'])} {r['published']:g}")
    failed = df[(df.level == "run") & (df.state == "failed")]
    print(f"{name}_failed_runs {failed.cell_id.nunique()} {failed['value'].isna().all()}")
    seeds = df[(df.level == "run") & (df.experiment == "imagenet") & (df.metric == "mIoU")
               & (df.dataset == "cityscapes_val")].sort_values("seed")
    print(f"{name}_imagenet_seed_values", " ".join(f"{v:g}" for v in seeds["value"]))
