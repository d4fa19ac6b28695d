// Paired comparison of two sets of result bundles, A (baseline) and B (candidate), of the same protocol
// fingerprint (anchors.md "no anchor has this yet" item 3). Runs are paired by seed and images by id: every
// bootstrap replicate resamples the same seeds and the same images for A and B (common random numbers), so the CI of
// Δ = B − A excludes the shared image and seed noise. Reports Δ mIoU source, Δ mIoU target pooled and Δ rPD with
// percentile CIs, P(Δ > 0) over replicates, and a verdict: "better" (CI above 0), "worse" (CI below 0), else
// "inconclusive". Seeds needed: two-sample normal approximation at the given power and two-sided α,
// n per side = ⌈2·(z_{1−α/2} + z_{power})²·σ²/δ²⌉ (at least 2), σ² = mean of A's and B's seed-to-seed variances of
// target mIoU, δ = the effect in mIoU points / 100.
#pragma once
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "suite/stats/bootstrap.hpp"
#include "suite/stats/rpd_rule.hpp"

namespace clcp::stats {

struct CompareOptions {
  BootstrapOptions bootstrap;
  double effect_points = 1.0;  ///< effect to detect, in mIoU points (1.0 = 0.01 as a fraction)
  double power = 0.8;
  double alpha = 0.05;         ///< two-sided
  bool allow_unverified = false;  ///< use finished bundles that fail verification (listed in CompareResult::unverified)
};

struct Delta {
  double a = kNaN, b = kNaN;   ///< means over paired runs (fractions)
  Estimate delta;              ///< B − A with CI
  double p_improvement = kNaN; ///< share of replicates with Δ > 0
  double se = kNaN;            ///< bootstrap standard error of Δ: sample sd of the finite replicates' Δ
  std::string verdict;         ///< better | worse | inconclusive; for rPD also "not meaningful" (rpd_rule.hpp)
  nlohmann::json to_json() const;
};

struct SeedsNeeded {
  std::optional<int64_t> per_side;  ///< nullopt when σ cannot be estimated (fewer than 2 seeds on a side)
  double sd = kNaN;                 ///< pooled seed-to-seed sd of target mIoU (fraction)
  std::string note;                 ///< e.g. "needs ≥ 2 seeds per side to estimate"
  nlohmann::json to_json() const;
};

struct CompareResult {
  std::string fingerprint;
  /// Set when the two sides' recipes differ only in train.precision (e.g. "fp32 vs bf16"): the one difference
  /// compare accepts between fingerprints, so that a precision's effect is measured paired by seed and image.
  std::string precision_note;
  std::string a_label, b_label;               ///< "<init> <mode>" of each side's runs
  std::vector<std::string> a_cells, b_cells;  ///< paired cell ids, in seed order
  std::vector<int64_t> seeds;                 ///< paired seeds
  std::vector<std::string> unpaired;          ///< cells without a partner (or not done), ignored
  std::vector<std::string> unverified;        ///< "A: <cell>: <problem>" for bundles used although not verified
  int64_t images_source = 0, images_target = 0;
  std::vector<std::string> conditions;
  Delta miou_source, miou_target, rpd;
  std::vector<Delta> miou_conditions;         ///< same order as conditions
  RpdValidity rpd_a, rpd_b;                   ///< the rPD rule on each side's mean source mIoU (rpd_rule.hpp);
                                              ///< unless both are meaningful, rpd.verdict is "not meaningful"
  SeedsNeeded seeds_needed;
  CompareOptions options;
  nlohmann::json to_json() const;             ///< deterministic
  std::string table() const;                  ///< readable text table (percent, 2 decimals)
};

/// Standard normal quantile Φ⁻¹(p), p in (0,1) (Acklam's rational approximation refined by one Halley step).
double normal_quantile(double p);
/// Seeds per side (see the file comment) for seed-to-seed sds of A and B (fractions) and their run counts.
SeedsNeeded seeds_needed(double sd_a, int64_t n_a, double sd_b, int64_t n_b, const CompareOptions& opts);
/// "better" if lo > 0, "worse" if hi < 0, else "inconclusive" (also when the CI is NaN).
std::string verdict_of(const Estimate& delta);

/// a_paths, b_paths: bundle folders or folders of bundles. Only finished bundles count. Throws UserError when the
/// fingerprints differ (one line naming both) other than by train.precision alone, when no seed is on both sides, or when a paired run's images differ.
CompareResult compare(const std::vector<std::filesystem::path>& a_paths,
                      const std::vector<std::filesystem::path>& b_paths, const CompareOptions& opts);

}  // namespace clcp::stats
