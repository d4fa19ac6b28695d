#include "suite/stats/bootstrap.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "suite/core/error.hpp"
#include "suite/core/rng.hpp"
#include "suite/stats/json_number.hpp"

namespace clcp::stats {
namespace {

constexpr size_t kRow = 2 * kNumClasses;  // intersect[19] then union[19]


// Adds row `i` of `m` to `sums`.
inline void add_row(const CountMatrix& m, int64_t i, int64_t* sums) {
  const int64_t* r = m.counts.data() + static_cast<size_t>(i) * kRow;
  for (size_t c = 0; c < kRow; ++c) sums[c] += r[c];
}

void check_same_shape(const StratifiedRun& a, const StratifiedRun& b) {
  if (a.conditions != b.conditions || a.strata.size() != b.strata.size())
    fail("bootstrap: runs with seeds {} and {} have different target conditions; compare runs of one protocol",
         a.seed, b.seed);
  for (size_t s = 0; s < a.strata.size(); ++s)
    if (a.strata[s].rows() != b.strata[s].rows())
      fail("bootstrap: runs with seeds {} and {} have {} vs {} images in stratum {}; paired runs need the same images",
           a.seed, b.seed, a.strata[s].rows(), b.strata[s].rows(), s);
}

}  // namespace

nlohmann::json BootstrapOptions::to_json() const {
  return {{"replicates", replicates},
          {"seed", seed},
          {"level", level},
          {"method", "percentile"},
          {"strata", "source; each target condition (resampled independently)"},
          {"levels", "seeds (runs), then images within each run"}};
}

nlohmann::json Estimate::to_json() const {
  return {{"value", number_or_null(value)}, {"lo", number_or_null(lo)}, {"hi", number_or_null(hi)}};
}

double percentile(std::vector<double> values, double q) {
  std::erase_if(values, [](double x) { return !std::isfinite(x); });
  if (values.empty()) return kNaN;
  std::sort(values.begin(), values.end());
  const double h = static_cast<double>(values.size() - 1) * q;
  const auto lo = static_cast<size_t>(std::floor(h));
  if (lo + 1 >= values.size()) return values.back();
  return values[lo] + (h - static_cast<double>(lo)) * (values[lo + 1] - values[lo]);
}

void CountMatrix::append(const ImageEvidence& ev) {
  ids.push_back(ev.id);
  for (size_t c = 0; c < kNumClasses; ++c) counts.push_back(ev.intersect[c]);
  for (size_t c = 0; c < kNumClasses; ++c) counts.push_back(ev.pred_area[c] + ev.label_area[c] - ev.intersect[c]);
}

StratifiedRun stratify(const std::vector<ImageEvidence>& source, const std::vector<ImageEvidence>& target,
                       int64_t seed) {
  StratifiedRun run;
  run.seed = seed;
  if (source.empty()) fail("bootstrap: run with seed {} has no source images; evaluate the source split first", seed);
  if (target.empty()) fail("bootstrap: run with seed {} has no target images; evaluate the target split first", seed);
  std::map<std::string, CountMatrix> by_condition;
  for (const auto& ev : target) by_condition[ev.condition].append(ev);
  if (by_condition.size() + 1 > kStrataPerSlot)
    fail("bootstrap: {} target conditions; at most {} are supported", by_condition.size(), kStrataPerSlot - 1);
  run.strata.emplace_back();
  for (const auto& ev : source) run.strata[0].append(ev);
  for (auto& [cond, m] : by_condition) {
    run.conditions.push_back(cond);
    run.strata.push_back(std::move(m));
  }
  return run;
}

double miou_from_sums(const int64_t* sums) {
  // Same arithmetic and order as compute_metrics + nanmean, so full-data values are bit-identical.
  double sum = 0;
  int n = 0;
  for (size_t c = 0; c < kNumClasses; ++c) {
    const int64_t u = sums[kNumClasses + c];
    if (!u) continue;
    sum += static_cast<double>(sums[c]) / static_cast<double>(u);
    ++n;
  }
  return n ? sum / n : kNaN;
}

double rpd_of(double miou_target, double miou_source) {
  if (std::isnan(miou_target) || std::isnan(miou_source) || miou_source == 0.0) return kNaN;
  return miou_target / miou_source;
}

std::vector<int64_t> draw_images(uint64_t seed, int64_t replicate, uint64_t slot, uint64_t stratum, int64_t n) {
  Stream s(seed, "bootstrap", static_cast<uint64_t>(replicate), slot * kStrataPerSlot + stratum);
  std::vector<int64_t> idx(static_cast<size_t>(n));
  for (auto& i : idx) i = s.randint(0, n);
  return idx;
}

std::vector<int64_t> draw_runs(uint64_t seed, int64_t replicate, int64_t k) {
  if (k == 1) return {0};
  Stream s(seed, "bootstrap-seeds", static_cast<uint64_t>(replicate), 0);
  std::vector<int64_t> idx(static_cast<size_t>(k));
  for (auto& i : idx) i = s.randint(0, k);
  return idx;
}

RunValues run_values(const StratifiedRun& run) {
  RunValues v;
  std::vector<int64_t> src(kRow, 0), tgt(kRow, 0);
  for (size_t i = 0; i < run.strata[0].rows(); ++i) add_row(run.strata[0], static_cast<int64_t>(i), src.data());
  v.source = miou_from_sums(src.data());
  for (size_t s = 1; s < run.strata.size(); ++s) {
    std::vector<int64_t> cond(kRow, 0);
    for (size_t i = 0; i < run.strata[s].rows(); ++i) add_row(run.strata[s], static_cast<int64_t>(i), cond.data());
    for (size_t c = 0; c < kRow; ++c) tgt[c] += cond[c];
    v.conditions.push_back(miou_from_sums(cond.data()));
  }
  v.target = miou_from_sums(tgt.data());
  v.rpd = rpd_of(v.target, v.source);
  return v;
}

std::vector<Replicates> bootstrap_replicates(const std::vector<std::vector<StratifiedRun>>& arms,
                                             const BootstrapOptions& opts) {
  if (arms.empty() || arms[0].empty()) fail("bootstrap: no finished runs to resample");
  if (opts.replicates < 1) fail("bootstrap: --replicates {} must be at least 1", opts.replicates);
  const auto& ref = arms[0][0];
  for (const auto& arm : arms) {
    if (arm.size() != arms[0].size()) fail("bootstrap: paired arms have {} vs {} runs", arms[0].size(), arm.size());
    for (size_t i = 0; i < arm.size(); ++i) {
      if (arm[i].conditions != ref.conditions)
        fail("bootstrap: runs with seeds {} and {} have different target conditions; use runs of one protocol",
             ref.seed, arm[i].seed);
      check_same_shape(arms[0][i], arm[i]);  // paired runs resample the same image rows
    }
  }
  const int64_t k = static_cast<int64_t>(arms[0].size());
  const size_t n_strata = ref.strata.size(), n_cond = n_strata - 1;
  const auto reps = static_cast<size_t>(opts.replicates);

  std::vector<Replicates> out(arms.size());
  for (auto& r : out) {
    r.source.assign(reps, 0);
    r.target.assign(reps, 0);
    r.rpd.assign(reps, 0);
    r.conditions.assign(n_cond, std::vector<double>(reps, 0));
  }
  // sums[arm][stratum][38]
  std::vector<int64_t> sums(arms.size() * n_strata * kRow);
  std::vector<int64_t> tgt(kRow);
  for (int64_t rep = 0; rep < opts.replicates; ++rep) {
    const auto rp = static_cast<size_t>(rep);
    const auto runs = draw_runs(opts.seed, rep, k);
    for (size_t slot = 0; slot < runs.size(); ++slot) {
      std::fill(sums.begin(), sums.end(), 0);
      for (size_t s = 0; s < n_strata; ++s) {
        const auto n = static_cast<int64_t>(arms[0][static_cast<size_t>(runs[slot])].strata[s].rows());
        const auto idx = draw_images(opts.seed, rep, slot, s, n);
        for (size_t a = 0; a < arms.size(); ++a) {
          const CountMatrix& m = arms[a][static_cast<size_t>(runs[slot])].strata[s];
          int64_t* dst = sums.data() + (a * n_strata + s) * kRow;
          for (int64_t i : idx) add_row(m, i, dst);
        }
      }
      for (size_t a = 0; a < arms.size(); ++a) {
        const int64_t* base = sums.data() + a * n_strata * kRow;
        std::fill(tgt.begin(), tgt.end(), 0);
        for (size_t s = 1; s < n_strata; ++s) {
          const int64_t* cs = base + s * kRow;
          for (size_t c = 0; c < kRow; ++c) tgt[c] += cs[c];
          out[a].conditions[s - 1][rp] += miou_from_sums(cs);
        }
        const double src = miou_from_sums(base), t = miou_from_sums(tgt.data());
        out[a].source[rp] += src;
        out[a].target[rp] += t;
        out[a].rpd[rp] += rpd_of(t, src);
      }
    }
    const auto slots = static_cast<double>(runs.size());  // mean over slots, divided as mean_sd divides
    for (auto& r : out) {
      r.source[rp] /= slots;
      r.target[rp] /= slots;
      r.rpd[rp] /= slots;
      for (auto& c : r.conditions) c[rp] /= slots;
    }
  }
  return out;
}

}  // namespace clcp::stats
