#include "suite/gate/pretrain_exact.hpp"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "models/import/checkpoint_reader.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"
#include "suite/results/kernel_path.hpp"

namespace clcp::gate {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The fields of a pretraining train_log.jsonl line that are bit-identical across runs on the same kernel path.
const std::vector<std::string> kStepFields{"epoch", "step", "loss", "lr", "temperature", "tau"};

// One JSON object per line; `keep` reduces a line to its deterministic part.
template <class Keep>
std::vector<json> read_jsonl(const fs::path& p, Keep keep) {
  std::vector<json> out;
  if (!fs::exists(p)) return out;
  std::istringstream in(read_file(p));
  size_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      fail("{}:{}: not one JSON object per line; the log is damaged", p.string(), line_no);
    out.push_back(keep(std::move(j)));
  }
  return out;
}

std::vector<json> read_epoch_log(const fs::path& p) {
  return read_jsonl(p, [](json j) {
    j.erase("speed");  // wall times: never reproducible
    return j;
  });
}

std::vector<json> read_step_log(const fs::path& p) {
  return read_jsonl(p, [](const json& j) {
    json kept = json::object();
    for (const auto& k : kStepFields)
      if (j.contains(k)) kept[k] = j[k];
    return kept;
  });
}

std::string jsonl_text(const std::vector<json>& lines) {
  std::string s;
  for (const auto& l : lines) s += l.dump() + "\n";
  return s;
}

// "grad_norm.image" → value, depth first, in key order.
void flatten(const json& j, const std::string& prefix, std::vector<std::pair<std::string, json>>& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) flatten(*it, prefix.empty() ? it.key() : prefix + "." + it.key(), out);
    return;
  }
  out.emplace_back(prefix, j);
}

std::map<std::string, json> flat(const json& j) {
  std::vector<std::pair<std::string, json>> v;
  flatten(j, "", v);
  return {v.begin(), v.end()};
}

bool is_recall(const std::string& key) { return key.find("retrieval.") == 0 && key.find(".R@") != std::string::npos; }
bool is_rank(const std::string& key) {
  return key.find("retrieval.") == 0 && (key.ends_with("mean_rank") || key.ends_with("median_rank"));
}
bool is_chance(const std::string& key) { return key.find("retrieval.chance.") == 0; }

double relative(double a, double b) { return std::fabs(b - a) / std::max(std::fabs(a), 1e-30); }

// One changed value, for the user: "val_loss 1.38629 → 1.38631 (Δ +2.0e-05, 1.4e-05 relative)"; a recall names
// queries: "retrieval.image_to_lidar.R@1 0.25 → 0.5 (+1 of 4 queries)".
std::string describe(const std::string& key, const json& a, const json& b, double gallery) {
  if (!a.is_number() || !b.is_number()) return fmt::format("{} {} → {}", key, a.dump(), b.dump());
  const double va = a.get<double>(), vb = b.get<double>();
  if (is_recall(key) && gallery > 0)
    return fmt::format("{} {:.6g} → {:.6g} ({:+.0f} of {:.0f} queries)", key, va, vb, (vb - va) * gallery, gallery);
  return fmt::format("{} {:.9g} → {:.9g} (Δ {:+.3g}, {:.2g} relative)", key, va, vb, vb - va, relative(va, vb));
}

// Whether a changed value is within the tolerance of another kernel path.
bool within(const std::string& key, const json& a, const json& b, const PretrainTolerance& tol, double gallery) {
  if (!a.is_number() || !b.is_number()) return false;
  const double va = a.get<double>(), vb = b.get<double>();
  if (is_chance(key) || key == "retrieval.gallery" || key == "epoch" || key == "steps" || key == "step") return false;
  if (is_recall(key)) return std::fabs(vb - va) * gallery <= tol.retrieval_queries + 1e-9;
  if (is_rank(key)) return std::fabs(vb - va) <= tol.retrieval_queries + 1e-9;
  return relative(va, vb) <= tol.relative;
}

void compare_epochs(const fs::path& base_file, const fs::path& fresh_file, const PretrainTolerance& tol, CellDiff& d) {
  const auto a = read_epoch_log(base_file), b = read_epoch_log(fresh_file);
  d.epochs_compared = a.size();
  if (a == b) return;
  d.identical = false;
  if (a.size() != b.size()) {
    d.within_tolerance = false;
    d.lines.push_back(fmt::format("pretrain_log.jsonl: {} epochs in the baseline, {} in the fresh run", a.size(),
                                  b.size()));
  }
  for (size_t e = 0; e < std::min(a.size(), b.size()); ++e) {
    if (a[e] == b[e]) continue;
    const auto fa = flat(a[e]), fb = flat(b[e]);
    const double gallery = a[e].contains("retrieval") ? a[e]["retrieval"].value("gallery", 0.0) : 0.0;
    std::vector<std::string> changed;
    size_t over = 0;
    for (const auto& [k, va] : fa) {
      const auto it = fb.find(k);
      const json vb = it == fb.end() ? json() : it->second;
      if (va == vb) continue;
      if (!within(k, va, vb, tol, gallery)) ++over;
      changed.push_back(describe(k, va, vb, gallery));
    }
    for (const auto& [k, vb] : fb)
      if (!fa.count(k)) {
        ++over;
        changed.push_back(fmt::format("{} (new) {}", k, vb.dump()));
      }
    if (over) d.within_tolerance = false;
    d.lines.push_back(fmt::format("pretrain_log.jsonl epoch {}: {} field(s) changed ({} beyond the tolerance):",
                                  a[e].value("epoch", json(e)).dump(), changed.size(), over));
    for (const auto& c : changed) d.lines.push_back("  " + c);
  }
}

void compare_steps(const fs::path& base_file, const fs::path& fresh_file, const PretrainTolerance& tol, CellDiff& d) {
  const auto a = read_step_log(base_file), b = read_step_log(fresh_file);
  d.log_lines_compared = a.size();
  if (a == b) return;
  d.identical = false;
  if (a.size() != b.size()) {
    d.within_tolerance = false;
    d.lines.push_back(fmt::format("train_log.jsonl: {} steps in the baseline, {} in the fresh run", a.size(), b.size()));
  }
  bool first = true;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    if (a[i] == b[i]) continue;
    std::string what;
    for (const auto& k : kStepFields) {
      const json va = a[i].value(k, json()), vb = b[i].value(k, json());
      if (va == vb) continue;
      if (!within(k, va, vb, tol, 0)) d.within_tolerance = false;
      if (first) what += (what.empty() ? "" : ", ") + describe(k, va, vb, 0);
    }
    if (first)
      d.lines.push_back(fmt::format("train_log.jsonl: first changed at epoch {} step {}: {}",
                                    a[i].value("epoch", json()).dump(), a[i].value("step", json()).dump(), what));
    first = false;
  }
}

void compare_encoders(const fs::path& base_cell, const fs::path& fresh, const PretrainTolerance& tol, CellDiff& d) {
  const json base = read_json(base_cell / "encoders.json");
  std::vector<std::string> fresh_files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fresh / "export", ec))
    if (e.path().extension() == ".safetensors") fresh_files.push_back("export/" + e.path().filename().string());
  std::sort(fresh_files.begin(), fresh_files.end());
  for (const auto& f : fresh_files)
    if (!base.contains(f)) {
      d.identical = d.within_tolerance = false;
      d.lines.push_back(fmt::format("{}: exported by the fresh run, not in the baseline", f));
    }
  for (auto it = base.begin(); it != base.end(); ++it) {
    const std::string& f = it.key();
    const json& a = it.value();
    ++d.encoders_compared;
    if (!fs::exists(fresh / f)) {
      d.identical = d.within_tolerance = false;
      d.lines.push_back(fmt::format("{}: missing in the fresh bundle", f));
      continue;
    }
    const std::string sha = sha256_file(fresh / f);
    if (sha == a.at("sha256").get<std::string>()) continue;
    d.identical = false;
    const json b = encoder_record(fresh / f);
    struct Moved {
      double rel;
      std::string line;
    };
    std::vector<Moved> moved;
    size_t changed = 0, over = 0, missing = 0;
    const json& ta = a.at("tensors");
    const json& tb = b.at("tensors");
    for (auto t = ta.begin(); t != ta.end(); ++t) {
      if (!tb.contains(t.key()) || tb[t.key()]["shape"] != t.value()["shape"]) {
        ++missing;
        continue;
      }
      const json& x = t.value();
      const json& y = tb[t.key()];
      if (x["sha256"] == y["sha256"]) continue;
      ++changed;
      const double na = x["norm"], nb = y["norm"];
      const double rel = relative(na, nb);
      if (rel > tol.encoder_relative) ++over;
      moved.push_back({rel, fmt::format("{} ‖w‖ {:.9g} → {:.9g} ({:.2g} relative)", t.key(), na, nb, rel)});
    }
    if (over || missing || tb.size() != ta.size()) d.within_tolerance = false;
    std::stable_sort(moved.begin(), moved.end(), [](const Moved& x, const Moved& y) { return x.rel > y.rel; });
    std::string what = changed == 0 && missing == 0
                           ? "every tensor's values are identical (the header or metadata changed)"
                           : fmt::format("{} of {} tensors changed value ({} beyond the tolerance{})", changed,
                                         ta.size(), over,
                                         missing || tb.size() != ta.size()
                                             ? fmt::format("; {} missing or reshaped, {} in the fresh file", missing,
                                                           tb.size())
                                             : "");
    d.lines.push_back(fmt::format("{}: sha256 {} → {}; {}{}", f, a.at("sha256").get<std::string>().substr(0, 12),
                                  sha.substr(0, 12), what, moved.empty() ? "" : "; largest norm changes first:"));
    for (size_t i = 0; i < moved.size() && i < 5; ++i) d.lines.push_back("  " + moved[i].line);
    if (moved.size() > 5) d.lines.push_back(fmt::format("  … and {} more tensors", moved.size() - 5));
  }
}

std::string explain_missing_pretrain(const fs::path& base_spec, const std::vector<fs::path>& fresh) {
  const json a = read_json(base_spec);
  for (const auto& f : fresh) {
    const json b = read_json(f / "spec.json");
    if (b.value("variant", "") != a.value("variant", "") || b.value("seed", -1) != a.value("seed", -1)) continue;
    std::vector<std::string> moved;
    if (b.value("fingerprint", "") != a.value("fingerprint", ""))
      moved.push_back(fmt::format("protocol fingerprint {} → {}", a.value("fingerprint", ""), b.value("fingerprint", "")));
    for (const char* k : {"image_init_sha256", "lidar_init_sha256"})
      if (b.value(k, "") != a.value(k, "")) moved.push_back(k);
    if (a.value("datasets", json()) != b.value("datasets", json()))
      moved.push_back(fmt::format("A2D2 manifest {} → {}", a["datasets"].value("a2d2", "").substr(0, 12),
                                  b["datasets"].value("a2d2", "").substr(0, 12)));
    return fmt::format("the fresh run's cell {} has another id: {} (the fixture data or the recipe changed)",
                       f.filename().string(), moved.empty() ? "spec differs" : fmt::format("{}", fmt::join(moved, ", ")));
  }
  return "no fresh bundle for this cell (variant and seed not in the fresh run)";
}

}  // namespace

json encoder_record(const fs::path& file) {
  json tensors = json::object();
  for (const auto& [name, t] : read_tensor_file(file)) {
    const torch::Tensor c = t.contiguous().cpu();
    const std::string_view bytes(static_cast<const char*>(c.data_ptr()), c.nbytes());
    tensors[name] = {{"shape", c.sizes().vec()},
                     {"sha256", sha256_hex(bytes).substr(0, 16)},
                     {"norm", c.to(torch::kDouble).norm().item<double>()}};
  }
  return {{"bytes", fs::file_size(file)}, {"sha256", sha256_file(file)}, {"tensors", tensors}};
}

void check_pretrain_bundle_readable(const fs::path& dir) {
  for (const char* f : {"spec.json", "status.json", "provenance.json", "metrics.json", "pretrain_log.jsonl",
                        "train_log.jsonl"})
    if (!fs::exists(dir / f))
      fail("{}: the pretraining bundle has no {}; the cell did not finish — run it again", dir.string(), f);
  const std::string state = read_json(dir / "status.json").value("state", "");
  if (state != "done") fail("{}: the cell is '{}', not done; the gate compares finished cells only", dir.string(), state);
  std::error_code ec;
  bool any = false;
  for (const auto& e : fs::directory_iterator(dir / "export", ec)) any = any || e.path().extension() == ".safetensors";
  if (!any) fail("{}: the pretraining bundle exported no encoder (export/*.safetensors); run it again", dir.string());
}

ExactResult compare_pretrain_exact(const ExactBaseline& baseline, const std::vector<fs::path>& fresh) {
  ExactResult r;
  std::map<std::string, fs::path> by_id;
  for (const auto& f : fresh) {
    check_pretrain_bundle_readable(f);
    by_id[f.filename().string()] = f;
  }
  if (!fresh.empty()) {
    const json kp = read_json(fresh.front() / "provenance.json").value("kernel_path", json());
    r.kernel_difference = kernel_path_difference(baseline.provenance.value("kernel_path", json()), kp);
  }
  const PretrainTolerance& tol = baseline.pretrain_tolerance;
  for (const auto& id : baseline.cells) {
    CellDiff d;
    d.cell_id = id;
    const fs::path base = baseline.dir / id;
    const auto it = by_id.find(id);
    if (it == by_id.end()) {
      d.found = d.identical = d.within_tolerance = false;
      d.lines.push_back(explain_missing_pretrain(base / "spec.json", fresh));
      r.cells.push_back(std::move(d));
      continue;
    }
    compare_epochs(base / "pretrain_log.jsonl", it->second / "pretrain_log.jsonl", tol, d);
    compare_steps(base / "train_log.jsonl", it->second / "train_log.jsonl", tol, d);
    if (read_file(base / "metrics.json") != read_file(it->second / "metrics.json")) {
      d.identical = false;  // its epochs are pretrain_log.jsonl's, compared above; this catches the rest
      d.lines.push_back("metrics.json differs (its per-epoch records are the pretrain_log.jsonl lines above)");
    }
    compare_encoders(base, it->second, tol, d);
    r.cells.push_back(std::move(d));
  }
  return r;
}

std::vector<std::string> write_pretrain_baseline(const ExactBaseline& meta, const std::vector<fs::path>& bundles) {
  if (bundles.empty()) fail("gate --update: no finished bundles to write into {}", meta.dir.string());
  for (const auto& b : bundles) check_pretrain_bundle_readable(b);
  std::vector<std::string> changes;
  if (fs::exists(meta.dir / "baseline.json")) {
    const ExactBaseline old = read_exact_baseline(meta.dir);
    const ExactResult r = compare_pretrain_exact(old, bundles);
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
  const fs::path tmp = meta.dir.string() + ".new";
  fs::remove_all(tmp);
  std::vector<std::string> ids;
  for (const auto& b : bundles) {
    const std::string id = b.filename().string();
    ids.push_back(id);
    const fs::path dst = tmp / id;
    for (const char* f : {"spec.json", "metrics.json"}) write_atomic(dst / f, read_file(b / f));
    write_atomic(dst / "pretrain_log.jsonl", jsonl_text(read_epoch_log(b / "pretrain_log.jsonl")));
    write_atomic(dst / "train_log.jsonl", jsonl_text(read_step_log(b / "train_log.jsonl")));
    json encoders = json::object();
    for (const auto& e : fs::directory_iterator(b / "export"))
      if (e.path().extension() == ".safetensors")
        encoders["export/" + e.path().filename().string()] = encoder_record(e.path());
    write_json_atomic(dst / "encoders.json", encoders);
  }
  write_json_atomic(tmp / "baseline.json", baseline_record(meta, ids, bundles.front()));
  swap_in_baseline(meta, tmp);
  return changes;
}

}  // namespace clcp::gate
