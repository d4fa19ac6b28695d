#include "suite/results/bundle.hpp"

#include <algorithm>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/results/integrity.hpp"
#include "suite/results/provenance.hpp"

#include <unistd.h>

namespace clcp {
namespace fs = std::filesystem;

std::vector<fs::path> find_bundles(const fs::path& root) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::exists(root)) return out;
  if (fs::exists(root / "spec.json")) return {root};
  for (const auto& e : fs::recursive_directory_iterator(root, ec))
    if (e.is_regular_file() && e.path().filename() == "spec.json") out.push_back(e.path().parent_path());
  std::sort(out.begin(), out.end());
  return out;
}

Bundle Bundle::for_cell(const fs::path& results_root, const CellSpec& spec) {
  return Bundle(results_root / spec.protocol / spec.id());
}

nlohmann::json Bundle::spec_record(const CellSpec& spec) {
  auto j = spec.to_json();
  j["schema"] = kBundleSchema;
  j["cell_id"] = spec.id();
  return j;
}

void Bundle::write_spec(const CellSpec& spec) const { write_json_atomic(spec_path(), spec_record(spec)); }

void Bundle::write_provenance(const nlohmann::json& provenance) const {
  auto j = provenance;
  j["schema"] = kBundleSchema;
  write_json_atomic(provenance_path(), j);
}

void Bundle::write_metrics(const nlohmann::json& metrics) const {
  auto j = metrics;
  j["schema"] = kBundleSchema;
  write_json_atomic(metrics_path(), j);
}

void Bundle::write_status(const std::string& state, const std::string& stage, const std::string& error) const {
  nlohmann::json j = {{"schema", kBundleSchema},
                      {"state", state},
                      {"stage", stage},
                      {"error", error.empty() ? nlohmann::json(nullptr) : nlohmann::json(error)},
                      {"updated", utc_now_iso()}};
  if (state == "running") j["pid"] = static_cast<int64_t>(::getpid());
  // The final record: every file of the finished bundle with its size and hash (integrity.hpp), written last.
  if (state == "done") j["files"] = hash_bundle_files(dir_);
  write_json_atomic(status_path(), j);
}

std::optional<std::string> Bundle::state() const {
  if (!fs::exists(status_path())) return std::nullopt;
  try {
    return read_json(status_path()).at("state").get<std::string>();
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

CellSpec Bundle::read_spec() const {
  try {
    return CellSpec::from_json(read_json(spec_path()));
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not a clcp-bench cell spec ({}); is this a result bundle folder?", spec_path().string(), e.what());
  }
}

nlohmann::json Bundle::read_metrics() const { return read_json(metrics_path()); }
nlohmann::json Bundle::read_provenance() const { return read_json(provenance_path()); }

}  // namespace clcp
