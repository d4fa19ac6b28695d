// The regression gate's runs (`clcp-bench gate`): the exact tier renders each baseline's fixture, runs its grid fresh
// through the plan dispatcher (run.hpp) — the ci scale of dg_acdc (dg_acdc-ci, suite/gate/exact.hpp), the ci
// pretraining of a pretraining protocol (clcp_a2d2-ci, suite/gate/pretrain_exact.hpp) — and compares the bundles with
// the baseline; the stat tier compares finished runs of a reference init with baselines/regression/<name>.json
// (suite/gate/stat.hpp). --update rewrites a baseline and prints what changed. Both print their verdict on stdout
// and return the exit code: 0 pass (or updated), 1 regression; input errors throw UserError.
#pragma once
#include <clcp/build_info.hpp>
#include <filesystem>
#include <string>
#include <vector>

namespace clcp::cells {

struct GateOptions {
  std::string tier;
  std::string baseline;          ///< "" → every exact baseline (exact) or dg_acdc-smoke-random (stat)
  std::filesystem::path baselines_dir = std::filesystem::path(build_info::kSourceDir) / "baselines" / "regression";
  std::filesystem::path work;                 ///< exact: "" → <temp>/clcp-bench-gate
  int threads = 0;               ///< exact: 0 → the baseline's threads
  bool update = false, reuse = false;
  std::vector<std::string> bundles;
  std::string command;           ///< the command as typed (provenance of the fresh cells)
};

int gate_exact(const GateOptions& g);
int gate_stat(const GateOptions& g);

}  // namespace clcp::cells
