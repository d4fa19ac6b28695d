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
  std::string state;  ///< status.json state: "done" | "running" | "failed" | "none" (no status.json)
  std::string error;  ///< status.json error, "" if none
  std::vector<ImageEvidence> source, target;  ///< filled only when state == "done"
};

/// Reads spec.json, status.json and (if done) the evidence. Throws UserError naming the folder if there is no
/// spec.json, or a done bundle lacks an evidence file.
RunBundle read_run_bundle(const std::filesystem::path& dir);

/// Bundle folders (those holding spec.json) at or below `root`, sorted; `root` itself if it is a bundle.
std::vector<std::filesystem::path> find_bundle_dirs(const std::filesystem::path& root);

}  // namespace clcp::stats
