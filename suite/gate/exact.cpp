#include "suite/gate/exact.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/data/labels.hpp"
#include "suite/eval/evidence.hpp"
#include "suite/results/kernel_path.hpp"
#include "suite/results/provenance.hpp"

namespace clcp::gate {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The fields of a train_log.jsonl line that are bit-identical across runs with the same kernel path.
const std::vector<std::string> kDeterministicLogFields{"iter", "loss", "lr", "acc_seg"};

std::vector<json> read_train_log(const fs::path& p) {
  std::vector<json> out;
  if (!fs::exists(p)) return out;
  std::istringstream in(read_file(p));
  size_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      fail("{}:{}: not one JSON object per line; the train log is damaged", p.string(), line_no);
    json kept = json::object();
    for (const auto& k : kDeterministicLogFields)
      if (j.contains(k)) kept[k] = j[k];
    out.push_back(kept);
  }
  return out;
}

std::string train_log_text(const std::vector<json>& lines) {
  std::string s;
  for (const auto& l : lines) s += l.dump() + "\n";
  return s;
}

std::vector<std::string> evidence_names(const fs::path& bundle) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(bundle / "evidence", ec))
    if (e.path().extension() == ".jsonl") out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

double num(const json& j, std::initializer_list<const char*> path) {
  const json* cur = &j;
  for (const char* k : path) {
    if (!cur->is_object() || !cur->contains(k)) return NAN;
    cur = &(*cur)[k];
  }
  return cur->is_number() ? cur->get<double>() : NAN;
}

// Percentage points with 4 decimals: differences between kernel paths are often far below 0.01 points.
std::string pts(double v) { return std::isfinite(v) ? fmt::format("{:.4f}", v * 100) : "n/a"; }
std::string delta_pts(double a, double b) {
  return std::isfinite(a) && std::isfinite(b) ? fmt::format("{:+.4f}", (b - a) * 100) : "n/a";
}

// The headline aggregates a metrics.json holds: (label, path).
std::vector<std::pair<std::string, std::vector<std::string>>> aggregates(const json& m) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out{{"mIoU source", {"source", "mIoU"}},
                                                                    {"mIoU target pooled", {"target", "pooled", "mIoU"}}};
  if (m.contains("target") && m["target"].contains("per_condition") && m["target"]["per_condition"].is_object())
    for (auto it = m["target"]["per_condition"].begin(); it != m["target"]["per_condition"].end(); ++it)
      out.push_back({"mIoU target " + it.key(), {"target", "per_condition", it.key(), "mIoU"}});
  return out;
}

double at_path(const json& j, const std::vector<std::string>& path) {
  const json* cur = &j;
  for (const auto& k : path) {
    if (!cur->is_object() || !cur->contains(k)) return NAN;
    cur = &(*cur)[k];
  }
  return cur->is_number() ? cur->get<double>() : NAN;
}

int64_t changed_pixels(const ImageEvidence& a, const ImageEvidence& b) {
  int64_t s = 0;
  for (int c = 0; c < kNumClasses; ++c) s += std::llabs(a.pred_area[c] - b.pred_area[c]);
  return s / 2;  // a pixel that moves from class p to class q changes two pred_area counts by one
}

int64_t labelled_pixels(const ImageEvidence& e) {
  int64_t s = 0;
  for (int c = 0; c < kNumClasses; ++c) s += e.label_area[c];
  return s;
}

std::string class_changes(const ImageEvidence& a, const ImageEvidence& b, size_t max_classes) {
  struct Change {
    int c;
    int64_t tp, fp, fn;
  };
  std::vector<Change> ch;
  for (int c = 0; c < kNumClasses; ++c) {
    const int64_t tp = b.intersect[c] - a.intersect[c];
    const int64_t fp = (b.pred_area[c] - b.intersect[c]) - (a.pred_area[c] - a.intersect[c]);
    const int64_t fn = (b.label_area[c] - b.intersect[c]) - (a.label_area[c] - a.intersect[c]);
    if (tp || fp || fn) ch.push_back({c, tp, fp, fn});
  }
  std::stable_sort(ch.begin(), ch.end(), [](const Change& x, const Change& y) {
    return std::llabs(x.tp) + std::llabs(x.fp) + std::llabs(x.fn) > std::llabs(y.tp) + std::llabs(y.fp) + std::llabs(y.fn);
  });
  std::string s;
  for (size_t i = 0; i < ch.size() && i < max_classes; ++i)
    s += fmt::format("{}{} TP {:+} FP {:+} FN {:+}", i ? ", " : "", kClassNames[ch[i].c], ch[i].tp, ch[i].fp, ch[i].fn);
  if (ch.size() > max_classes) s += fmt::format(" (+{} more classes)", ch.size() - max_classes);
  return s;
}

void compare_evidence(const fs::path& base_file, const fs::path& fresh_file, const std::string& name,
                      const ExactTolerance& tol, size_t max_images, CellDiff& d) {
  const auto base = read_evidence_jsonl(base_file);
  d.images_compared += base.size();
  if (!fs::exists(fresh_file)) {
    d.identical = d.within_tolerance = false;
    d.lines.push_back(fmt::format("evidence/{}.jsonl: missing in the fresh bundle", name));
    return;
  }
  const auto fresh = read_evidence_jsonl(fresh_file);
  std::map<std::string, const ImageEvidence*> by_id;
  for (const auto& e : fresh) by_id[e.id] = &e;
  struct Changed {
    const ImageEvidence *a, *b;
    int64_t pixels;
  };
  std::vector<Changed> changed;
  size_t missing = 0, over_tolerance = 0;
  for (const auto& a : base) {
    const auto it = by_id.find(a.id);
    if (it == by_id.end()) {
      ++missing;
      continue;
    }
    if (*it->second == a) continue;
    const int64_t px = changed_pixels(a, *it->second);
    if (static_cast<double>(px) > tol.image_changed_fraction * static_cast<double>(labelled_pixels(a))) ++over_tolerance;
    changed.push_back({&a, it->second, px});
  }
  if (changed.empty() && missing == 0 && fresh.size() == base.size()) return;
  d.identical = false;
  if (missing || fresh.size() != base.size()) {
    d.within_tolerance = false;
    d.lines.push_back(fmt::format("evidence/{}.jsonl: {} images in the baseline, {} in the fresh run, {} baseline images "
                                  "missing (the fixture data changed?)",
                                  name, base.size(), fresh.size(), missing));
  }
  if (over_tolerance) d.within_tolerance = false;
  d.lines.push_back(fmt::format("evidence/{}.jsonl: {} of {} images changed ({} beyond the tolerance of {:.1f}% of "
                                "their labelled pixels); largest first:",
                                name, changed.size(), base.size(), over_tolerance, tol.image_changed_fraction * 100));
  std::stable_sort(changed.begin(), changed.end(), [](const Changed& x, const Changed& y) { return x.pixels > y.pixels; });
  for (size_t i = 0; i < changed.size() && i < max_images; ++i) {
    const auto& c = changed[i];
    d.lines.push_back(fmt::format("  {}{}: ≥{} of {} labelled pixels changed class; {}", c.a->id,
                                  c.a->condition.empty() ? "" : " (" + c.a->condition + ")", c.pixels,
                                  labelled_pixels(*c.a), class_changes(*c.a, *c.b, 4)));
  }
  if (changed.size() > max_images) d.lines.push_back(fmt::format("  … and {} more images", changed.size() - max_images));
}

void compare_metrics(const fs::path& base_file, const fs::path& fresh_file, const ExactTolerance& tol, CellDiff& d) {
  const std::string a = read_file(base_file);
  const std::string b = fs::exists(fresh_file) ? read_file(fresh_file) : "";
  if (a == b) return;
  d.identical = false;
  if (b.empty()) {
    d.within_tolerance = false;
    d.lines.push_back("metrics.json: missing in the fresh bundle");
    return;
  }
  const json ma = json::parse(a), mb = json::parse(b);
  std::string line = "metrics.json differs:";
  for (const auto& [label, path] : aggregates(ma)) {
    const double va = at_path(ma, path), vb = at_path(mb, path);
    if (va == vb || (std::isnan(va) && std::isnan(vb))) continue;
    line += fmt::format(" {} {} → {} ({});", label, pts(va), pts(vb), delta_pts(va, vb));
    if (!(std::fabs(vb - va) * 100 <= tol.miou_points)) d.within_tolerance = false;
  }
  const double ra = num(ma, {"rPD"}), rb = num(mb, {"rPD"});
  if (ra != rb && !(std::isnan(ra) && std::isnan(rb)))
    line += fmt::format(" rPD {:.6f} → {:.6f};", ra, rb);
  d.lines.push_back(line);
  // Per-class IoU changes (source and target pooled), largest first.
  for (const auto& [label, path] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"source", {"source"}}, {"target pooled", {"target", "pooled"}}}) {
    const json* ja = &ma;
    const json* jb = &mb;
    for (const auto& k : path) {
      ja = ja->contains(k) ? &(*ja)[k] : nullptr;
      jb = jb && jb->contains(k) ? &(*jb)[k] : nullptr;
      if (!ja || !jb) break;
    }
    if (!ja || !jb || !ja->contains("IoU") || !jb->contains("IoU")) continue;
    std::vector<std::pair<double, std::string>> cls;
    for (int c = 0; c < kNumClasses; ++c) {
      const auto& x = (*ja)["IoU"][c];
      const auto& y = (*jb)["IoU"][c];
      if (x == y) continue;
      const double vx = x.is_number() ? x.get<double>() : NAN, vy = y.is_number() ? y.get<double>() : NAN;
      cls.push_back({std::isfinite(vx) && std::isfinite(vy) ? std::fabs(vy - vx) : 1.0,
                     fmt::format("{} {} → {}", kClassNames[c], pts(vx), pts(vy))});
    }
    std::stable_sort(cls.begin(), cls.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
    std::string s;
    for (size_t i = 0; i < cls.size() && i < 6; ++i) s += (i ? ", " : "") + cls[i].second;
    if (!cls.empty())
      d.lines.push_back(fmt::format("  IoU {} ({} classes changed): {}{}", label, cls.size(), s,
                                    cls.size() > 6 ? ", …" : ""));
  }
}

void compare_train_log(const fs::path& base_file, const fs::path& fresh_file, CellDiff& d) {
  const auto a = read_train_log(base_file), b = read_train_log(fresh_file);
  d.log_lines_compared = a.size();
  if (a == b) return;
  d.identical = false;
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    if (i < a.size() && i < b.size() && a[i] == b[i]) continue;
    if (i >= a.size() || i >= b.size()) {
      d.lines.push_back(fmt::format("train_log.jsonl: {} lines in the baseline, {} in the fresh run", a.size(), b.size()));
      return;
    }
    std::string what;
    for (const auto& k : kDeterministicLogFields) {
      if (k == "iter" || a[i].value(k, json()) == b[i].value(k, json())) continue;
      const double va = a[i].value(k, std::nan("")), vb = b[i].value(k, std::nan(""));
      what += fmt::format("{}{} {:.9g} → {:.9g} (Δ {:+.3g})", what.empty() ? "" : ", ", k, va, vb, vb - va);
    }
    d.lines.push_back(fmt::format("train_log.jsonl: first changed at iteration {}: {}", a[i].value("iter", json()).dump(),
                                  what.empty() ? "iteration numbers differ" : what));
    return;
  }
}

// Why a baseline cell has no fresh bundle of the same id: which part of the content-addressed spec moved.
std::string explain_missing(const fs::path& base_spec, const std::vector<fs::path>& fresh) {
  const json a = read_json(base_spec);
  for (const auto& f : fresh) {
    const json b = read_json(f / "spec.json");
    if (b.value("init", "") != a.value("init", "") || b.value("finetune_mode", "") != a.value("finetune_mode", "") ||
        b.value("seed", -1) != a.value("seed", -1))
      continue;
    std::vector<std::string> moved;
    if (b.value("fingerprint", "") != a.value("fingerprint", ""))
      moved.push_back(fmt::format("protocol fingerprint {} → {}", a.value("fingerprint", ""), b.value("fingerprint", "")));
    if (b.value("init_sha256", "") != a.value("init_sha256", "")) moved.push_back("init weights sha256");
    if (a.contains("datasets") && b.contains("datasets"))
      for (auto it = a["datasets"].begin(); it != a["datasets"].end(); ++it)
        if (b["datasets"].value(it.key(), "") != it.value())
          moved.push_back(fmt::format("dataset manifest {} {} → {}", it.key(), it.value().get<std::string>().substr(0, 12),
                                      b["datasets"].value(it.key(), "").substr(0, 12)));
    return fmt::format("the fresh run's cell {} has another id: {} (the fixture data or the recipe changed)",
                       f.filename().string(), moved.empty() ? "spec differs" : fmt::format("{}", fmt::join(moved, ", ")));
  }
  return "no fresh bundle for this cell (init, mode and seed not in the fresh run)";
}

}  // namespace

bool ExactResult::passed() const {
  for (const auto& c : cells)
    if (!c.found || (kernel_difference.empty() ? !c.identical : !c.within_tolerance)) return false;
  return true;
}

ExactBaseline read_exact_baseline(const fs::path& dir) {
  const fs::path file = dir / "baseline.json";
  if (!fs::exists(file))
    fail("{}: no regression baseline there; list them with `ls baselines/regression` or create one with "
         "`clcp-bench gate --tier exact --update`",
         file.string());
  const json j = read_json(file);
  if (j.value("schema", "") != kRegressionSchema || j.value("tier", "") != "exact")
    fail("{}: expected schema '{}' with tier 'exact'; this is not an exact-tier baseline", file.string(),
         kRegressionSchema);
  ExactBaseline b;
  b.dir = dir;
  try {
    b.name = j.at("name");
    b.protocol = j.at("protocol");
    b.scale = j.at("scale");
    b.fingerprint = j.at("fingerprint");
    b.grid = j.at("grid");
    b.kind = j.value("kind", "finetune");
    if (b.kind != "finetune" && b.kind != "pretrain")
      fail("{}: kind \"{}\": expected \"finetune\" or \"pretrain\"", file.string(), b.kind);
    b.fixture = j.at("fixture");
    const json& t = j.at("tolerance");
    if (b.kind == "pretrain") {
      b.pretrain_tolerance.relative = t.at("relative");
      b.pretrain_tolerance.encoder_relative = t.value("encoder_relative", b.pretrain_tolerance.relative);
      b.pretrain_tolerance.retrieval_queries = t.at("retrieval_queries");
      b.pretrain_tolerance.why = t.value("why", "");
    } else {
      b.tolerance.miou_points = t.at("mIoU_points");
      b.tolerance.image_changed_fraction = t.at("image_changed_fraction");
      b.tolerance.why = t.value("why", "");
    }
    b.provenance = j.at("provenance");
    b.cells = j.at("cells").get<std::vector<std::string>>();
  } catch (const json::exception& e) {
    fail("{}: incomplete regression baseline ({}); write it again with `clcp-bench gate --tier exact --update`",
         file.string(), e.what());
  }
  return b;
}

void check_bundle_readable(const fs::path& dir) {
  for (const char* f : {"spec.json", "status.json", "provenance.json", "metrics.json", "train_log.jsonl"})
    if (!fs::exists(dir / f)) fail("{}: the bundle has no {}; the cell did not finish — run it again", dir.string(), f);
  const std::string state = read_json(dir / "status.json").value("state", "");
  if (state != "done") fail("{}: the cell is '{}', not done; the gate compares finished cells only", dir.string(), state);
  if (evidence_names(dir).empty())
    fail("{}: the bundle has no evidence/*.jsonl; the cell did not finish its evaluation — run it again", dir.string());
}

ExactResult compare_exact(const ExactBaseline& baseline, const std::vector<fs::path>& fresh, size_t max_images) {
  ExactResult r;
  std::map<std::string, fs::path> by_id;
  for (const auto& f : fresh) {
    check_bundle_readable(f);
    by_id[f.filename().string()] = f;
  }
  if (!fresh.empty()) {
    const json kp = read_json(fresh.front() / "provenance.json").value("kernel_path", json());
    r.kernel_difference = kernel_path_difference(baseline.provenance.value("kernel_path", json()), kp);
  }
  for (const auto& id : baseline.cells) {
    CellDiff d;
    d.cell_id = id;
    const fs::path base = baseline.dir / id;
    const auto it = by_id.find(id);
    if (it == by_id.end()) {
      d.found = d.identical = d.within_tolerance = false;
      d.lines.push_back(explain_missing(base / "spec.json", fresh));
      r.cells.push_back(std::move(d));
      continue;
    }
    compare_train_log(base / "train_log.jsonl", it->second / "train_log.jsonl", d);
    compare_metrics(base / "metrics.json", it->second / "metrics.json", baseline.tolerance, d);
    for (const auto& name : evidence_names(base))
      compare_evidence(base / "evidence" / (name + ".jsonl"), it->second / "evidence" / (name + ".jsonl"), name,
                       baseline.tolerance, max_images, d);
    r.cells.push_back(std::move(d));
  }
  return r;
}

json baseline_record(const ExactBaseline& meta, const std::vector<std::string>& cells, const fs::path& first_bundle) {
  const json prov = read_json(first_bundle / "provenance.json");
  json p = json::object();
  for (const char* k : {"git_commit", "git_dirty", "build_type", "compiler", "libtorch_version", "cpu", "kernel_path"})
    p[k] = prov.value(k, json());
  p["date"] = utc_now_iso();
  const json tolerance = meta.kind == "pretrain"
                             ? json{{"relative", meta.pretrain_tolerance.relative},
                                    {"encoder_relative", meta.pretrain_tolerance.encoder_relative},
                                    {"retrieval_queries", meta.pretrain_tolerance.retrieval_queries},
                                    {"why", meta.pretrain_tolerance.why}}
                             : json{{"mIoU_points", meta.tolerance.miou_points},
                                    {"image_changed_fraction", meta.tolerance.image_changed_fraction},
                                    {"why", meta.tolerance.why}};
  json record = {{"schema", kRegressionSchema},
                 {"tier", "exact"},
                 {"name", meta.name},
                 {"protocol", meta.protocol},
                 {"scale", meta.scale},
                 {"fingerprint", meta.fingerprint},
                 {"grid", meta.grid},
                 {"fixture", meta.fixture},
                 {"tolerance", tolerance},
                 {"provenance", p},
                 {"cells", cells}};
  if (meta.kind != "finetune") record["kind"] = meta.kind;  // a finetune baseline reads as before
  return record;
}

void swap_in_baseline(const ExactBaseline& meta, const fs::path& fresh) {
  fs::remove_all(meta.dir);
  fs::rename(fresh, meta.dir);
}

std::vector<std::string> write_exact_baseline(const ExactBaseline& meta, const std::vector<fs::path>& bundles) {
  if (bundles.empty()) fail("gate --update: no finished bundles to write into {}", meta.dir.string());
  for (const auto& b : bundles) check_bundle_readable(b);
  std::vector<std::string> changes;
  if (fs::exists(meta.dir / "baseline.json")) {
    const ExactBaseline old = read_exact_baseline(meta.dir);
    const ExactResult r = compare_exact(old, bundles);
    if (old.fingerprint != meta.fingerprint)
      changes.push_back(fmt::format("protocol fingerprint {} → {}", old.fingerprint, meta.fingerprint));
    for (const auto& c : r.cells) {
      if (c.identical && c.found) continue;
      changes.push_back(fmt::format("cell {}:", c.cell_id));
      for (const auto& l : c.lines) changes.push_back("  " + l);
    }
    if (!r.kernel_difference.empty()) changes.push_back("kernel path: " + r.kernel_difference);
    if (changes.empty()) changes.push_back("no change: the fresh run is identical to the previous baseline");
  } else {
    changes.push_back("new baseline");
  }
  // Write into a fresh sibling folder, then swap, so a failure never leaves half a baseline.
  const fs::path tmp = meta.dir.string() + ".new";
  fs::remove_all(tmp);
  std::vector<std::string> ids;
  for (const auto& b : bundles) {
    const std::string id = b.filename().string();
    ids.push_back(id);
    const fs::path dst = tmp / id;
    for (const char* f : {"spec.json", "metrics.json"}) write_atomic(dst / f, read_file(b / f));
    for (const auto& name : evidence_names(b))
      write_atomic(dst / "evidence" / (name + ".jsonl"), read_file(b / "evidence" / (name + ".jsonl")));
    write_atomic(dst / "train_log.jsonl", train_log_text(read_train_log(b / "train_log.jsonl")));
  }
  write_json_atomic(tmp / "baseline.json", baseline_record(meta, ids, bundles.front()));
  swap_in_baseline(meta, tmp);
  return changes;
}

}  // namespace clcp::gate
