#include "suite/report/render.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <clcp/build_info.hpp>
#include <cmath>
#include <cstdlib>
#include <mstch/mstch.hpp>
#include <set>
#include <tuple>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/data/labels.hpp"
#include "suite/report/gnuplot.hpp"
#include "suite/report/long_format.hpp"
#include "suite/report/pgfplots.hpp"
#include "suite/report/report_figures.hpp"

namespace clcp {
namespace fs = std::filesystem;

fs::path templates_dir() {
  if (const char* env = std::getenv("CLCP_TEMPLATES_DIR")) return env;
  return fs::path(build_info::kSourceDir) / "reports" / "templates";
}

std::string canonical_format(const std::string& format) {
  if (format == "tex" || format == "latex") return "latex";
  if (format == "html" || format == "md" || format == "csv" || format == "json") return format;
  fail("--format {}: unknown report format; use html, latex (or tex), md, csv, json", format);
}

std::string report_file_name(const std::string& format) {
  const std::string f = canonical_format(format);
  return "report." + (f == "latex" ? std::string("tex") : f);
}

namespace {

// Per-format text helpers. f is "html", "latex" or "md".
struct Fmt {
  std::string f;

  std::string esc(const std::string& s) const {
    if (f == "latex") return tex_escape(s);
    std::string out;
    for (char c : s) {
      if (f == "html") {
        switch (c) {
          case '&': out += "&amp;"; break;
          case '<': out += "&lt;"; break;
          case '>': out += "&gt;"; break;
          case '"': out += "&quot;"; break;
          default: out += c;
        }
      } else if (c == '|') {
        out += "\\|";
      } else {
        out += c;
      }
    }
    return out;
  }
  std::string dash() const { return f == "latex" ? "--" : "–"; }
  std::string num(double v, int d) const { return std::isfinite(v) ? fmt::format("{:.{}f}", v, d) : dash(); }
  std::string signed_num(double v, int d) const {
    if (!std::isfinite(v)) return dash();
    const std::string s = fmt::format("{:+.{}f}", v, d);
    return f == "latex" ? "$" + s + "$" : s;
  }
  std::string pm() const { return f == "latex" ? " $\\pm$ " : " ± "; }
  /// "mean ± sd" (mean alone for n = 1, a dash for n = 0).
  std::string stat(const Stat& s, int d) const {
    if (s.n == 0 || !std::isfinite(s.mean)) return dash();
    if (!std::isfinite(s.sd)) return num(s.mean, d);
    return num(s.mean, d) + pm() + num(s.sd, d);
  }
  /// "[lo, hi]" or "".
  std::string ci(const Stat& s, int d) const {
    if (!std::isfinite(s.lo) || !std::isfinite(s.hi)) return "";
    return fmt::format("[{}, {}]", num(s.lo, d), num(s.hi, d));
  }
  /// A path or command for LaTeX: \path{} (url package, breaks anywhere) when safe, else escaped \texttt.
  std::string verbatim(const std::string& s) const {
    if (f != "latex") return esc(s);
    if (s.find_first_of("%#{}\\^~$&") != std::string::npos) return "\\texttt{" + tex_escape(s) + "}";
    return "\\path{" + s + "}";
  }
};

mstch::map stat_ctx(const Fmt& F, const Stat& s, int d) {
  return mstch::map{{"pm", F.stat(s, d)}, {"ci", F.ci(s, d)}, {"n", std::to_string(s.n)}};
}

std::string link_to(const std::string& path, const RenderOptions& o) { return path_from(o.out_dir, path); }

mstch::map group_ctx(const Fmt& F, const Comparison& c, const GroupRow& g, size_t gi, size_t index,
                     const RenderOptions& o, int footnote) {
  mstch::array conds;
  for (const auto& cn : c.conditions) {
    const auto it = g.miou_conditions.find(cn);
    conds.push_back(stat_ctx(F, it == g.miou_conditions.end() ? Stat{} : it->second, 2));
  }
  std::vector<std::string> provs, commands;
  std::set<std::string> seen;
  for (size_t i : g.runs) {
    const RunRow& r = c.runs[i];
    provs.push_back(fmt::format("s{}: {}", r.seed, r.provenance.empty() ? F.dash() : F.verbatim(link_to(r.provenance, o))));
    if (!r.command.empty() && seen.insert(r.command).second) commands.push_back(F.verbatim(r.command));
  }
  const bool pub = g.baseline.has_value();
  const double pcs = pub ? g.baseline->miou_cityscapes : NAN, pac = pub ? g.baseline->miou_acdc : NAN,
               prp = pub ? g.baseline->rpd : NAN;
  mstch::map m{
      {"experiment", F.esc(g.experiment)},
      {"anchor", fmt::format("runs-c{}-{}", index, gi)},
      {"n", fmt::format("{}/{}", g.runs_done, g.runs.size())},
      {"cs", stat_ctx(F, g.miou_source, 2)},
      {"acdc", stat_ctx(F, g.miou_target, 2)},
      {"rpd", g.runs_done == 0 || g.rpd_meaningful
                  ? stat_ctx(F, g.rpd, 2)
                  : mstch::map{{"pm", F.esc(g.rpd_note)}, {"ci", std::string()}, {"n", std::to_string(g.rpd.n)}}},
      {"conditions", conds},
      {"has_pub", pub},
      {"pub_experiment", pub ? F.esc(g.baseline->experiment) : F.dash()},
      {"pub_cs", F.num(pcs, 2)},
      {"pub_acdc", F.num(pac, 2)},
      {"pub_rpd", F.num(prp, 2)},
      {"d_cs", F.signed_num(g.miou_source.mean - pcs, 2)},
      {"d_acdc", F.signed_num(g.miou_target.mean - pac, 2)},
      {"d_rpd", g.rpd_meaningful ? F.signed_num(g.rpd.mean - prp, 2) : F.dash()},
      {"note", F.esc(g.note)},
      {"footnote", std::to_string(footnote)},
      {"provenance", fmt::format("{}", fmt::join(provs, "; "))},
      {"commands", fmt::format("{}", fmt::join(commands, "; "))},
  };
  if (g.clcp) {
    m["epoch"] = g.clcp->epoch ? std::to_string(*g.clcp->epoch) : F.dash();
    m["head"] = g.clcp->head.empty() ? F.dash() : F.esc(g.clcp->head == "mlp" ? "MLP" : "Lin");
    m["lidar_frozen"] = std::string(g.clcp->lidar_frozen ? "yes" : "no");
    m["augment"] = std::string(g.clcp->augment ? "yes" : "no");
    m["finetune"] = F.esc(g.finetune_mode);
    m["label"] = F.esc(g.clcp->label());
  }
  return m;
}

// One figure: SVG (gnuplot) for HTML, TikZ (pgfplots) for LaTeX, or the reason it is not drawn.
mstch::map figure_ctx(const Figure& fig, const Fmt& F, const RenderOptions& o) {
  mstch::map fm{{"id", fig.id}, {"title", F.esc(fig.title)}, {"caption", F.esc(fig.caption)},
                {"omitted", F.esc(fig.omitted)}, {"drawn", fig.omitted.empty()}};
  if (fig.omitted.empty() && F.f == "html") {
    if (!o.plots) {
      fm["drawn"] = false;
      fm["omitted"] = std::string("not drawn (plots disabled)");
    } else {
      try {
        fm["svg"] = render_svg(fig);
      } catch (const UserError& e) {
        fm["drawn"] = false;
        fm["omitted"] = F.esc(fmt::format("not drawn: {}", e.what()));
      }
    }
  }
  if (fig.omitted.empty() && F.f == "latex") fm["tikz"] = render_pgfplots(fig);
  return fm;
}

// The pretraining section: one table per run (every epoch) and the pretraining figures.
mstch::map pretraining_ctx(const ReportModel& model, const Fmt& F, const RenderOptions& o) {
  mstch::array runs, figures;
  for (const auto& r : model.pretraining) {
    mstch::array epochs;
    const bool clcp = r.method == "clcp";  // τ, floor and R@1 are CLCP's; another method has its own table
    for (const auto& e : r.epochs)
      epochs.push_back(mstch::map{{"epoch", std::to_string(e.epoch)},
                                  {"lr", F.esc(fmt::format("{:.3g}", e.lr))},
                                  {"train", F.num(e.train_loss, 3)},
                                  {"val", F.num(e.val_loss, 3)},
                                  {"chance", F.num(e.chance_loss, 3)},
                                  {"tau", clcp ? F.num(e.tau, 3) : F.dash()},
                                  {"floor", clcp ? F.num(e.loss_floor, 3) : F.dash()},
                                  {"r1_il", clcp ? F.num(e.r1_image_to_lidar, 3) : F.dash()},
                                  {"r1_li", clcp ? F.num(e.r1_lidar_to_image, 3) : F.dash()},
                                  {"r1_chance", clcp ? F.num(e.r1_chance, 3) : F.dash()},
                                  {"gallery", clcp ? std::to_string(e.gallery) : F.dash()},
                                  {"diagnostic", F.num(e.diagnostic_value, 3)},
                                  {"diagnostic_chance", F.num(e.diagnostic_chance, 3)},
                                  {"z_std", std::isnan(e.z_std) ? F.dash() : F.num(e.z_std, 4)},
                                  {"z_std_uniform", std::isnan(e.z_std_uniform) ? F.dash() : F.num(e.z_std_uniform, 4)}});
    std::string used;
    for (const auto& u : r.used_by) used += (used.empty() ? "" : ", ") + u;
    runs.push_back(mstch::map{{"cell_id", F.esc(r.cell_id)},
                              {"variant", F.esc(r.variant)},
                              {"protocol", F.esc(r.protocol)},
                              {"scale", F.esc(r.scale)},
                              {"fingerprint", F.esc(r.fingerprint)},
                              {"state", F.esc(r.state)},
                              {"provenance", F.esc(path_from(o.out_dir, r.provenance))},
                              {"command", F.esc(r.command)},
                              {"used_by", used.empty() ? F.dash() : F.esc(used)},
                              {"clcp", clcp},
                              {"method", F.esc(r.method)},
                              {"diagnostic_name",
                               F.esc(r.epochs.empty() || r.epochs.front().diagnostic.empty() ? "diagnostic"
                                                                                            : r.epochs.front().diagnostic)},
                              {"epochs", epochs}});
  }
  for (const Figure& fig : pretrain_figures(model)) figures.push_back(figure_ctx(fig, F, o));
  const bool all_clcp = std::all_of(model.pretraining.begin(), model.pretraining.end(),
                                    [](const PretrainRun& r) { return r.method == "clcp"; });
  return mstch::map{{"runs", runs}, {"figures", figures}, {"all_clcp", all_clcp}};
}

// A paired Δ as "+0.17 [+0.11, +0.22]" (scale: 100 for mIoU fractions → points, 1 for rPD) and its verdict.
mstch::map delta_ctx(const Fmt& F, const stats::Delta& d, double scale, int decimals) {
  const auto& e = d.delta;
  const std::string ci = std::isfinite(e.lo) && std::isfinite(e.hi)
                             ? "[" + F.signed_num(e.lo * scale, decimals) + ", " + F.signed_num(e.hi * scale, decimals) + "]"
                             : "";
  return mstch::map{{"delta", F.signed_num(e.value * scale, decimals)}, {"ci", ci},
                    {"verdict", F.esc(d.verdict.empty() ? std::string("–") : d.verdict)}};
}

mstch::array paired_ctx(const Comparison& c, const Fmt& F) {
  mstch::array rows;
  for (const PairedRow& p : c.paired)
    rows.push_back(mstch::map{{"experiment", F.esc(p.experiment)},
                              {"reference", F.esc(p.reference)},
                              {"seeds", std::to_string(p.seeds)},
                              {"has_note", !p.note.empty()},
                              {"note", F.esc(p.note)},
                              {"cs", delta_ctx(F, p.miou_source, 100, 2)},
                              {"acdc", delta_ctx(F, p.miou_target, 100, 2)},
                              {"rpd", delta_ctx(F, p.rpd, 1, 3)}});
  return rows;
}

mstch::map sensitivity_ctx(const Comparison& c, const Fmt& F) {
  mstch::array checks;
  if (!c.sensitivity) return mstch::map{{"checks", checks}};
  for (const auto& k : c.sensitivity->checks)
    checks.push_back(mstch::map{{"line", F.esc(k.line)}, {"outcome", F.esc(k.outcome)}, {"passes", k.passes},
                                {"role", F.esc(k.role)}});
  return mstch::map{{"headline", F.esc(c.sensitivity->headline)},
                    {"answers", c.sensitivity->answers},
                    {"mde_line", F.esc(c.sensitivity->mde_line)},
                    {"seeds_line", F.esc(c.sensitivity->seeds_line)},
                    {"checks", checks}};
}

// The panel: column names, the legend, and for HTML every tile as a PNG data URI; LaTeX and Markdown include the
// grid file write_report puts beside them (panel_file_name).
mstch::map panel_ctx(const Comparison& c, size_t index, const Fmt& F) {
  mstch::array columns, rows, legend;
  for (const auto& name : c.panel_columns) columns.push_back(mstch::map{{"name", F.esc(name)}});
  if (F.f == "html")
    for (const auto& r : c.panel) {
      mstch::array tiles;
      for (auto t : panel_tiles(r)) {
        // Thumbnails keep the self-contained file small: 320 px wide (area for the photo, nearest for label maps).
        if (t.cols > 320)
          cv::resize(t, t, cv::Size(320, std::max(1, t.rows * 320 / t.cols)), 0, 0,
                     tiles.empty() ? cv::INTER_AREA : cv::INTER_NEAREST);
        tiles.push_back(mstch::map{{"src", png_data_uri(t)}});
      }
      rows.push_back(mstch::map{{"id", F.esc(r.id)}, {"split", F.esc(r.split)}, {"tiles", tiles}});
    }
  for (int k = 0; k < kNumClasses; ++k)
    legend.push_back(mstch::map{{"name", F.esc(std::string(kClassNames[k]))},
                                {"rgb", fmt::format("{},{},{}", kPalette[k][0], kPalette[k][1], kPalette[k][2])}});
  std::string ids;
  for (const auto& r : c.panel) ids += (ids.empty() ? "" : ", ") + r.id;
  return mstch::map{{"columns", columns}, {"rows", rows}, {"legend", legend},
                    {"file", panel_file_name(index)}, {"ids", F.esc(ids)},
                    {"column_list", F.esc(fmt::format("{}", fmt::join(c.panel_columns, ", ")))}};
}

mstch::map comparison_ctx(const ReportModel& model, size_t index, const Fmt& F, const RenderOptions& o) {
  const Comparison& c = model.comparisons[index];
  mstch::array conds, groups, clcp_groups, runs, classes, group_names, figures;
  for (const auto& cn : c.conditions) conds.push_back(mstch::map{{"name", F.esc(cn)}});
  int footnote = 1;
  std::vector<const GroupRow*> clcp_sorted;
  for (size_t gi = 0; gi < c.groups.size(); ++gi) {
    const GroupRow& g = c.groups[gi];
    groups.push_back(group_ctx(F, c, g, gi, index, o, footnote++));
    group_names.push_back(mstch::map{{"name", F.esc(g.experiment)}});
    if (g.clcp) clcp_sorted.push_back(&g);
  }
  std::stable_sort(clcp_sorted.begin(), clcp_sorted.end(), [](const GroupRow* a, const GroupRow* b) {
    return std::make_tuple(a->clcp->head, !a->clcp->lidar_frozen, a->clcp->augment, a->finetune_mode,
                           a->clcp->epoch.value_or(-1)) < std::make_tuple(b->clcp->head, !b->clcp->lidar_frozen,
                                                                          b->clcp->augment, b->finetune_mode,
                                                                          b->clcp->epoch.value_or(-1));
  });
  for (const GroupRow* g : clcp_sorted)
    clcp_groups.push_back(group_ctx(F, c, *g, static_cast<size_t>(g - c.groups.data()), index, o, 0));
  for (size_t gi = 0; gi < c.groups.size(); ++gi)
    for (size_t i : c.groups[gi].runs) {
      const RunRow& r = c.runs[i];
      runs.push_back(mstch::map{
          {"experiment", F.esc(c.groups[gi].experiment)},
          {"anchor", fmt::format("runs-c{}-{}", index, gi)},
          {"first", i == c.groups[gi].runs.front()},
          {"cell_id", F.esc(r.cell_id)},
          {"seed", std::to_string(r.seed)},
          {"state", F.esc(r.unverified.empty() ? r.state : r.state + ", NOT VERIFIED")},
          {"failed", r.state != "done" || !r.unverified.empty()},
          {"error", F.esc(!r.unverified.empty()                       ? r.unverified
                          : r.error.empty() && r.state != "done" ? "(no error recorded)"
                                                                 : r.error)},
          {"cs", F.num(r.miou_source, 2)},
          {"acdc", F.num(r.miou_target, 2)},
          {"rpd", F.num(r.rpd, 2)},
          {"has_provenance", !r.provenance.empty()},
          {"provenance", r.provenance.empty() ? F.dash() : F.verbatim(link_to(r.provenance, o))},
          {"provenance_href", F.esc(link_to(r.provenance, o))},
          {"command", r.command.empty() ? F.dash() : F.verbatim(r.command)},
          {"footnote", std::to_string(footnote++)},
      });
    }
  for (int k = 0; k < kNumClasses; ++k) {
    mstch::array cs, ac;
    for (const auto& g : c.groups) {
      cs.push_back(mstch::map{{"pm", F.stat(k < static_cast<int>(g.iou_source.size()) ? g.iou_source[k] : Stat{}, 1)}});
      ac.push_back(mstch::map{{"pm", F.stat(k < static_cast<int>(g.iou_target.size()) ? g.iou_target[k] : Stat{}, 1)}});
    }
    classes.push_back(mstch::map{{"name", F.esc(std::string(kClassNames[k]))}, {"cs", cs}, {"acdc", ac}});
  }
  for (const Figure& fig : comparison_figures(model, index)) figures.push_back(figure_ctx(fig, F, o));
  std::string colspec_groups;
  for (size_t i = 0; i < c.groups.size(); ++i) colspec_groups += "r";
  std::string colspec_conds;
  for (size_t i = 0; i < c.conditions.size(); ++i) colspec_conds += "r";
  return mstch::map{
      {"index", std::to_string(index)},
      {"number", std::to_string(index + 1)},
      {"fingerprint", F.esc(c.fingerprint)},
      {"protocol", F.esc(c.protocol)},
      {"scale", F.esc(c.scale)},
      {"conditions", conds},
      {"groups", groups},
      {"has_clcp", !clcp_groups.empty()},
      {"has_paired", !c.paired.empty()},
      {"has_sensitivity", c.sensitivity.has_value()},
      {"has_panel", !c.panel.empty()},
      {"panel", c.panel.empty() ? mstch::map{} : panel_ctx(c, index, F)},
      {"sensitivity", sensitivity_ctx(c, F)},
      {"reference", F.esc(c.reference)},
      {"paired", paired_ctx(c, F)},
      {"clcp_groups", clcp_groups},
      {"runs", runs},
      {"classes", classes},
      {"group_names", group_names},
      {"n_groups", std::to_string(c.groups.size())},
      {"figures", figures},
      {"colspec_groups", colspec_groups},
      {"colspec_conds", colspec_conds},
  };
}

std::string render_template(const ReportModel& model, const std::string& f, const RenderOptions& o) {
  const Fmt F{f};
  const std::string ext = f == "latex" ? "tex" : f;
  const fs::path tpl = templates_dir() / ("report." + ext + ".mustache");
  if (!fs::exists(tpl)) fail("{}: report template missing; reinstall reports/templates or set CLCP_TEMPLATES_DIR", tpl.string());
  mstch::array comparisons, notes, published, fingerprints;
  for (size_t i = 0; i < model.comparisons.size(); ++i) {
    comparisons.push_back(comparison_ctx(model, i, F, o));
    fingerprints.push_back(mstch::map{{"fingerprint", F.esc(model.comparisons[i].fingerprint)},
                                      {"number", std::to_string(i + 1)}});
  }
  for (const auto& n : model.notes) notes.push_back(mstch::map{{"text", F.esc(n)}});
  if (model.baseline)
    for (const auto& row : model.baseline->rows) {
      std::string matched;
      for (const auto& c : model.comparisons)
        for (const auto& g : c.groups)
          if (g.baseline && g.baseline->table == row.table && g.baseline->row == row.row)
            matched += (matched.empty() ? "" : ", ") + g.experiment;
      published.push_back(mstch::map{{"table", F.esc(row.table)},
                                     {"row", std::to_string(row.row)},
                                     {"experiment", F.esc(row.experiment)},
                                     {"init", F.esc(row.init)},
                                     {"mode", F.esc(row.finetune_mode)},
                                     {"cs", F.num(row.miou_cityscapes, 2)},
                                     {"acdc", F.num(row.miou_acdc, 2)},
                                     {"rpd", F.num(row.rpd, 2)},
                                     {"matched", matched.empty() ? F.dash() : F.esc(matched)}});
    }
  const auto& b = model.bootstrap;
  mstch::map ctx{
      {"title", F.esc(model.title)},
      {"generated", F.esc(model.generated)},
      {"mixed", model.comparisons.size() > 1},
      {"n_fingerprints", std::to_string(model.comparisons.size())},
      {"fingerprints", fingerprints},
      {"empty", model.comparisons.empty()},
      {"notes", notes},
      {"has_baseline", model.baseline.has_value()},
      {"baseline_name", F.esc(model.baseline_name)},
      {"baseline_source", F.esc(model.baseline ? model.baseline->source : "")},
      {"published", published},
      {"bootstrap", F.esc(fmt::format("{:.0f}% percentile bootstrap CI of the mean, two-level (seeds, then images "
                                      "within each dataset and condition), {} replicates, seed {}",
                                      b.level * 100, b.replicates, b.seed))},
      {"comparisons", comparisons},
      {"has_pretraining", !model.pretraining.empty()},
      {"pretraining", pretraining_ctx(model, F, o)},
  };
  return mstch::render(read_file(tpl), ctx);
}

}  // namespace

std::string render_report(const ReportModel& model, const std::string& format, const RenderOptions& opts) {
  const std::string f = canonical_format(format);
  if (f == "csv") return long_csv(model, opts.out_dir);
  if (f == "json") return long_json(model, opts.out_dir);
  return render_template(model, f, opts);
}

std::string panel_file_name(size_t comparison) { return fmt::format("panel-c{}.png", comparison); }

std::vector<fs::path> write_report(const ReportModel& model, const fs::path& out_dir,
                                   const std::vector<std::string>& formats, RenderOptions o) {
  ensure_writable_dir(out_dir);
  o.out_dir = out_dir;
  std::vector<fs::path> written;
  for (const auto& f : formats) {
    const fs::path p = out_dir / report_file_name(f);
    write_atomic(p, render_report(model, f, o));
    written.push_back(p);
  }
  // The panels' grid images, which report.tex and report.md include (report.html embeds its tiles).
  for (size_t i = 0; i < model.comparisons.size(); ++i) {
    if (model.comparisons[i].panel.empty()) continue;
    std::vector<uchar> png;
    if (!cv::imencode(".png", panel_grid(model.comparisons[i].panel), png))
      fail("{}: PNG encoding of the qualitative panel failed", (out_dir / panel_file_name(i)).string());
    write_atomic(out_dir / panel_file_name(i), std::string(png.begin(), png.end()));
    written.push_back(out_dir / panel_file_name(i));
  }
  return written;
}

}  // namespace clcp
