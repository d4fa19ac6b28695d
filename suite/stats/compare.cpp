#include "suite/stats/compare.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numbers>
#include <set>
#include <unordered_map>

#include "suite/core/error.hpp"
#include "suite/eval/baseline.hpp"
#include "suite/stats/aggregate.hpp"
#include "suite/stats/json_number.hpp"
#include "suite/stats/run_bundle.hpp"

namespace clcp::stats {
namespace fs = std::filesystem;

namespace {


struct Side {
  std::string name;                      // "A" | "B"
  std::string fingerprint;
  fs::path fingerprint_dir;
  std::map<int64_t, RunBundle> by_seed;  // finished runs
  std::set<std::string> labels;          // "<init> <mode>"
  std::vector<std::string> not_done;
  std::vector<std::string> unverified;
};

Side read_side(const std::string& name, const std::vector<fs::path>& paths, bool allow_unverified) {
  Side s;
  s.name = name;
  std::vector<fs::path> dirs;
  for (const auto& p : paths) {
    auto found = find_bundle_dirs(p);
    if (found.empty()) fail("{}: no result bundle (spec.json) found for side {}; pass bundle folders", p.string(), name);
    dirs.insert(dirs.end(), found.begin(), found.end());
  }
  if (dirs.empty()) fail("compare: side {} is empty; pass result bundles or folders of bundles", name);
  for (const auto& d : dirs) {
    RunBundle b = read_run_bundle(d, allow_unverified);
    if (!b.unverified.empty()) s.unverified.push_back(fmt::format("{}: {}: {}", name, b.spec.id(), b.unverified));
    if (s.fingerprint.empty()) s.fingerprint = b.spec.fingerprint, s.fingerprint_dir = d;
    if (b.spec.fingerprint != s.fingerprint)
      fail("compare: side {} mixes protocol fingerprints {} ({}) and {} ({}); pass bundles of one protocol", name,
           s.fingerprint, s.fingerprint_dir.string(), b.spec.fingerprint, d.string());
    if (b.state != "done") {
      s.not_done.push_back(fmt::format("{}: {} ({})", name, b.spec.id(), b.state));
      continue;
    }
    const int64_t seed = b.spec.seed;
    if (s.by_seed.count(seed))
      fail("compare: side {} has two finished runs with seed {} ({} and {}); pass one (init, mode) group per side",
           name, seed, s.by_seed.at(seed).spec.id(), b.spec.id());
    s.labels.insert(b.spec.init + " " + b.spec.finetune_mode);
    s.by_seed.emplace(seed, std::move(b));
  }
  return s;
}

// Reorders b's rows of every stratum into a's image order; the two runs must hold the same images.
StratifiedRun align_to(const StratifiedRun& a, const StratifiedRun& b, const std::string& b_id) {
  if (a.conditions != b.conditions)
    fail("compare: run {} has different target conditions than its pair; compare runs of the same data", b_id);
  StratifiedRun out;
  out.seed = b.seed;
  out.conditions = b.conditions;
  const size_t row = 2 * kNumClasses;
  for (size_t s = 0; s < a.strata.size(); ++s) {
    const auto& ma = a.strata[s];
    const auto& mb = b.strata[s];
    std::unordered_map<std::string, size_t> where;
    for (size_t i = 0; i < mb.rows(); ++i) where.emplace(mb.ids[i], i);
    if (ma.rows() != mb.rows())
      fail("compare: run {} has {} images in stratum {} but its pair has {}; pair runs evaluated on the same images",
           b_id, mb.rows(), s, ma.rows());
    CountMatrix m;
    for (size_t i = 0; i < ma.rows(); ++i) {
      auto it = where.find(ma.ids[i]);
      if (it == where.end())
        fail("compare: image {} is missing from run {}; pair runs evaluated on the same images", ma.ids[i], b_id);
      m.ids.push_back(ma.ids[i]);
      m.counts.insert(m.counts.end(), mb.counts.begin() + static_cast<std::ptrdiff_t>(it->second * row),
                      mb.counts.begin() + static_cast<std::ptrdiff_t>((it->second + 1) * row));
    }
    out.strata.push_back(std::move(m));
  }
  return out;
}

Delta make_delta(const std::vector<double>& a_runs, const std::vector<double>& b_runs,
                 const std::vector<double>& a_reps, const std::vector<double>& b_reps, const BootstrapOptions& o) {
  Delta d;
  d.a = mean_sd(a_runs).mean;
  d.b = mean_sd(b_runs).mean;
  d.delta.value = d.b - d.a;
  std::vector<double> diff(a_reps.size());
  int64_t finite = 0, positive = 0;
  for (size_t r = 0; r < a_reps.size(); ++r) {
    diff[r] = b_reps[r] - a_reps[r];
    if (std::isfinite(diff[r])) ++finite, positive += diff[r] > 0;
  }
  d.delta.lo = percentile(diff, (1 - o.level) / 2);
  d.delta.hi = percentile(diff, (1 + o.level) / 2);
  d.p_improvement = finite ? static_cast<double>(positive) / static_cast<double>(finite) : kNaN;
  std::vector<double> finite_diff;
  for (double x : diff)
    if (std::isfinite(x)) finite_diff.push_back(x);
  d.se = mean_sd(finite_diff).sd;
  d.verdict = verdict_of(d.delta);
  return d;
}

std::string pct(double x) { return std::isfinite(x) ? fmt::format("{:.2f}", 100 * x) : "n/a"; }
std::string pct_signed(double x) { return std::isfinite(x) ? fmt::format("{:+.2f}", 100 * x) : "n/a"; }
std::string ratio(double x) { return std::isfinite(x) ? fmt::format("{:.3f}", x) : "n/a"; }
std::string ratio_signed(double x) { return std::isfinite(x) ? fmt::format("{:+.3f}", x) : "n/a"; }

}  // namespace

nlohmann::json Delta::to_json() const {
  return {{"A", number_or_null(a)},
          {"B", number_or_null(b)},
          {"delta", number_or_null(delta.value)},
          {"ci", {number_or_null(delta.lo), number_or_null(delta.hi)}},
          {"P_improvement", number_or_null(p_improvement)},
          {"se", number_or_null(se)},
          {"verdict", verdict}};
}

nlohmann::json SeedsNeeded::to_json() const {
  return {{"per_side", per_side ? nlohmann::json(*per_side) : nlohmann::json(nullptr)}, {"sd", number_or_null(sd)},
          {"note", note}};
}

double normal_quantile(double p) {
  if (!(p > 0 && p < 1)) fail("normal_quantile: p = {} must be in (0, 1)", p);
  // Acklam's rational approximation (relative error < 1.2e-9), then one Halley step on erfc.
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01,  -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  const double plow = 0.02425, phigh = 1 - plow;
  double x;
  if (p < plow) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= phigh) {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  const double u = e * std::sqrt(2 * std::numbers::pi) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

SeedsNeeded seeds_needed(double sd_a, int64_t n_a, double sd_b, int64_t n_b, const CompareOptions& o) {
  SeedsNeeded s;
  if (n_a < 2 || n_b < 2 || !std::isfinite(sd_a) || !std::isfinite(sd_b)) {
    s.note = "needs ≥ 2 seeds per side to estimate";
    return s;
  }
  if (!(o.effect_points > 0)) fail("compare: --effect {} must be positive (mIoU points)", o.effect_points);
  s.sd = std::sqrt((sd_a * sd_a + sd_b * sd_b) / 2);
  const double z = normal_quantile(1 - o.alpha / 2) + normal_quantile(o.power);
  const double delta = o.effect_points / 100.0;
  const double n = 2 * z * z * s.sd * s.sd / (delta * delta);
  s.per_side = std::max<int64_t>(2, static_cast<int64_t>(std::ceil(n - 1e-9)));
  s.note = fmt::format("{} seeds per side detect {:+.2f} mIoU points at {:.0f}% power (two-sided alpha {}), "
                       "seed-to-seed sd {:.2f} points (normal approximation)",
                       *s.per_side, o.effect_points, 100 * o.power, o.alpha, 100 * s.sd);
  return s;
}

std::string verdict_of(const Estimate& d) {
  if (d.lo > 0) return "better";
  if (d.hi < 0) return "worse";
  return "inconclusive";
}

CompareResult compare(const std::vector<fs::path>& a_paths, const std::vector<fs::path>& b_paths,
                      const CompareOptions& opts) {
  const Side a = read_side("A", a_paths, opts.allow_unverified), b = read_side("B", b_paths, opts.allow_unverified);
  CompareResult r;
  if (a.fingerprint != b.fingerprint) {
    // the one accepted difference: the training precision (absent from an fp32 recipe, models/precision.hpp)
    auto without_precision = [](nlohmann::json recipe) {
      std::string p = "fp32";
      if (recipe.is_object() && recipe.contains("train") && recipe["train"].is_object()) {
        p = recipe["train"].value("precision", p);
        recipe["train"].erase("precision");
      }
      return std::make_pair(recipe, p);
    };
    const auto [ra, pa] = without_precision(a.by_seed.empty() ? nlohmann::json::object() : a.by_seed.begin()->second.spec.recipe);
    const auto [rb, pb] = without_precision(b.by_seed.empty() ? nlohmann::json::object() : b.by_seed.begin()->second.spec.recipe);
    if (a.by_seed.empty() || b.by_seed.empty() || ra != rb || pa == pb)
      fail("compare: protocol fingerprints differ: A {} ({}) vs B {} ({}); compare bundles of the same protocol (or "
           "of recipes that differ only in train.precision)",
           a.fingerprint, a.fingerprint_dir.string(), b.fingerprint, b.fingerprint_dir.string());
    r.precision_note = fmt::format("{} vs {}", pa, pb);
  }
  r.fingerprint = a.fingerprint;
  r.options = opts;
  r.unpaired = a.not_done;
  r.unpaired.insert(r.unpaired.end(), b.not_done.begin(), b.not_done.end());
  r.unverified = a.unverified;
  r.unverified.insert(r.unverified.end(), b.unverified.begin(), b.unverified.end());
  std::vector<StratifiedRun> arm_a, arm_b;
  std::vector<RunValues> val_a, val_b;
  std::vector<double> floor_a, floor_b;  // best-constant-class mIoU of each paired run's source images
  for (const auto& [seed, ra] : a.by_seed) {
    auto it = b.by_seed.find(seed);
    if (it == b.by_seed.end()) {
      r.unpaired.push_back(fmt::format("A: {} (seed {} not in B)", ra.spec.id(), seed));
      continue;
    }
    arm_a.push_back(stratify(ra.source, ra.target, seed));
    arm_b.push_back(align_to(arm_a.back(), stratify(it->second.source, it->second.target, seed), it->second.spec.id()));
    val_a.push_back(run_values(arm_a.back()));
    val_b.push_back(run_values(arm_b.back()));
    floor_a.push_back(best_constant_class_miou(ra.source));
    floor_b.push_back(best_constant_class_miou(it->second.source));
    r.seeds.push_back(seed);
    r.a_cells.push_back(ra.spec.id());
    r.b_cells.push_back(it->second.spec.id());
  }
  for (const auto& [seed, rb] : b.by_seed)
    if (!a.by_seed.count(seed)) r.unpaired.push_back(fmt::format("B: {} (seed {} not in A)", rb.spec.id(), seed));
  if (r.seeds.empty())
    fail("compare: no finished run has a seed present on both sides (A: {} finished, B: {}); run the same seeds",
         a.by_seed.size(), b.by_seed.size());
  r.conditions = arm_a[0].conditions;
  r.images_source = static_cast<int64_t>(arm_a[0].strata[0].rows());
  for (size_t s = 1; s < arm_a[0].strata.size(); ++s) r.images_target += static_cast<int64_t>(arm_a[0].strata[s].rows());

  const auto reps = bootstrap_replicates({arm_a, arm_b}, opts.bootstrap);
  auto col = [](const std::vector<RunValues>& v, auto get) {
    std::vector<double> out;
    for (const auto& x : v) out.push_back(get(x));
    return out;
  };
  auto src = [](const RunValues& v) { return v.source; };
  auto tgt = [](const RunValues& v) { return v.target; };
  auto rpd = [](const RunValues& v) { return v.rpd; };
  r.miou_source = make_delta(col(val_a, src), col(val_b, src), reps[0].source, reps[1].source, opts.bootstrap);
  r.miou_target = make_delta(col(val_a, tgt), col(val_b, tgt), reps[0].target, reps[1].target, opts.bootstrap);
  r.rpd = make_delta(col(val_a, rpd), col(val_b, rpd), reps[0].rpd, reps[1].rpd, opts.bootstrap);
  r.rpd_a = rpd_validity(r.miou_source.a, mean_sd(floor_a).mean);
  r.rpd_b = rpd_validity(r.miou_source.b, mean_sd(floor_b).mean);
  if (!r.rpd_a.meaningful || !r.rpd_b.meaningful) r.rpd.verdict = "not meaningful";
  for (size_t c = 0; c < r.conditions.size(); ++c) {
    auto cond = [c](const RunValues& v) { return v.conditions[c]; };
    r.miou_conditions.push_back(
        make_delta(col(val_a, cond), col(val_b, cond), reps[0].conditions[c], reps[1].conditions[c], opts.bootstrap));
  }
  const MeanSd sa = mean_sd(col(val_a, tgt)), sb = mean_sd(col(val_b, tgt));
  r.seeds_needed = seeds_needed(sa.sd, sa.n, sb.sd, sb.n, opts);
  auto join = [](const std::set<std::string>& s) {
    std::string out;
    for (const auto& x : s) out += (out.empty() ? "" : ", ") + x;
    return out;
  };
  r.a_label = join(a.labels);
  r.b_label = join(b.labels);
  return r;
}

nlohmann::json CompareResult::to_json() const {
  nlohmann::json conds = nlohmann::json::object();
  for (size_t c = 0; c < conditions.size(); ++c) conds[conditions[c]] = miou_conditions[c].to_json();
  nlohmann::json j{{"schema", "clcp-bench/compare/1"},
          {"fingerprint", fingerprint},
          {"A", {{"label", a_label}, {"cells", a_cells}}},
          {"B", {{"label", b_label}, {"cells", b_cells}}},
          {"seeds", seeds},
          {"unpaired", unpaired},
          {"not_verified", unverified},
          {"images", {{"source", images_source}, {"target", images_target}}},
          {"delta", "B - A; fractions in [0,1] for mIoU"},
          {"mIoU_source", miou_source.to_json()},
          {"mIoU_target", miou_target.to_json()},
          {"rPD", rpd.to_json()},
          {"rPD_rule", {{"floor_margin", kRpdFloorMargin},
                        {"A", {{"meaningful", rpd_a.meaningful}, {"floor", number_or_null(rpd_a.floor)}}},
                        {"B", {{"meaningful", rpd_b.meaningful}, {"floor", number_or_null(rpd_b.floor)}}}}},
          {"mIoU_conditions", conds},
          {"seeds_needed", seeds_needed.to_json()},
          {"effect_points", options.effect_points},
          {"power", options.power},
          {"alpha", options.alpha},
          {"bootstrap", options.bootstrap.to_json()},
          {"pairing", "by seed and image id; the same resampled seeds and images for A and B"}};
  if (!precision_note.empty()) j["precision"] = precision_note;  // only across precisions: older outputs stay
  return j;
}

std::string CompareResult::table() const {
  std::string t;
  t += fmt::format("A: {} | B: {} | protocol fingerprint {}\n", a_label, b_label, fingerprint);
  if (!precision_note.empty())
    t += fmt::format("the recipes differ only in train.precision: A vs B = {}\n", precision_note);
  std::string seed_list;
  for (auto s : seeds) seed_list += fmt::format("{}{}", seed_list.empty() ? "" : " ", s);
  t += fmt::format("paired seeds: {} ({}); images: {} source, {} target\n", seeds.size(), seed_list, images_source,
                   images_target);
  const int lvl = static_cast<int>(std::lround(100 * options.bootstrap.level));
  t += fmt::format("{:<24} {:>8} {:>8} {:>9} {:>20} {:>7}  {}\n", "metric", "A", "B", "Δ (B−A)",
                   fmt::format("{}% CI", lvl), "P(Δ>0)", "verdict");
  auto row = [&](const std::string& name, const Delta& d, bool is_ratio) {
    auto v = is_ratio ? ratio : pct;
    auto s = is_ratio ? ratio_signed : pct_signed;
    t += fmt::format("{:<24} {:>8} {:>8} {:>9} {:>20} {:>7}  {}\n", name, v(d.a), v(d.b), s(d.delta.value),
                     fmt::format("[{}, {}]", s(d.delta.lo), s(d.delta.hi)),
                     std::isfinite(d.p_improvement) ? fmt::format("{:.3f}", d.p_improvement) : "n/a", d.verdict);
  };
  row("mIoU source", miou_source, false);
  row("mIoU target (pooled)", miou_target, false);
  for (size_t c = 0; c < conditions.size(); ++c) row("mIoU target " + conditions[c], miou_conditions[c], false);
  row("rPD", rpd, true);
  for (const auto* v : {&rpd_a, &rpd_b})
    if (!v->meaningful) t += fmt::format("{}: {}\n", v == &rpd_a ? "A" : "B", v->note);
  t += fmt::format("seeds needed for {:+.2f} mIoU points on the target: {}\n", options.effect_points,
                   seeds_needed.note);
  t += fmt::format("bootstrap: {} replicates, seed {}, percentile CI, paired by seed and image\n",
                   options.bootstrap.replicates, options.bootstrap.seed);
  for (const auto& u : unpaired) t += fmt::format("not compared: {}\n", u);
  for (const auto& u : unverified) t += fmt::format("NOT VERIFIED (used with --allow-unverified): {}\n", u);
  return t;
}

}  // namespace clcp::stats
