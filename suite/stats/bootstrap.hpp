// Image-level and two-level (seeds, then images) percentile bootstrap of mIoU and rPD from per-image evidence
// (anchors.md §C and "no anchor has this yet" items 1–3). Each replicate resamples images *within strata*: the source
// set is one stratum, every target condition is its own stratum (so a condition never loses all its images), and
// source and target are drawn independently. The replicate's mIoU is recomputed from the summed counts exactly as
// compute_metrics (metrics.hpp): IoU_c = ΣI_c/ΣU_c (NaN where ΣU_c = 0), mIoU = nanmean over the 19 classes.
// With several runs (seeds) the statistic is the mean over runs; each replicate first resamples runs with
// replacement, then images within each drawn run. With one run this is the plain image bootstrap.
//
// Randomness (DESIGN.md "Determinism"): images of stratum s in run slot j of replicate r are drawn from
// clcp::Stream(seed, "bootstrap", r, j * kStrataPerSlot + s) (slot 0 → Stream(seed, "bootstrap", r, s)); the runs of
// replicate r from clcp::Stream(seed, "bootstrap-seeds", r, 0). Same inputs and options → identical bytes.
// Values are fractions in [0,1] as metrics.json (reports multiply by 100).
#pragma once
#include <array>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "suite/eval/evidence.hpp"

namespace clcp::stats {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
/// Stream sample keys per run slot: stratum s of slot j uses sample j * kStrataPerSlot + s (s < kStrataPerSlot).
inline constexpr uint64_t kStrataPerSlot = 256;

struct BootstrapOptions {
  int64_t replicates = 2000;  ///< number of bootstrap replicates (≥ 1)
  uint64_t seed = 0;          ///< bootstrap seed (recorded in every output)
  double level = 0.95;        ///< two-sided CI level: percentiles (1−level)/2 and (1+level)/2
  nlohmann::json to_json() const;  ///< {"replicates", "seed", "level", "method": "percentile", "strata": …}
};

/// A point estimate with its percentile CI; NaN where undefined (e.g. no finite replicate).
struct Estimate {
  double value = kNaN, lo = kNaN, hi = kNaN;
  nlohmann::json to_json() const;  ///< {"value", "lo", "hi"}, NaN as null
};

/// Percentile of `values` (NaN entries ignored) with numpy's default "linear" rule: h = (n−1)·q,
/// x[⌊h⌋] + (h−⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]) on the sorted finite values. q in [0,1]. NaN if no finite value.
double percentile(std::vector<double> values, double q);

/// Per-image counts of one stratum, packed for resampling: row i = intersect[19] then union[19]
/// (union = pred_area + label_area − intersect; sums of per-image unions equal the union of the sums).
struct CountMatrix {
  std::vector<std::string> ids;  ///< ImageEvidence::id per row
  std::vector<int64_t> counts;   ///< [rows, 2·19] row-major
  size_t rows() const { return ids.size(); }
  void append(const ImageEvidence& ev);
};

/// One run's evidence split into strata: strata[0] = source, strata[1 + k] = target condition conditions[k].
struct StratifiedRun {
  int64_t seed = 0;
  std::vector<std::string> conditions;  ///< target conditions, sorted ("" for a target without conditions)
  std::vector<CountMatrix> strata;
};

/// Throws UserError if `source` or a condition is empty or there are ≥ kStrataPerSlot strata.
StratifiedRun stratify(const std::vector<ImageEvidence>& source, const std::vector<ImageEvidence>& target,
                       int64_t seed);

/// mIoU (compute_metrics semantics) of summed counts: sums[0..18] = ΣI, sums[19..37] = ΣU.
double miou_from_sums(const int64_t* sums);
/// rPD = target / source; NaN if either is NaN or the source is 0 (as summarise()).
double rpd_of(double miou_target, double miou_source);

/// The image indices (n draws, uniform with replacement from [0, n)) of stratum `stratum` in run slot `slot` of
/// replicate `replicate`. Exposed so tests (and numpy cross-checks) can replay the exact resamples.
std::vector<int64_t> draw_images(uint64_t seed, int64_t replicate, uint64_t slot, uint64_t stratum, int64_t n);
/// The run indices (k draws from [0, k)) of replicate `replicate`; {0} when k = 1 (no draw).
std::vector<int64_t> draw_runs(uint64_t seed, int64_t replicate, int64_t k);

/// Per-replicate values of the statistics (mean over run slots), one vector entry per replicate.
struct Replicates {
  std::vector<double> source, target, rpd;          ///< mIoU source, mIoU target pooled, rPD
  std::vector<std::vector<double>> conditions;      ///< [condition][replicate]
};

/// Two-level bootstrap for one or more *arms* resampled with the same draws (paired comparison): every arm must
/// have the same number of runs, conditions and rows per stratum, and rows must be aligned (same image order) —
/// arm a's run i is paired with arm b's run i. Returns one Replicates per arm. Throws UserError on a mismatch.
std::vector<Replicates> bootstrap_replicates(const std::vector<std::vector<StratifiedRun>>& arms,
                                             const BootstrapOptions& opts);

/// Full-data statistics of one run (no resampling): {source, target, rpd, conditions...} as compute_metrics.
struct RunValues {
  double source = kNaN, target = kNaN, rpd = kNaN;
  std::vector<double> conditions;
};
RunValues run_values(const StratifiedRun& run);

}  // namespace clcp::stats
