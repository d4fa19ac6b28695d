// Does this scale measure anything? A protocol may name inits as controls (protocol key "controls"): a positive
// control is an encoder known to be better than the reference (e.g. supervised pretraining on labels of the same
// world), a negative control one known not to be (e.g. CLCP on shuffled camera–lidar pairs). Each control is
// compared with the reference init (random, else imagenet) through the paired bootstrap of `compare`
// (compare.hpp), and classified:
//   positive: "detected"      Δ's CI above 0 on the source and on the target (pooled), else "not detected";
//   negative: "not better"    Δ's CI not above 0 on either, else "better" (the benchmark rewards a broken method);
//   either:   "cannot detect" fewer than min_images images on the source or the target (percentile-bootstrap CIs
//                             from so few resampling units are unreliable), or no paired Δ at all.
// The scale answers the question only when every declared control passes ("detected" / "not better").
//
// Minimum detectable effect (MDE) of a paired comparison at two-sided level α and power 1−β, normal approximation:
//   MDE = (z_{1−α/2} + z_{1−β}) · SE,
// SE = the bootstrap standard error of Δ (two-level: seeds, then images; Delta::se). The scale's MDE is the root
// mean square of SE over its paired comparisons, times that factor (α 0.05, power 0.8: 2.80·SE). In mIoU points.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "suite/stats/compare.hpp"

namespace clcp::stats {

/// Protocol key "controls": {"positive": [init, ...], "negative": [init, ...]} (inits of the protocol's scale).
struct Controls {
  std::vector<std::string> positive, negative;
  bool empty() const { return positive.empty() && negative.empty(); }
};

struct SensitivityOptions {
  double alpha = 0.05, power = 0.8;
  int64_t min_images = 20;  ///< fewer images on the source or the target → "cannot detect"
};

struct ControlCheck {
  std::string init, role;  ///< role: "positive" | "negative"
  std::string outcome;     ///< detected | not detected | not better | better | cannot detect | not run
  bool passes = false;
  Delta source, target;    ///< control − reference (fractions)
  std::string line;        ///< one sentence for the report and `compare`
};

/// The MDE formula: (z_{1−α/2} + z_{power}) · se. se and the result in the same unit.
double minimum_detectable_effect(double se, double alpha, double power);

/// Classifies one control from its comparison with the reference (B = the control). `reference`: the reference's
/// init name (for the sentence).
ControlCheck check_control(const std::string& init, const std::string& role, const std::string& reference,
                           const CompareResult& r, const SensitivityOptions& o = {});
/// A declared control with no finished run paired with the reference: outcome "not run" (fails).
ControlCheck missing_control(const std::string& init, const std::string& role, const std::string& why);

struct Sensitivity {
  std::string reference;
  std::vector<ControlCheck> checks;
  double mde_source_points = kNaN, mde_target_points = kNaN;  ///< mIoU points; NaN without paired comparisons
  int64_t comparisons = 0;                                    ///< paired comparisons behind the MDE
  bool answers = false;   ///< every declared control passes
  std::string headline;   ///< the report's first line about the scale
  std::string mde_line;   ///< "this scale detects Δ ≥ … mIoU points …"
  /// Seeds per side to detect a 1-point effect on the target (compare.hpp's seeds_needed), the most any comparison
  /// needs; "" when no comparison has ≥ 2 seeds per side (seeds_line then says so).
  std::optional<int64_t> seeds_for_one_point;
  std::string seeds_line;
};

/// checks: one per declared control; comparisons: every paired comparison against the reference (for the MDE).
Sensitivity assess_sensitivity(const std::string& reference, std::vector<ControlCheck> checks,
                               const std::vector<const CompareResult*>& comparisons, const SensitivityOptions& o = {});

}  // namespace clcp::stats
