#include "suite/report/table_model.hpp"

#include <cmath>

#include "suite/core/fsio.hpp"
#include "suite/results/provenance.hpp"

namespace clcp {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::optional<double> pct(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return std::nullopt;
  const double v = j[key].get<double>();
  if (!std::isfinite(v)) return std::nullopt;
  return v * 100.0;
}

std::vector<std::optional<double>> per_class(const json& m) {
  std::vector<std::optional<double>> out;
  if (!m.is_object() || !m.contains("IoU")) return out;
  for (const auto& v : m["IoU"]) out.push_back(v.is_number() ? std::optional<double>(v.get<double>() * 100) : std::nullopt);
  return out;
}

}  // namespace

ReportModel build_report_model(const std::vector<fs::path>& bundle_dirs, const std::string& title) {
  ReportModel model;
  model.title = title;
  model.generated = utc_now_iso();
  for (const auto& dir : bundle_dirs) {
    Bundle b(dir);
    const CellSpec spec = b.read_spec();
    if (model.protocol.empty()) {
      model.protocol = spec.protocol;
      model.scale = spec.scale;
      model.fingerprint = spec.fingerprint;
      if (spec.recipe.contains("target")) model.conditions = spec.recipe["target"]["conditions"].get<std::vector<std::string>>();
    }
    if (std::find(model.fingerprints.begin(), model.fingerprints.end(), spec.fingerprint) == model.fingerprints.end())
      model.fingerprints.push_back(spec.fingerprint);
    ReportCell c;
    c.cell_id = spec.id();
    c.init = spec.init;
    c.finetune_mode = spec.finetune_mode;
    c.seed = spec.seed;
    c.experiment = spec.init + (spec.finetune_mode == "frozen" ? " (fb)" : "");
    c.bundle_dir = dir.string();
    c.state = b.state().value_or("missing");
    if (fs::exists(b.provenance_path())) c.command = b.read_provenance().value("command", "");
    if (c.state == "failed" && fs::exists(b.status_path())) {
      const auto st = read_json(b.status_path());
      if (st.contains("error") && st["error"].is_string()) c.error = st["error"];
    }
    if (c.state == "done" && fs::exists(b.metrics_path())) {
      const json m = b.read_metrics();
      const json& src = m.at("source");
      const json& tgt = m.at("target").at("pooled");
      c.miou_source = pct(src, "mIoU");
      c.aacc_source = pct(src, "aAcc");
      c.miou_target = pct(tgt, "mIoU");
      if (m.contains("rPD") && m["rPD"].is_number()) c.rpd = m["rPD"].get<double>();
      c.images_source = src.value("images", 0);
      c.images_target = tgt.value("images", 0);
      for (const auto& cond : model.conditions) {
        const json& pc = m["target"]["per_condition"];
        c.miou_conditions.push_back(pc.contains(cond) ? pct(pc[cond], "mIoU") : std::nullopt);
      }
      c.iou_source = per_class(src);
      c.iou_target = per_class(tgt);
    }
    model.cells.push_back(std::move(c));
  }
  return model;
}

}  // namespace clcp
