#include "suite/gate/stat.hpp"

#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <limits>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/gate/exact.hpp"
#include "suite/stats/rpd_rule.hpp"

namespace clcp::gate {
namespace fs = std::filesystem;
using nlohmann::json;

StatBaseline read_stat_baseline(const fs::path& file) {
  if (!fs::exists(file))
    fail("{}: no statistical baseline there; create it from finished runs with `clcp-bench gate --tier stat "
         "BUNDLES… --update --baseline NAME`",
         file.string());
  const json j = read_json(file);
  if (j.value("schema", "") != kRegressionSchema || j.value("tier", "") != "stat")
    fail("{}: expected schema '{}' with tier 'stat'; this is not a statistical-tier baseline", file.string(),
         kRegressionSchema);
  StatBaseline b;
  b.file = file;
  try {
    b.name = j.at("name");
    b.protocol = j.at("protocol");
    b.scale = j.at("scale");
    b.fingerprint = j.at("fingerprint");
    b.init = j.at("init");
    b.finetune_mode = j.at("finetune_mode");
    b.alpha = j.at("alpha");
    b.why = j.value("why", "");
    b.margins = j.at("margins").get<std::map<std::string, double>>();
    for (auto it = j.at("metrics").begin(); it != j.at("metrics").end(); ++it)
      b.metrics[it.key()] = {it.value().at("n"), it.value().at("mean"), it.value().at("sd")};
    b.provenance = j.value("provenance", json::object());
    b.cells = j.value("cells", std::vector<std::string>{});
  } catch (const json::exception& e) {
    fail("{}: incomplete statistical baseline ({}); write it again with --update", file.string(), e.what());
  }
  if (!(b.alpha > 0 && b.alpha < 0.5)) fail("{}: key 'alpha' is {}; expected a level in (0, 0.5)", file.string(), b.alpha);
  for (const auto& [k, d] : b.metrics)
    if (d.n < 2) fail("{}: metric '{}' has n = {}; a reference distribution needs at least 2 runs", file.string(), k, d.n);
  return b;
}

void write_stat_baseline(const StatBaseline& b) {
  json metrics = json::object();
  for (const auto& [k, d] : b.metrics) metrics[k] = {{"n", d.n}, {"mean", d.mean}, {"sd", d.sd}};
  write_json_atomic(b.file, {{"schema", kRegressionSchema},
                             {"tier", "stat"},
                             {"name", b.name},
                             {"protocol", b.protocol},
                             {"scale", b.scale},
                             {"fingerprint", b.fingerprint},
                             {"init", b.init},
                             {"finetune_mode", b.finetune_mode},
                             {"alpha", b.alpha},
                             {"margins", b.margins},
                             {"why", b.why},
                             {"metrics", metrics},
                             {"provenance", b.provenance},
                             {"cells", b.cells}});
}

std::map<std::string, double> stat_metrics(const json& m) {
  std::map<std::string, double> out;
  auto put = [&](const std::string& key, const json* v) {
    if (v && v->is_number()) out[key] = v->get<double>();
  };
  auto get = [](const json& j, std::initializer_list<const char*> path) -> const json* {
    const json* cur = &j;
    for (const char* k : path) {
      if (!cur->is_object() || !cur->contains(k)) return nullptr;
      cur = &(*cur)[k];
    }
    return cur;
  };
  put("source.mIoU", get(m, {"source", "mIoU"}));
  put("target.pooled.mIoU", get(m, {"target", "pooled", "mIoU"}));
  put("rPD", get(m, {"rPD"}));
  if (const json* pc = get(m, {"target", "per_condition"}); pc && pc->is_object())
    for (auto it = pc->begin(); it != pc->end(); ++it) put("target." + it.key() + ".mIoU", get(it.value(), {"mIoU"}));
  return out;
}

std::map<std::string, Distribution> distributions(const std::vector<std::map<std::string, double>>& runs) {
  std::map<std::string, std::vector<double>> values;
  for (const auto& r : runs)
    for (const auto& [k, v] : r) values[k].push_back(v);
  std::map<std::string, Distribution> out;
  for (const auto& [k, v] : values) {
    Distribution d;
    d.n = static_cast<int64_t>(v.size());
    for (double x : v) d.mean += x;
    d.mean /= static_cast<double>(d.n);
    double ss = 0;
    for (double x : v) ss += (x - d.mean) * (x - d.mean);
    d.sd = d.n > 1 ? std::sqrt(ss / static_cast<double>(d.n - 1)) : 0.0;
    out[k] = d;
  }
  return out;
}

double source_best_constant(const json& m) {
  if (m.contains("source") && m["source"].is_object() && m["source"].contains("best_constant_class_mIoU") &&
      m["source"]["best_constant_class_mIoU"].is_number())
    return m["source"]["best_constant_class_mIoU"].get<double>();
  return std::numeric_limits<double>::quiet_NaN();
}

std::vector<MetricCheck> check_stat(const StatBaseline& b, const std::vector<std::map<std::string, double>>& runs,
                                    const std::vector<double>& best_constant) {
  const auto fresh = distributions(runs);
  // The rPD rule on both sides' mean source mIoU, with the fresh runs' floor (same images as the reference's).
  std::string rpd_note;
  if (!best_constant.empty() && b.metrics.count("source.mIoU") && fresh.count("source.mIoU")) {
    double floor = 0;
    for (double x : best_constant) floor += x;
    floor /= static_cast<double>(best_constant.size());
    const auto ref = stats::rpd_validity(b.metrics.at("source.mIoU").mean, floor);
    const auto now = stats::rpd_validity(fresh.at("source.mIoU").mean, floor);
    if (!ref.meaningful) rpd_note = "reference: " + ref.note;
    else if (!now.meaningful) rpd_note = "fresh runs: " + now.note;
  }
  std::vector<MetricCheck> out;
  for (const auto& [key, ref] : b.metrics) {
    MetricCheck c;
    c.key = key;
    c.ref = ref;
    c.margin = b.margins.count(key) ? b.margins.at(key) : 0.0;
    if (key == "rPD" && !rpd_note.empty()) {
      c.verdict = "not meaningful";
      c.note = rpd_note;
      if (fresh.count(key)) c.fresh = fresh.at(key), c.delta = c.fresh.mean - ref.mean;
      out.push_back(c);
      continue;
    }
    const auto it = fresh.find(key);
    if (it == fresh.end()) {
      c.verdict = "missing";
      out.push_back(c);
      continue;
    }
    c.fresh = it->second;
    c.delta = c.fresh.mean - ref.mean;
    const double a = ref.sd * ref.sd / static_cast<double>(ref.n);
    if (c.fresh.n == 1) {  // a single new run: the prediction-interval form, sd borrowed from the reference
      c.se = std::sqrt(a + ref.sd * ref.sd);
      c.df = static_cast<double>(ref.n - 1);
    } else {
      const double bb = c.fresh.sd * c.fresh.sd / static_cast<double>(c.fresh.n);
      c.se = std::sqrt(a + bb);
      const double den = a * a / static_cast<double>(ref.n - 1) + bb * bb / static_cast<double>(c.fresh.n - 1);
      c.df = den > 0 ? (a + bb) * (a + bb) / den : static_cast<double>(ref.n + c.fresh.n - 2);
    }
    if (c.se > 0) {
      const boost::math::students_t t(c.df);
      c.p_regression = boost::math::cdf(t, (c.delta + c.margin) / c.se);
      c.p_improvement = boost::math::cdf(boost::math::complement(t, (c.delta - c.margin) / c.se));
    } else {  // no spread at all: the margin alone decides
      c.p_regression = c.delta < -c.margin ? 0.0 : 1.0;
      c.p_improvement = c.delta > c.margin ? 0.0 : 1.0;
    }
    c.verdict = c.p_regression < b.alpha ? "regression" : c.p_improvement < b.alpha ? "suspicious improvement" : "ok";
    out.push_back(c);
  }
  return out;
}

}  // namespace clcp::gate
