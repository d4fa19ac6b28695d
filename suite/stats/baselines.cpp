#include "suite/stats/baselines.hpp"

#include <clcp/build_info.hpp>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"

namespace clcp::stats {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kSchema = "clcp-bench/baseline/1";

// Every key of `j` must be in `keys` and every key of `keys` in `j`.
void check_keys(const json& j, const std::set<std::string>& keys, const std::string& where) {
  if (!j.is_object()) fail("{}: expected a JSON object; see suite/stats/baselines.hpp for the schema", where);
  for (const auto& [k, v] : j.items())
    if (!keys.count(k)) fail("{}: unknown key \"{}\"; remove it (schema in suite/stats/baselines.hpp)", where, k);
  for (const auto& k : keys)
    if (!j.contains(k)) fail("{}: missing key \"{}\"; add it (schema in suite/stats/baselines.hpp)", where, k);
}

std::string str(const json& j, const char* key, const std::string& where) {
  if (!j.at(key).is_string()) fail("{}.{}: expected a string", where, key);
  return j.at(key).get<std::string>();
}

double number(const json& j, const char* key, const std::string& where) {
  if (!j.at(key).is_number()) fail("{}.{}: expected a number", where, key);
  return j.at(key).get<double>();
}

}  // namespace

const BaselineRow* Baseline::find(const std::string& experiment) const {
  for (const auto& r : rows)
    if (r.experiment == experiment) return &r;
  return nullptr;
}

fs::path baselines_dir() {
  if (const char* d = std::getenv("CLCP_BASELINES_DIR"); d && *d) return d;
  return fs::path(build_info::kSourceDir) / "baselines";
}

Baseline load_baseline(const std::string& name) {
  const fs::path p = baselines_dir() / (name + ".json");
  if (!fs::exists(p)) fail("{}: no such baseline; the names are the .json files in {}", p.string(), baselines_dir().string());
  return load_baseline_file(p);
}

Baseline load_baseline_file(const fs::path& path) {
  const json j = read_json(path);
  const std::string f = path.string();
  check_keys(j, {"schema", "name", "source", "description", "units", "rows"}, f);
  if (j["schema"] != kSchema) fail("{}: schema {} is not {}; convert the file", f, j["schema"].dump(), kSchema);
  Baseline b;
  b.name = str(j, "name", f);
  b.source = str(j, "source", f);
  b.description = str(j, "description", f);
  if (!j["rows"].is_array() || j["rows"].empty()) fail("{}: rows: expected a non-empty array", f);
  for (size_t i = 0; i < j["rows"].size(); ++i) {
    const json& r = j["rows"][i];
    const std::string w = fmt::format("{}: rows[{}]", f, i);
    check_keys(r, {"table", "row", "experiment", "init", "finetune_mode", "miou_cityscapes", "miou_acdc", "rpd",
                   "source", "notes"},
               w);
    BaselineRow row;
    row.table = str(r, "table", w);
    if (!r["row"].is_number_integer() || r["row"].get<int64_t>() < 1) fail("{}.row: expected an integer ≥ 1", w);
    row.row = r["row"].get<int64_t>();
    row.experiment = str(r, "experiment", w);
    row.init = str(r, "init", w);
    row.finetune_mode = str(r, "finetune_mode", w);
    if (row.finetune_mode != "full" && row.finetune_mode != "frozen")
      fail("{}.finetune_mode: \"{}\" is not full or frozen", w, row.finetune_mode);
    row.miou_cityscapes = number(r, "miou_cityscapes", w);
    row.miou_acdc = number(r, "miou_acdc", w);
    row.rpd = number(r, "rpd", w);
    row.source = str(r, "source", w);
    if (!r["notes"].is_array()) fail("{}.notes: expected an array of strings", w);
    for (const auto& n : r["notes"]) {
      if (!n.is_string()) fail("{}.notes: expected an array of strings", w);
      row.notes.push_back(n.get<std::string>());
    }
    b.rows.push_back(std::move(row));
  }
  return b;
}

}  // namespace clcp::stats
