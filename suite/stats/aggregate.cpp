#include "suite/stats/aggregate.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "suite/core/error.hpp"
#include "suite/results/bundle.hpp"
#include "suite/stats/json_number.hpp"
#include "suite/stats/run_bundle.hpp"

namespace clcp::stats {
namespace fs = std::filesystem;

namespace {

nlohmann::json opt(const std::optional<double>& x) { return x && std::isfinite(*x) ? nlohmann::json(*x) : nlohmann::json(nullptr); }
std::optional<double> finite_or_none(double x) { return std::isfinite(x) ? std::optional<double>(x) : std::nullopt; }

MetricSummary summarise_metric(const std::vector<double>& per_run, const std::vector<double>& replicates,
                               const BootstrapOptions& o) {
  MetricSummary m;
  m.seeds = mean_sd(per_run);
  m.ci.value = m.seeds.mean;
  if (!replicates.empty()) {
    m.ci.lo = percentile(replicates, (1 - o.level) / 2);
    m.ci.hi = percentile(replicates, (1 + o.level) / 2);
  }
  return m;
}

}  // namespace

MeanSd mean_sd(const std::vector<double>& values) {
  MeanSd m;
  m.n = static_cast<int64_t>(values.size());
  if (values.empty()) return m;
  double sum = 0;
  for (double x : values) sum += x;
  m.mean = sum / static_cast<double>(values.size());
  if (values.size() < 2) return m;
  double ss = 0;
  for (double x : values) ss += (x - m.mean) * (x - m.mean);
  m.sd = std::sqrt(ss / static_cast<double>(values.size() - 1));
  return m;
}

nlohmann::json MeanSd::to_json() const {
  return {{"mean", number_or_null(mean)}, {"sd", number_or_null(sd)}, {"n", n}};
}

nlohmann::json MetricSummary::to_json() const {
  return {{"mean", number_or_null(seeds.mean)},
          {"sd", number_or_null(seeds.sd)},
          {"n", seeds.n},
          {"ci", {number_or_null(ci.lo), number_or_null(ci.hi)}}};
}

nlohmann::json RunEntry::to_json() const {
  nlohmann::json conds = nlohmann::json::object();
  for (const auto& [c, v] : miou_conditions) conds[c] = opt(v);
  return {{"cell_id", cell_id}, {"bundle_dir", bundle_dir}, {"state", state},      {"error", error},
          {"seed", seed},       {"mIoU_source", opt(miou_source)}, {"mIoU_target", opt(miou_target)},
          {"rPD", opt(rpd)},    {"mIoU_conditions", conds}};
}

nlohmann::json GroupSummary::to_json() const {
  nlohmann::json runs_j = nlohmann::json::array();
  for (const auto& r : runs) runs_j.push_back(r.to_json());
  nlohmann::json conds = nlohmann::json::object();
  for (const auto& [c, m] : miou_conditions) conds[c] = m.to_json();
  return {{"schema", "clcp-bench/group-summary/1"},
          {"protocol", protocol},
          {"fingerprint", fingerprint},
          {"init", init},
          {"finetune_mode", finetune_mode},
          {"runs", runs_j},
          {"runs_listed", runs.size()},
          {"runs_done", runs_done},
          {"conditions", conditions},
          {"mIoU_source", miou_source.to_json()},
          {"mIoU_target", miou_target.to_json()},
          {"rPD", rpd.to_json()},
          {"mIoU_conditions", conds},
          {"bootstrap", bootstrap.to_json()},
          {"units", "fractions in [0,1]; sd is the sample sd over seeds; ci is the bootstrap CI of the mean"}};
}

GroupSummary summarise_group(const std::vector<fs::path>& bundle_dirs, const BootstrapOptions& opts,
                             bool allow_unverified) {
  if (bundle_dirs.empty()) fail("summarise_group: no bundles given; pass the bundles of one (init, mode) group");
  std::vector<RunBundle> bundles;
  for (const auto& d : bundle_dirs) bundles.push_back(read_run_bundle(d, allow_unverified));
  std::sort(bundles.begin(), bundles.end(), [](const RunBundle& a, const RunBundle& b) {
    return std::make_tuple(a.spec.seed, a.spec.id()) < std::make_tuple(b.spec.seed, b.spec.id());
  });
  GroupSummary g;
  g.bootstrap = opts;
  const auto& first = bundles.front().spec;
  g.protocol = first.protocol;
  g.fingerprint = first.fingerprint;
  g.init = first.init;
  g.finetune_mode = first.finetune_mode;
  std::vector<StratifiedRun> runs;
  std::vector<RunValues> values;
  for (const auto& b : bundles) {
    if (b.spec.fingerprint != g.fingerprint)
      fail("{}: protocol fingerprint {} differs from {} of the group; summarise one protocol at a time",
           b.dir.string(), b.spec.fingerprint, g.fingerprint);
    if (b.spec.init != g.init || b.spec.finetune_mode != g.finetune_mode)
      fail("{}: cell is ({}, {}) but the group is ({}, {}); pass the bundles of one (init, mode) group",
           b.dir.string(), b.spec.init, b.spec.finetune_mode, g.init, g.finetune_mode);
    RunEntry e;
    e.cell_id = b.spec.id();
    e.bundle_dir = b.dir.string();
    e.state = b.state;
    e.error = b.error;
    e.seed = b.spec.seed;
    if (b.state == "done") {
      runs.push_back(stratify(b.source, b.target, b.spec.seed));
      values.push_back(run_values(runs.back()));
      const auto& v = values.back();
      e.miou_source = finite_or_none(v.source);
      e.miou_target = finite_or_none(v.target);
      e.rpd = finite_or_none(v.rpd);
      for (size_t c = 0; c < runs.back().conditions.size(); ++c)
        e.miou_conditions[runs.back().conditions[c]] = finite_or_none(v.conditions[c]);
    }
    g.runs.push_back(std::move(e));
  }
  g.runs_done = static_cast<int64_t>(runs.size());
  if (runs.empty()) return g;
  g.conditions = runs[0].conditions;
  const auto reps = bootstrap_replicates({runs}, opts)[0];
  auto column = [&](auto get) {
    std::vector<double> out;
    for (const auto& v : values) out.push_back(get(v));
    return out;
  };
  g.miou_source = summarise_metric(column([](const RunValues& v) { return v.source; }), reps.source, opts);
  g.miou_target = summarise_metric(column([](const RunValues& v) { return v.target; }), reps.target, opts);
  g.rpd = summarise_metric(column([](const RunValues& v) { return v.rpd; }), reps.rpd, opts);
  for (size_t c = 0; c < g.conditions.size(); ++c)
    g.miou_conditions[g.conditions[c]] =
        summarise_metric(column([c](const RunValues& v) { return v.conditions[c]; }), reps.conditions[c], opts);
  return g;
}

std::vector<GroupSummary> summarise_groups(const std::vector<fs::path>& bundle_dirs, const BootstrapOptions& opts,
                                           bool allow_unverified) {
  std::map<std::pair<std::string, std::string>, std::vector<fs::path>> groups;
  std::string fingerprint;
  fs::path fingerprint_dir;
  for (const auto& d : bundle_dirs) {
    if (!fs::exists(d / "spec.json"))
      fail("{}: not a result bundle (no spec.json); pass a bundle folder or a folder of bundles", d.string());
    const auto spec = Bundle(d).read_spec();
    if (fingerprint.empty()) fingerprint = spec.fingerprint, fingerprint_dir = d;
    if (spec.fingerprint != fingerprint)
      fail("{}: protocol fingerprint {} differs from {} ({}); summarise one protocol at a time", d.string(),
           spec.fingerprint, fingerprint, fingerprint_dir.string());
    groups[{spec.init, spec.finetune_mode}].push_back(d);
  }
  std::vector<GroupSummary> out;
  for (const auto& [key, dirs] : groups) out.push_back(summarise_group(dirs, opts, allow_unverified));
  return out;
}

}  // namespace clcp::stats
