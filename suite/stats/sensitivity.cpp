#include "suite/stats/sensitivity.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace clcp::stats {

namespace {

std::string delta_text(const Delta& d) {
  if (!std::isfinite(d.delta.value)) return "n/a";
  return fmt::format("{:+.2f} [{:+.2f}, {:+.2f}]", 100 * d.delta.value, 100 * d.delta.lo, 100 * d.delta.hi);
}

double rms(const std::vector<double>& v) {
  double s = 0;
  int64_t n = 0;
  for (double x : v)
    if (std::isfinite(x)) s += x * x, ++n;
  return n ? std::sqrt(s / static_cast<double>(n)) : kNaN;
}

}  // namespace

double minimum_detectable_effect(double se, double alpha, double power) {
  return (normal_quantile(1 - alpha / 2) + normal_quantile(power)) * se;
}

ControlCheck check_control(const std::string& init, const std::string& role, const std::string& reference,
                           const CompareResult& r, const SensitivityOptions& o) {
  ControlCheck c;
  c.init = init;
  c.role = role;
  c.source = r.miou_source;
  c.target = r.miou_target;
  const std::string deltas = fmt::format("Δ mIoU source {}, target {} points, {} seed(s)", delta_text(c.source),
                                         delta_text(c.target), r.seeds.size());
  if (r.images_source < o.min_images || r.images_target < o.min_images) {
    c.outcome = "cannot detect";
    c.line = fmt::format("{} control {}: cannot detect — {} source and {} target images, fewer than the {} a "
                         "bootstrap CI needs",
                         role, init, r.images_source, r.images_target, o.min_images);
    return c;
  }
  const bool src_up = c.source.delta.lo > 0, tgt_up = c.target.delta.lo > 0;
  if (role == "positive") {
    c.passes = src_up && tgt_up;
    c.outcome = c.passes ? "detected" : "not detected";
    c.line = c.passes ? fmt::format("positive control {} beats {} on source and target ({})", init, reference, deltas)
                      : fmt::format("positive control {} does not beat {} with CIs above 0 on both ({})", init,
                                    reference, deltas);
  } else {
    c.passes = !src_up && !tgt_up;
    c.outcome = c.passes ? "not better" : "better";
    c.line = c.passes ? fmt::format("negative control {} is not better than {} ({})", init, reference, deltas)
                      : fmt::format("negative control {} is better than {} — the benchmark rewards a method built to "
                                    "fail ({})",
                                    init, reference, deltas);
  }
  return c;
}

ControlCheck missing_control(const std::string& init, const std::string& role, const std::string& why) {
  ControlCheck c;
  c.init = init;
  c.role = role;
  c.outcome = "not run";
  c.line = fmt::format("{} control {}: not measured ({})", role, init, why);
  return c;
}

Sensitivity assess_sensitivity(const std::string& reference, std::vector<ControlCheck> checks,
                               const std::vector<const CompareResult*>& comparisons, const SensitivityOptions& o) {
  Sensitivity s;
  s.reference = reference;
  s.checks = std::move(checks);
  std::vector<double> se_src, se_tgt;
  for (const auto* c : comparisons) {
    se_src.push_back(c->miou_source.se);
    se_tgt.push_back(c->miou_target.se);
  }
  s.comparisons = static_cast<int64_t>(comparisons.size());
  const double src = rms(se_src), tgt = rms(se_tgt);
  if (std::isfinite(src)) s.mde_source_points = 100 * minimum_detectable_effect(src, o.alpha, o.power);
  if (std::isfinite(tgt)) s.mde_target_points = 100 * minimum_detectable_effect(tgt, o.alpha, o.power);
  s.mde_line = std::isfinite(s.mde_target_points)
                   ? fmt::format("minimum detectable effect at this scale: {:.2f} mIoU points on the source, {:.2f} "
                                 "on the target (paired Δ against {}, {:.0f} % power, two-sided α {}; from the "
                                 "seed and image variance of {} comparison(s))",
                                 s.mde_source_points, s.mde_target_points, reference, 100 * o.power, o.alpha,
                                 s.comparisons)
                   : "minimum detectable effect: no paired comparison to estimate it from";
  for (const auto* c : comparisons)
    if (c->seeds_needed.per_side && c->options.effect_points == 1.0)
      s.seeds_for_one_point = std::max(s.seeds_for_one_point.value_or(0), *c->seeds_needed.per_side);
  s.seeds_line = s.seeds_for_one_point
                     ? fmt::format("seeds needed to detect a 1-point effect on the target: {} per side (normal "
                                   "approximation from the seed-to-seed sd, the most any comparison here needs)",
                                   *s.seeds_for_one_point)
                     : "seeds needed to detect a 1-point effect: not estimable here (needs ≥ 2 seeds per side)";
  bool all = !s.checks.empty();
  for (const auto& c : s.checks) all = all && c.passes;
  s.answers = all;
  if (s.checks.empty())
    s.headline = "No controls are declared for this scale: nothing here shows that it can tell a better encoder "
                 "from a worse one.";
  else if (s.answers)
    s.headline = fmt::format("Sensitivity: the controls pass — this scale tells a better encoder from {} and does "
                             "not reward a broken one.",
                             reference);
  else
    s.headline = "This scale cannot answer the question: a control fails, so its verdicts are recorded, not findings.";
  return s;
}

}  // namespace clcp::stats
