#include "suite/report/long_format.hpp"

#include <fmt/format.h>

#include <cmath>

#include "suite/data/labels.hpp"

namespace clcp {
using nlohmann::json;

namespace {

// Rounded to 6 decimals so the files show 61.0, not the 60.999999999999986 of a mean of fractions × 100.
json num(double v) { return std::isfinite(v) ? json(std::round(v * 1e6) / 1e6) : json(nullptr); }

json base_row(const Comparison& c, const GroupRow& g) {
  json r;
  for (const char* k : kLongColumns) r[k] = nullptr;
  r["fingerprint"] = c.fingerprint;
  r["protocol"] = c.protocol;
  r["scale"] = c.scale;
  r["experiment"] = g.experiment;
  r["init"] = g.init;
  r["finetune_mode"] = g.finetune_mode;
  if (g.clcp) {
    if (g.clcp->epoch) r["clcp_epoch"] = *g.clcp->epoch;
    if (!g.clcp->head.empty()) r["clcp_head"] = g.clcp->head;
    r["clcp_lidar_frozen"] = g.clcp->lidar_frozen;
    r["clcp_augment"] = g.clcp->augment;
  }
  return r;
}

struct MetricKey {
  const char *dataset, *metric, *unit;
  std::string condition, cls;
};

json group_row(json r, const MetricKey& k, const Stat& s, double published) {
  r["level"] = "group";
  r["dataset"] = k.dataset;
  r["condition"] = k.condition;
  r["class"] = k.cls;
  r["metric"] = k.metric;
  r["unit"] = k.unit;
  r["n"] = s.n;
  r["mean"] = num(s.mean);
  r["sd"] = num(s.sd);
  r["ci_low"] = num(s.lo);
  r["ci_high"] = num(s.hi);
  r["value"] = num(s.mean);
  r["published"] = num(published);
  r["delta"] = num(s.mean - published);
  return r;
}

json run_row(json r, const MetricKey& k, const RunRow& run, double v, const std::filesystem::path& out_dir) {
  r["level"] = "run";
  r["seed"] = run.seed;
  r["cell_id"] = run.cell_id;
  r["state"] = run.state;
  r["dataset"] = k.dataset;
  r["condition"] = k.condition;
  r["class"] = k.cls;
  r["metric"] = k.metric;
  r["unit"] = k.unit;
  r["n"] = run.state == "done" ? 1 : 0;
  r["value"] = num(v);
  r["provenance"] = path_from(out_dir, run.provenance);
  r["command"] = run.command;
  r["error"] = run.error;
  return r;
}

double at(const std::vector<double>& v, size_t i) { return i < v.size() ? v[i] : NAN; }

std::string csv_field(const json& v) {
  if (v.is_null()) return "";
  std::string s = v.is_string() ? v.get<std::string>() : v.is_boolean() ? (v.get<bool>() ? "true" : "false") : v.dump();
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

}  // namespace

std::vector<json> long_rows(const ReportModel& model, const std::filesystem::path& out_dir) {
  std::vector<json> rows;
  for (const auto& c : model.comparisons)
    for (const auto& g : c.groups) {
      const json base = base_row(c, g);
      const double pub_cs = g.baseline ? g.baseline->miou_cityscapes : NAN;
      const double pub_acdc = g.baseline ? g.baseline->miou_acdc : NAN;
      const double pub_rpd = g.baseline ? g.baseline->rpd : NAN;
      const MetricKey cs{"cityscapes_val", "mIoU", "percent", "", ""};
      const MetricKey acdc{"acdc_val", "mIoU", "percent", "pooled", ""};
      const MetricKey rpd{"acdc_val", "rPD", "ratio", "pooled", ""};
      rows.push_back(group_row(base, cs, g.miou_source, pub_cs));
      rows.push_back(group_row(base, acdc, g.miou_target, pub_acdc));
      rows.push_back(group_row(base, rpd, g.rpd, pub_rpd));
      for (const auto& cond : c.conditions) {
        const auto it = g.miou_conditions.find(cond);
        rows.push_back(group_row(base, {"acdc_val", "mIoU", "percent", cond, ""},
                                 it == g.miou_conditions.end() ? Stat{} : it->second, NAN));
      }
      for (int k = 0; k < kNumClasses; ++k) {
        const std::string cls(kClassNames[k]);
        rows.push_back(group_row(base, {"cityscapes_val", "IoU", "percent", "", cls},
                                 k < static_cast<int>(g.iou_source.size()) ? g.iou_source[k] : Stat{}, NAN));
        rows.push_back(group_row(base, {"acdc_val", "IoU", "percent", "pooled", cls},
                                 k < static_cast<int>(g.iou_target.size()) ? g.iou_target[k] : Stat{}, NAN));
      }
      for (size_t i : g.runs) {
        const RunRow& r = c.runs[i];
        rows.push_back(run_row(base, cs, r, r.miou_source, out_dir));
        rows.push_back(run_row(base, acdc, r, r.miou_target, out_dir));
        rows.push_back(run_row(base, rpd, r, r.rpd, out_dir));
        if (r.state != "done") continue;
        for (const auto& cond : c.conditions) {
          const auto it = r.miou_conditions.find(cond);
          rows.push_back(run_row(base, {"acdc_val", "mIoU", "percent", cond, ""}, r,
                                 it == r.miou_conditions.end() ? NAN : it->second, out_dir));
        }
        for (int k = 0; k < kNumClasses; ++k) {
          const std::string cls(kClassNames[k]);
          rows.push_back(run_row(base, {"cityscapes_val", "IoU", "percent", "", cls}, r, at(r.iou_source, k), out_dir));
          rows.push_back(run_row(base, {"acdc_val", "IoU", "percent", "pooled", cls}, r, at(r.iou_target, k), out_dir));
        }
      }
    }
  return rows;
}

std::string long_csv(const ReportModel& model, const std::filesystem::path& out_dir) {
  std::string out = fmt::format("{}\n", fmt::join(kLongColumns, ","));
  for (const auto& r : long_rows(model, out_dir)) {
    for (size_t i = 0; i < kLongColumns.size(); ++i) out += (i ? "," : "") + csv_field(r[kLongColumns[i]]);
    out += "\n";
  }
  return out;
}

std::string long_json(const ReportModel& model, const std::filesystem::path& out_dir) {
  nlohmann::ordered_json arr = nlohmann::ordered_json::array();
  for (const auto& r : long_rows(model, out_dir)) {
    nlohmann::ordered_json o;
    for (const char* k : kLongColumns) o[k] = r[k];
    arr.push_back(std::move(o));
  }
  return arr.dump(1) + "\n";
}

}  // namespace clcp
