// A result bundle as the statistics see it: identity (init, mode, seed, fingerprint), state, and — for finished
// bundles — the per-image evidence of the source eval split and the target split, read from
// evidence/<source.dataset>_<source.eval_split>.jsonl and evidence/<target.dataset>_<target.split>.jsonl as named
// by the recipe in spec.json (e.g. cityscapes_val, acdc_val).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "suite/eval/evidence.hpp"
#include "suite/results/cell.hpp"

namespace clcp::stats {

struct RunBundle {
  std::filesystem::path dir;
  CellSpec spec;
  std::string state;  ///< observed state: "done" | "running" | "failed" | "interrupted" (also a "running" whose
                      ///< process has ended, cell_lock.hpp) | "none" (no status.json)
  std::string error;  ///< status.json error, "" if none
  std::vector<ImageEvidence> source, target;  ///< filled only when state == "done"
  std::string unverified;  ///< "" when the finished bundle verifies (integrity.hpp), else the problem (only with
                           ///< allow_unverified; otherwise that is an error)
};

/// Reads spec.json, status.json and (if done) the evidence, after verifying the finished bundle (its integrity
/// record and metrics.json recomputed from the evidence, integrity.hpp). Throws UserError naming the folder if
/// there is no spec.json, a done bundle lacks an evidence file, or — unless allow_unverified — it does not verify.
RunBundle read_run_bundle(const std::filesystem::path& dir, bool allow_unverified = false);

/// Bundle folders (those holding spec.json) at or below `root`, sorted; `root` itself if it is a bundle.
std::vector<std::filesystem::path> find_bundle_dirs(const std::filesystem::path& root);

}  // namespace clcp::stats
