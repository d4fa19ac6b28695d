#include "suite/report/render.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <mstch/mstch.hpp>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/data/labels.hpp"

namespace clcp {
namespace fs = std::filesystem;

fs::path templates_dir() {
  if (const char* env = std::getenv("CLCP_TEMPLATES_DIR")) return env;
  return fs::path(CLCP_SOURCE_DIR) / "reports" / "templates";
}

namespace {

std::string escape(const std::string& s, const std::string& format) {
  std::string out;
  for (char c : s) {
    if (format == "html") {
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        default: out += c;
      }
    } else if (format == "tex") {
      switch (c) {
        case '&': case '%': case '$': case '#': case '_': case '{': case '}': out += '\\'; out += c; break;
        case '~': out += "\\textasciitilde{}"; break;
        case '^': out += "\\textasciicircum{}"; break;
        case '\\': out += "\\textbackslash{}"; break;
        default: out += c;
      }
    } else {
      if (c == '|') out += "\\|";
      else out += c;
    }
  }
  return out;
}

std::string num(const std::optional<double>& v, int decimals, const std::string& format) {
  if (!v) return format == "tex" ? "--" : "–";
  return fmt::format("{:.{}f}", *v, decimals);
}

mstch::map cell_context(const ReportCell& c, const ReportModel& m, const std::string& f) {
  mstch::array conditions;
  for (size_t i = 0; i < m.conditions.size(); ++i)
    conditions.push_back(mstch::map{{"value", num(i < c.miou_conditions.size() ? c.miou_conditions[i] : std::nullopt, 2, f)}});
  mstch::array classes;
  for (int k = 0; k < kNumClasses; ++k) {
    auto at = [&](const std::vector<std::optional<double>>& v) { return k < static_cast<int>(v.size()) ? v[k] : std::nullopt; };
    classes.push_back(mstch::map{{"name", escape(std::string(kClassNames[k]), f)},
                                 {"source", num(at(c.iou_source), 2, f)},
                                 {"target", num(at(c.iou_target), 2, f)}});
  }
  return mstch::map{
      {"experiment", escape(c.experiment, f)},
      {"cell_id", escape(c.cell_id, f)},
      {"seed", std::to_string(c.seed)},
      {"state", escape(c.state, f)},
      {"done", c.state == "done"},
      {"error", escape(c.error, f)},
      {"miou_source", num(c.miou_source, 2, f)},
      {"miou_target", num(c.miou_target, 2, f)},
      {"miou_pooled", num(c.miou_target, 2, f)},
      {"rpd", num(c.rpd, 2, f)},
      {"images_source", std::to_string(c.images_source)},
      {"images_target", std::to_string(c.images_target)},
      {"bundle", escape(c.bundle_dir, f)},
      {"provenance", escape((fs::path(c.bundle_dir) / "provenance.json").string(), f)},
      {"command", escape(c.command, f)},
      {"conditions", conditions},
      {"classes", classes},
  };
}

}  // namespace

std::string render_report(const ReportModel& model, const std::string& format) {
  const fs::path tpl = templates_dir() / ("report." + format + ".mustache");
  if (!fs::exists(tpl)) fail("{}: report template missing; formats available: md, html, tex", tpl.string());
  mstch::array cells, condition_names;
  for (const auto& c : model.cells) cells.push_back(cell_context(c, model, format));
  for (const auto& n : model.conditions) condition_names.push_back(mstch::map{{"name", escape(n, format)}});
  std::string fingerprints;
  for (const auto& fp : model.fingerprints) fingerprints += (fingerprints.empty() ? "" : ", ") + fp;
  mstch::map ctx{
      {"title", escape(model.title, format)},
      {"protocol", escape(model.protocol, format)},
      {"scale", escape(model.scale, format)},
      {"fingerprint", escape(model.fingerprint, format)},
      {"generated", escape(model.generated, format)},
      {"mixed_fingerprints", model.fingerprints.size() > 1},
      {"fingerprints", escape(fingerprints, format)},
      {"condition_names", condition_names},
      {"cells", cells},
  };
  return mstch::render(read_file(tpl), ctx);
}

std::vector<fs::path> write_report(const ReportModel& model, const fs::path& out_dir,
                                   const std::vector<std::string>& formats) {
  ensure_writable_dir(out_dir);
  std::vector<fs::path> written;
  for (const auto& f : formats) {
    const fs::path p = out_dir / ("report." + f);
    write_atomic(p, render_report(model, f));
    written.push_back(p);
  }
  return written;
}

}  // namespace clcp
