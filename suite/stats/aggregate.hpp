// Aggregation over seeds for one (init, finetune mode) group of a protocol (anchors.md §C recommendation): mean ± sd
// (sample sd, n−1) over the finished runs, plus two-level bootstrap CIs (bootstrap.hpp) of the mean, for mIoU source,
// mIoU target pooled, rPD and mIoU of every target condition. Every run given is listed with its state — failed and
// unfinished runs too ("all runs reported"); only finished runs enter the numbers. Values are fractions in [0,1].
#pragma once
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "suite/stats/bootstrap.hpp"

namespace clcp::stats {

/// Mean and sample standard deviation over runs; sd is NaN for n < 2, both NaN for n = 0.
struct MeanSd {
  double mean = kNaN, sd = kNaN;
  int64_t n = 0;
  nlohmann::json to_json() const;  ///< {"mean", "sd", "n"}, NaN as null
};
MeanSd mean_sd(const std::vector<double>& values);

/// One metric of a group: seed-level mean ± sd and the bootstrap CI of the mean (ci.value == seeds.mean).
struct MetricSummary {
  MeanSd seeds;
  Estimate ci;
  nlohmann::json to_json() const;  ///< {"mean", "sd", "n", "ci": [lo, hi]}
};

/// One run of the group as listed in reports.
struct RunEntry {
  std::string cell_id, bundle_dir, state, error;  ///< state: done | running | failed | none
  int64_t seed = 0;
  std::optional<double> miou_source, miou_target, rpd;          ///< only for done runs
  std::map<std::string, std::optional<double>> miou_conditions;  ///< only for done runs
  nlohmann::json to_json() const;
};

struct GroupSummary {
  std::string protocol, fingerprint, init, finetune_mode;
  std::vector<RunEntry> runs;            ///< every bundle given, sorted by seed then cell id
  int64_t runs_done = 0;
  std::vector<std::string> conditions;   ///< target conditions, sorted
  MetricSummary miou_source, miou_target, rpd;
  std::map<std::string, MetricSummary> miou_conditions;
  BootstrapOptions bootstrap;            ///< replicates, seed and level used (recorded in the output)
  nlohmann::json to_json() const;        ///< canonical, deterministic (same inputs → same bytes)
};

/// Summarises bundles that all share (fingerprint, init, finetune mode); throws UserError naming the odd bundle
/// otherwise, or if `bundle_dirs` is empty. With no finished run the numbers are NaN (n = 0).
/// allow_unverified: use finished bundles that fail verification (integrity.hpp) instead of stopping.
GroupSummary summarise_group(const std::vector<std::filesystem::path>& bundle_dirs, const BootstrapOptions& opts,
                             bool allow_unverified = false);

/// Groups bundles by (init, finetune mode) (sorted) and summarises each. All must share one fingerprint.
std::vector<GroupSummary> summarise_groups(const std::vector<std::filesystem::path>& bundle_dirs,
                                           const BootstrapOptions& opts, bool allow_unverified = false);

}  // namespace clcp::stats
