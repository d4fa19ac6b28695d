#include "suite/report/table_model.hpp"

#include "suite/eval/baseline.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <set>
#include <tuple>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/report/paired.hpp"
#include "suite/data/labels.hpp"
#include "suite/results/bundle.hpp"
#include "suite/results/cell_lock.hpp"
#include "suite/results/integrity.hpp"
#include "suite/results/pretrain_cell.hpp"
#include "suite/results/provenance.hpp"
#include "suite/stats/aggregate.hpp"

namespace clcp {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

double frac_pct(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return stats::kNaN;
  const double v = j[key].get<double>();
  return std::isfinite(v) ? v * 100.0 : stats::kNaN;
}

std::vector<double> per_class(const json& m) {
  std::vector<double> out(kNumClasses, stats::kNaN);
  if (!m.is_object() || !m.contains("IoU") || !m["IoU"].is_array()) return out;
  for (size_t k = 0; k < out.size() && k < m["IoU"].size(); ++k)
    if (m["IoU"][k].is_number()) out[k] = m["IoU"][k].get<double>() * 100.0;
  return out;
}

int mode_rank(const std::string& m) { return m == "full" ? 0 : m == "frozen" ? 1 : 2; }

std::string experiment_name(const std::string& init, const std::string& mode) {
  return init_display_name(init) + (mode == "frozen" ? " (fb)" : mode == "full" ? "" : " (" + mode + ")");
}

void read_train_log(const Bundle& b, RunRow& r) {
  if (!fs::exists(b.train_log_path())) return;
  const std::string text = read_file(b.train_log_path());
  size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    const std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    ++line_no;
    if (line.empty()) continue;
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("iter"))
      fail("{}:{}: expected one JSON object with \"iter\" per line; the bundle's train log is damaged, re-run the cell",
           b.train_log_path().string(), line_no);
    r.iter.push_back(j["iter"].get<double>());
    r.loss.push_back(j.contains("loss") && j["loss"].is_number() ? j["loss"].get<double>() : stats::kNaN);
    r.lr.push_back(j.contains("lr") && j["lr"].is_number() ? j["lr"].get<double>() : stats::kNaN);
  }
}

// "<source dataset>_<source eval split>" of a spec's recipe (the source evidence file's name), "" if absent.
std::string recipe_evidence_name(const json& spec_raw) {
  const json* rec = spec_raw.contains("recipe") ? &spec_raw["recipe"] : nullptr;
  if (!rec || !rec->contains("source")) return "";
  const json& s = (*rec)["source"];
  return s.value("dataset", "") + "_" + s.value("eval_split", "");
}

RunRow read_run(const fs::path& dir, json& spec_raw, CellSpec& spec, bool allow_unverified) {
  Bundle b(dir);
  if (!fs::exists(b.spec_path())) fail("{}: no spec.json; pass a result bundle folder", dir.string());
  spec_raw = read_json(b.spec_path());
  spec = b.read_spec();
  RunRow r;
  r.cell_id = spec.id();
  r.init = spec.init;
  r.finetune_mode = spec.finetune_mode;
  r.fingerprint = spec.fingerprint;
  r.seed = spec.seed;
  r.bundle_dir = dir.string();
  r.state = observed_state(b).value_or("none");  // "running" without a live owner reads "interrupted"
  // A finished bundle is used only when it verifies (integrity.hpp); with --allow-unverified it is marked instead.
  if (r.state == "done") r.unverified = require_verified(dir, allow_unverified);
  if (fs::exists(b.status_path())) {
    const json st = read_json(b.status_path());
    if (st.contains("error") && st["error"].is_string()) r.error = st["error"];
    if (st.contains("stage") && st["stage"].is_string()) r.stage = st["stage"];
  }
  if (fs::exists(b.provenance_path())) {
    r.provenance = b.provenance_path().string();
    const json prov = b.read_provenance();
    // "rerun" re-runs this one cell; bundles written before it existed have only the grid command.
    if (prov.contains("rerun") && prov["rerun"].is_string())
      r.command = prov["rerun"];
    else if (prov.contains("command") && prov["command"].is_string())
      r.command = prov["command"];
  }
  if (r.state == "done" && fs::exists(b.metrics_path())) {
    const json m = b.read_metrics();
    const json& src = m.at("source");
    const json& tgt = m.at("target").at("pooled");
    r.miou_source = frac_pct(src, "mIoU");
    r.miou_target = frac_pct(tgt, "mIoU");
    if (m.contains("rPD") && m["rPD"].is_number()) r.rpd = m["rPD"].get<double>();
    if (src.contains("best_constant_class_mIoU") && src["best_constant_class_mIoU"].is_number())
      r.best_constant_source = src["best_constant_class_mIoU"].get<double>();
    else if (const fs::path ev = b.evidence_path(recipe_evidence_name(spec_raw)); fs::exists(ev))
      r.best_constant_source = best_constant_class_miou(read_evidence_jsonl(ev));  // bundles older than the key
    if (m["target"].contains("per_condition"))
      for (const auto& [cond, v] : m["target"]["per_condition"].items()) r.miou_conditions[cond] = frac_pct(v, "mIoU");
    r.iou_source = per_class(src);
    r.iou_target = per_class(tgt);
  }
  read_train_log(b, r);
  return r;
}

Stat from_summary(const stats::MetricSummary& m, double scale) {
  return Stat{m.seeds.mean * scale, m.seeds.sd * scale, m.ci.lo * scale, m.ci.hi * scale, m.seeds.n};
}

Stat from_values(const std::vector<double>& v) {
  std::vector<double> finite;
  for (double x : v)
    if (std::isfinite(x)) finite.push_back(x);
  const auto ms = stats::mean_sd(finite);
  return Stat{ms.mean, ms.sd, stats::kNaN, stats::kNaN, ms.n};
}

// The published row for a group: a row whose init is the group's init (display name) and mode; "imagenet" also
// matches the thesis's "imagenet-timm"; a CLCP checkpoint also matches the Table 4.3 row of its label ("Ep19 (Lin,
// fb)"). First row in file order wins (Table 4.1 lists the B=8 recipe before the B64 variants).
std::optional<stats::BaselineRow> match_baseline(const stats::Baseline& base, const GroupRow& g,
                                                 const std::map<std::string, std::string>& published_rows) {
  if (const auto it = published_rows.find(g.init); it != published_rows.end()) {
    for (const auto& row : base.rows)
      if (row.experiment == it->second) return row;
    return std::nullopt;
  }
  const std::string init = init_display_name(g.init);
  for (const auto& row : base.rows)
    if (row.finetune_mode == g.finetune_mode && (row.init == init || row.init == init + "-timm")) return row;
  if (g.clcp && g.clcp->epoch)
    for (const auto& row : base.rows)
      if (row.finetune_mode == g.finetune_mode && row.table == "4.3" && row.experiment == g.clcp->label()) return row;
  return std::nullopt;
}

std::string now_or_fixed(const std::string& fixed) {
  if (!fixed.empty()) return fixed;
  if (const char* sde = std::getenv("SOURCE_DATE_EPOCH")) {
    const std::time_t t = static_cast<std::time_t>(std::strtoll(sde, nullptr, 10));
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
  }
  return utc_now_iso();
}

// "<init>.<mode>.s<seed>-<hash>" → RunRow in state "not run".
std::optional<RunRow> planned_run(const std::string& id, const std::string& fingerprint) {
  const auto d1 = id.find('.');
  const auto d2 = id.find('.', d1 == std::string::npos ? d1 : d1 + 1);
  const auto dash = id.rfind('-');
  if (d1 == std::string::npos || d2 == std::string::npos || dash == std::string::npos || dash < d2 ||
      id.compare(d2 + 1, 1, "s") != 0)
    return std::nullopt;
  RunRow r;
  r.cell_id = id;
  r.init = id.substr(0, d1);
  r.finetune_mode = id.substr(d1 + 1, d2 - d1 - 1);
  try {
    r.seed = std::stoll(id.substr(d2 + 2, dash - d2 - 2));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  r.fingerprint = fingerprint;
  r.state = "not run";
  r.error = "planned but no result bundle (the run stopped before this cell)";
  return r;
}

}  // namespace

bool Comparison::has_clcp() const {
  return std::any_of(groups.begin(), groups.end(), [](const GroupRow& g) { return g.clcp.has_value(); });
}

std::string path_from(const fs::path& from, const std::string& path) {
  if (path.empty() || from.empty()) return path;
  const fs::path rel = fs::absolute(path).lexically_normal().lexically_relative(fs::absolute(from).lexically_normal());
  return rel.empty() ? path : rel.string();
}

std::vector<fs::path> find_plan_files(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && name.rfind("plan-", 0) == 0 && e.path().extension() == ".json") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void use_protocol_report_settings(ReportOptions& o, const json& protocol) {
  if (const auto c = protocol.find("controls"); c != protocol.end() && c->is_object()) {
    auto add = [](std::vector<std::string>& to, const json& list) {
      for (const auto& x : list)
        if (x.is_string() && std::find(to.begin(), to.end(), x.get<std::string>()) == to.end()) to.push_back(x);
    };
    add(o.controls.positive, c->value("positive", json::array()));
    add(o.controls.negative, c->value("negative", json::array()));
  }
  const auto r = protocol.find("report");
  if (r == protocol.end() || !r->is_object()) return;
  if (o.baseline.empty()) o.baseline = r->value("baseline", "");
  const json rows = r->value("published_rows", json::object());  // (items() of a temporary would dangle)
  for (const auto& [init, label] : rows.items())
    if (label.is_string()) o.published_rows[init] = label.get<std::string>();
}

ReportModel build_report_model(const std::vector<fs::path>& bundle_dirs, const std::string& title) {
  ReportOptions o;
  o.title = title;
  return build_report_model(bundle_dirs, o);
}

namespace {

// Per group, the folder of its lowest-seed finished run ("" when none): the panel shows one prediction per group.
template <class Items>
std::vector<fs::path> items_dirs_by_group(const Comparison& c, const Items& items) {
  std::vector<fs::path> out;
  for (const GroupRow& g : c.groups) {
    fs::path dir;
    for (size_t i : g.runs)
      if (c.runs[i].state == "done" && !items[i].dir.empty()) {
        dir = items[i].dir;
        break;
      }
    out.push_back(dir);
  }
  return out;
}

// The panel rows: every evidence/panel/<split>/<stem>.image.png of any group's run, each group's <stem>.pred.png.
void add_panel(Comparison& c, const std::vector<fs::path>& run_dirs, const std::string& source_split) {
  // (source split first, split, stem) → row: the source's images lead, as in the tables.
  std::map<std::tuple<bool, std::string, std::string>, PanelRow> rows;
  std::vector<size_t> columns;                                     // group indices with panel files
  for (size_t g = 0; g < run_dirs.size(); ++g) {
    const fs::path root = run_dirs[g] / "evidence" / "panel";
    std::error_code ec;
    if (run_dirs[g].empty() || !fs::is_directory(root, ec)) continue;
    columns.push_back(g);
    for (const auto& split : fs::directory_iterator(root, ec)) {
      if (!split.is_directory()) continue;
      for (const auto& f : fs::directory_iterator(split.path(), ec)) {
        const std::string name = f.path().filename().string();
        const std::string suffix = ".image.png";
        if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
          continue;
        const std::string stem = name.substr(0, name.size() - suffix.size());
        const std::string split_name = split.path().filename().string();
        PanelRow& row = rows[{split_name != source_split, split_name, stem}];
        if (row.image.empty()) {
          row.split = split.path().filename().string();
          row.id = stem;
          for (size_t p = row.id.find("__"); p != std::string::npos; p = row.id.find("__", p + 1))
            row.id.replace(p, 2, "/");
          row.image = f.path();
          row.label = split.path() / (stem + ".label.png");
        }
      }
    }
  }
  if (columns.empty()) return;
  for (size_t g : columns) c.panel_columns.push_back(c.groups[g].experiment);
  for (auto& [key, row] : rows) {
    for (size_t g : columns) {
      const fs::path pred =
          run_dirs[g] / "evidence" / "panel" / std::get<1>(key) / (std::get<2>(key) + ".pred.png");
      row.preds.push_back(fs::exists(pred) ? pred : fs::path());
    }
    c.panel.push_back(std::move(row));
  }
}

}  // namespace

ReportModel build_report_model(const std::vector<fs::path>& bundle_dirs, const ReportOptions& opts) {
  ReportModel model;
  model.title = opts.title;
  model.generated = now_or_fixed(opts.generated);
  model.bootstrap = opts.bootstrap;
  model.baseline_name = opts.baseline;
  if (!opts.baseline.empty()) {  // "a,b": rows of several baseline files, in the order given
    stats::Baseline merged;
    std::string rest = opts.baseline;
    for (size_t pos = 0; pos <= rest.size();) {
      const size_t comma = std::min(rest.find(',', pos), rest.size());
      const std::string name = rest.substr(pos, comma - pos);
      pos = comma + 1;
      if (name.empty()) continue;
      stats::Baseline b = stats::load_baseline(name);
      merged.name += (merged.name.empty() ? "" : ", ") + b.name;
      merged.source += (merged.source.empty() ? "" : "; ") + b.source;
      merged.rows.insert(merged.rows.end(), b.rows.begin(), b.rows.end());
    }
    model.baseline = merged;
  }

  // Read every bundle once; key the comparisons by fingerprint (in order of first appearance after sorting).
  struct Item {
    RunRow run;
    fs::path dir;
    json spec_raw;
    CellSpec spec;
  };
  std::vector<fs::path> dirs = bundle_dirs;
  std::sort(dirs.begin(), dirs.end());
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  std::map<std::string, std::vector<Item>> by_fp;
  std::set<std::string> seen_ids;
  std::map<std::string, PretrainRun> pretraining;  // by bundle folder
  auto add_pretraining = [&](const fs::path& dir) {
    const std::string key = fs::absolute(dir).lexically_normal().string();
    if (!pretraining.count(key)) pretraining.emplace(key, read_pretrain_run(dir));
    return key;
  };
  for (const auto& d : dirs) {
    if (const json raw = read_json(Bundle(d).spec_path()); is_pretrain_spec(raw)) {
      if (Bundle(d).done()) require_verified(d, opts.allow_unverified);
      add_pretraining(d);
      continue;
    }
    Item it;
    it.dir = d;
    it.run = read_run(d, it.spec_raw, it.spec, opts.allow_unverified);
    if (const fs::path pre = chained_pretrain_bundle(d, it.spec_raw); !pre.empty() && fs::exists(pre / "spec.json")) {
      auto& run = pretraining.at(add_pretraining(pre));
      if (std::find(run.used_by.begin(), run.used_by.end(), it.run.init) == run.used_by.end())
        run.used_by.push_back(it.run.init);
    }
    if (!it.run.unverified.empty())
      model.notes.push_back(fmt::format("NOT VERIFIED (used with --allow-unverified): {}", it.run.unverified));
    seen_ids.insert(it.run.cell_id);
    by_fp[it.spec.fingerprint].push_back(std::move(it));
  }
  for (auto& [key, run] : pretraining) model.pretraining.push_back(std::move(run));
  // Planned cells without a bundle.
  std::map<std::string, std::pair<std::string, std::string>> plan_meta;  // fingerprint → (protocol, scale)
  for (const auto& plan_path : opts.plans) {
    const json plan = read_json(plan_path);
    if (!plan.contains("fingerprint") || !plan.contains("cells") || !plan["cells"].is_array())
      fail("{}: expected a plan file with \"fingerprint\" and \"cells\"; pass the plan-*.json `clcp-bench run` wrote",
           plan_path.string());
    const std::string fp = plan["fingerprint"];
    plan_meta[fp] = {plan_path.parent_path().filename().string(), plan.value("scale", "")};
    for (const auto& id : plan["cells"]) {
      if (!id.is_string() || seen_ids.count(id.get<std::string>())) continue;
      if (auto r = planned_run(id.get<std::string>(), fp)) {
        seen_ids.insert(r->cell_id);
        Item it;
        it.run = *r;
        by_fp[fp].push_back(std::move(it));
      }
    }
  }

  for (auto& [fp, items] : by_fp) {
    Comparison c;
    c.fingerprint = fp;
    for (const auto& it : items)
      if (!it.dir.empty()) {
        c.protocol = it.spec.protocol;
        c.scale = it.spec.scale;
        if (it.spec.recipe.contains("target") && it.spec.recipe["target"].contains("conditions"))
          c.conditions = it.spec.recipe["target"]["conditions"].get<std::vector<std::string>>();
        break;
      }
    if (c.protocol.empty() && plan_meta.count(fp)) std::tie(c.protocol, c.scale) = plan_meta[fp];
    std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
      const auto ka = std::make_tuple(init_display_name(a.run.init), mode_rank(a.run.finetune_mode), a.run.seed, a.run.cell_id);
      const auto kb = std::make_tuple(init_display_name(b.run.init), mode_rank(b.run.finetune_mode), b.run.seed, b.run.cell_id);
      return ka < kb;
    });
    for (size_t i = 0; i < items.size(); ++i) {
      const RunRow& r = items[i].run;
      c.runs.push_back(r);
      if (c.groups.empty() || c.groups.back().init != r.init || c.groups.back().finetune_mode != r.finetune_mode) {
        GroupRow g;
        g.init = r.init;
        g.finetune_mode = r.finetune_mode;
        g.experiment = experiment_name(r.init, r.finetune_mode);
        const json meta = items[i].spec_raw.is_object() && items[i].spec_raw.contains("init_metadata")
                              ? items[i].spec_raw["init_metadata"]
                              : json(nullptr);
        g.clcp = parse_clcp_init(r.init, meta);
        c.groups.push_back(std::move(g));
      }
      c.groups.back().runs.push_back(i);
    }
    // Numbers per group: bootstrap summary from the evidence (stats), per-class mean ± sd from metrics.json.
    std::vector<std::vector<fs::path>> dirs_of_group;
    dirs_of_group.reserve(c.groups.size());
    for (GroupRow& g : c.groups) {
      std::vector<fs::path>& group_dirs = dirs_of_group.emplace_back();
      for (size_t i : g.runs)
        if (!items[i].dir.empty()) group_dirs.push_back(items[i].dir);
      std::vector<double> src, tgt, rpd, best_constant;
      std::map<std::string, std::vector<double>> cond;
      std::vector<std::vector<double>> cls_s(kNumClasses), cls_t(kNumClasses);
      for (size_t i : g.runs) {
        const RunRow& r = c.runs[i];
        if (r.state != "done") continue;
        ++g.runs_done;
        src.push_back(r.miou_source);
        tgt.push_back(r.miou_target);
        rpd.push_back(r.rpd);
        best_constant.push_back(r.best_constant_source);
        for (const auto& cn : c.conditions) cond[cn].push_back(r.miou_conditions.count(cn) ? r.miou_conditions.at(cn) : stats::kNaN);
        for (int k = 0; k < kNumClasses; ++k) {
          cls_s[k].push_back(k < static_cast<int>(r.iou_source.size()) ? r.iou_source[k] : stats::kNaN);
          cls_t[k].push_back(k < static_cast<int>(r.iou_target.size()) ? r.iou_target[k] : stats::kNaN);
        }
      }
      g.miou_source = from_values(src);
      g.miou_target = from_values(tgt);
      g.rpd = from_values(rpd);
      for (const auto& cn : c.conditions) g.miou_conditions[cn] = from_values(cond[cn]);
      for (int k = 0; k < kNumClasses; ++k) {
        g.iou_source.push_back(from_values(cls_s[k]));
        g.iou_target.push_back(from_values(cls_t[k]));
      }
      if (g.runs_done > 0) {
        try {
          const stats::GroupSummary s = stats::summarise_group(group_dirs, opts.bootstrap, opts.allow_unverified);
          g.miou_source = from_summary(s.miou_source, 100);
          g.miou_target = from_summary(s.miou_target, 100);
          g.rpd = from_summary(s.rpd, 1);
          for (const auto& [cn, ms] : s.miou_conditions) g.miou_conditions[cn] = from_summary(ms, 100);
        } catch (const UserError& e) {
          g.note = fmt::format("no bootstrap CI: {}", e.what());
        }
      }
      if (g.runs_done > 0) {
        const auto v = stats::rpd_validity(g.miou_source.mean / 100, from_values(best_constant).mean);
        g.rpd_meaningful = v.meaningful;
        g.rpd_note = v.note;
      }
      if (model.baseline) g.baseline = match_baseline(*model.baseline, g, opts.published_rows);
    }
    std::string source_split;  // "<dataset>_<eval split>", the source evidence's name
    for (const auto& it : items)
      if (!it.dir.empty()) {
        source_split = recipe_evidence_name(it.spec_raw);
        break;
      }
    add_panel(c, items_dirs_by_group(c, items), source_split);
    const auto compared = add_paired_rows(c, dirs_of_group, opts.bootstrap, opts.allow_unverified);
    add_sensitivity(c, compared, opts.controls);
    model.comparisons.push_back(std::move(c));
  }
  // The controls' verdict comes first: a reader must see whether the scale can answer the question before any table.
  std::vector<std::string> first;
  for (const auto& c : model.comparisons)
    if (c.sensitivity)
      first.push_back(fmt::format("{} ({} scale): {}", c.protocol, c.scale.empty() ? "?" : c.scale,
                                  c.sensitivity->headline));
  model.notes.insert(model.notes.begin(), first.begin(), first.end());
  if (model.baseline) {
    std::vector<std::string> unmatched;
    for (const auto& c : model.comparisons)
      for (const auto& g : c.groups)
        if (!g.baseline) unmatched.push_back(g.experiment);
    if (!unmatched.empty())
      model.notes.push_back(fmt::format("No published row of {} matches: {} (published rows are matched by init and "
                                        "finetune mode, CLCP rows by checkpoint label).",
                                        model.baseline_name, fmt::join(unmatched, ", ")));
    std::vector<std::string> stand_ins;
    for (const auto& c : model.comparisons)
      for (const auto& g : c.groups)
        if (g.baseline && opts.published_rows.count(g.init))
          stand_ins.push_back(fmt::format("{} beside {}", g.experiment, g.baseline->experiment));
    if (!stand_ins.empty())
      model.notes.push_back(fmt::format(
          "Published rows as stand-ins (the protocol's report.published_rows): {}. These cells come from a reduced "
          "scale (other batch size, epochs, finetuning and data than the publication), so the published columns show "
          "where each row sits in the thesis's table, and the deltas measure nothing about the method.",
          fmt::join(stand_ins, ", ")));
  }
  return model;
}

}  // namespace clcp
