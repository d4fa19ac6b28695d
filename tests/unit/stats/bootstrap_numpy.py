"""Independent numpy re-computation of the clcp-bench two-level bootstrap (used by test_numpy.cpp).

Input JSON: {"runs": [{"strata": [{"I": [[19]...], "U": [[19]...]}, ...]}], "level": 0.95,
             "replicates": [{"runs": [k ints], "images": [[slot][stratum] -> [indices]]}]}
Stratum 0 is the source, strata 1.. the target conditions. Output JSON: per-replicate source/target/rPD (mean over
slots) and np.percentile CIs. mIoU = nanmean over classes of sum(I)/sum(U) (NaN where sum(U) == 0).
"""
import json
import sys

import numpy as np


def miou(i, u):
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(u > 0, i / np.where(u > 0, u, 1), np.nan)
    return float(np.nanmean(iou)) if np.any(u > 0) else float("nan")


def main(src, dst):
    d = json.load(open(src))
    runs = [[(np.array(s["I"], dtype=np.int64), np.array(s["U"], dtype=np.int64)) for s in r["strata"]]
            for r in d["runs"]]
    out = {"source": [], "target": [], "rpd": []}
    for rep in d["replicates"]:
        vals = {"source": [], "target": [], "rpd": []}
        for slot, run_idx in enumerate(rep["runs"]):
            strata = runs[run_idx]
            sums = [(st[0][np.array(ix)].sum(axis=0), st[1][np.array(ix)].sum(axis=0))
                    for st, ix in zip(strata, rep["images"][slot])]
            s = miou(*sums[0])
            t = miou(sum(x[0] for x in sums[1:]), sum(x[1] for x in sums[1:]))
            vals["source"].append(s)
            vals["target"].append(t)
            vals["rpd"].append(t / s)
        for k in out:
            out[k].append(float(np.mean(vals[k])))
    q = [100 * (1 - d["level"]) / 2, 100 * (1 + d["level"]) / 2]
    res = {k: {"replicates": v, "ci": [float(x) for x in np.percentile(np.array(v), q)]} for k, v in out.items()}
    json.dump(res, open(dst, "w"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
