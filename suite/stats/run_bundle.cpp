#include "suite/stats/run_bundle.hpp"

#include <algorithm>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/results/bundle.hpp"
#include "suite/results/cell_lock.hpp"
#include "suite/results/integrity.hpp"

namespace clcp::stats {
namespace fs = std::filesystem;

namespace {

std::string recipe_string(const nlohmann::json& recipe, const char* a, const char* b, const fs::path& dir) {
  if (!recipe.contains(a) || !recipe[a].contains(b) || !recipe[a][b].is_string())
    fail("{}: spec.json recipe lacks {}.{}; re-run the cell with this version of clcp-bench", dir.string(), a, b);
  return recipe[a][b].get<std::string>();
}

std::vector<ImageEvidence> read_evidence(const Bundle& b, const std::string& name) {
  const fs::path p = b.evidence_path(name);
  if (!fs::exists(p))
    fail("{}: evidence file missing in a finished bundle; re-run the cell with --force", p.string());
  return read_evidence_jsonl(p);
}

}  // namespace

RunBundle read_run_bundle(const fs::path& dir, bool allow_unverified) {
  const Bundle b(dir);
  if (!fs::exists(b.spec_path()))
    fail("{}: not a result bundle (no spec.json); pass a bundle folder or a folder of bundles", dir.string());
  RunBundle r;
  r.dir = dir;
  r.spec = b.read_spec();
  r.state = observed_state(b).value_or("none");
  if (fs::exists(b.status_path())) {
    const auto status = read_json(b.status_path());
    if (status.contains("error") && status["error"].is_string()) r.error = status["error"].get<std::string>();
  }
  if (r.state == "done") {
    r.unverified = require_verified(dir, allow_unverified);
    const auto& recipe = r.spec.recipe;
    r.source = read_evidence(b, recipe_string(recipe, "source", "dataset", dir) + "_" +
                                    recipe_string(recipe, "source", "eval_split", dir));
    r.target = read_evidence(b, recipe_string(recipe, "target", "dataset", dir) + "_" +
                                    recipe_string(recipe, "target", "split", dir));
  }
  return r;
}

std::vector<fs::path> find_bundle_dirs(const fs::path& root) {
  std::vector<fs::path> out;
  if (!fs::exists(root)) fail("{}: no such folder; pass a result bundle or a folder of bundles", root.string());
  if (fs::exists(root / "spec.json")) return {root};
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(root, ec))
    if (e.is_regular_file() && e.path().filename() == "spec.json") out.push_back(e.path().parent_path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace clcp::stats
