#include "suite/results/integrity.hpp"

#include <sys/stat.h>

#include <map>
#include <mutex>

#include "suite/core/content_hash.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash_cache.hpp"
#include "suite/eval/baseline.hpp"
#include "suite/eval/evidence.hpp"
#include "suite/eval/metrics.hpp"
#include "suite/results/bundle.hpp"

namespace clcp {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool is_checkpoint(const std::string& rel) { return rel.rfind("checkpoints/", 0) == 0; }

HashCache& checkpoint_cache() {
  static HashCache cache;
  return cache;
}

std::string hash_of(const fs::path& file, const std::string& rel) {
  return is_checkpoint(rel) ? checkpoint_cache().file_hash(file) : xxh128_file(file);
}

// "<a>.<b>" of the recipe as a string, or "".
std::string recipe_string(const json& spec, const char* a, const char* b) {
  if (!spec.contains("recipe") || !spec["recipe"].contains(a) || !spec["recipe"][a].contains(b) ||
      !spec["recipe"][a][b].is_string())
    return "";
  return spec["recipe"][a][b].get<std::string>();
}

BundleCheck problem(std::string line) { return BundleCheck{false, std::move(line)}; }

BundleCheck check_files(const fs::path& dir, const json& status) {
  if (!status.contains("files") || !status["files"].is_object())
    return problem(fmt::format("{}: finished bundle without an integrity record (written by an older clcp-bench, "
                               "or its status.json was replaced)",
                               (dir / "status.json").string()));
  for (const auto& [rel, want] : status["files"].items()) {
    const fs::path file = dir / rel;
    std::error_code ec;
    if (!fs::is_regular_file(file, ec))
      return problem(fmt::format("{}: missing from the finished bundle (its integrity record lists it)", file.string()));
    const uint64_t bytes = fs::file_size(file, ec);
    const uint64_t want_bytes = want.value("bytes", uint64_t{0});
    if (bytes != want_bytes)
      // The record holds the whole file's hash only, so a shorter file cannot be told apart from an edited one:
      // "changed", with the direction.
      return problem(fmt::format("{}: changed since the bundle was finished ({} bytes, recorded {}: {})", file.string(),
                                 bytes, want_bytes, bytes < want_bytes ? "shorter, truncated or edited" : "longer"));
    std::string got;
    try {
      got = hash_of(file, rel);
    } catch (const UserError& e) {
      return problem(e.what());
    }
    if (got != want.value("xxh128", ""))
      return problem(fmt::format("{}: changed since the bundle was finished (xxh128 {}, recorded {})", file.string(),
                                 got, want.value("xxh128", "")));
  }
  return {};
}

BundleCheck check_metrics(const fs::path& dir) {
  const Bundle b(dir);
  if (!fs::exists(b.metrics_path())) return {};  // nothing reported from this bundle
  try {
    const json spec = read_json(b.spec_path());
    // Only a segmentation cell's metrics (finetune and eval specs carry no "kind") are recomputed from evidence; a
    // pretraining bundle's metrics.json restates pretrain_log.jsonl, hashed in the record like every file.
    if (spec.value("kind", "finetune") != "finetune") return {};
    const std::string src_name = recipe_string(spec, "source", "dataset") + "_" + recipe_string(spec, "source", "eval_split");
    const std::string tgt_name = recipe_string(spec, "target", "dataset") + "_" + recipe_string(spec, "target", "split");
    if (!fs::exists(b.evidence_path(src_name)) || !fs::exists(b.evidence_path(tgt_name)))
      return problem(fmt::format("{}: metrics.json without the evidence it was computed from ({} and {})",
                                 b.metrics_path().string(), b.evidence_path(src_name).string(),
                                 b.evidence_path(tgt_name).string()));
    const auto source = read_evidence_jsonl(b.evidence_path(src_name));
    const auto target = read_evidence_jsonl(b.evidence_path(tgt_name));
    json again = summarise(source, target);
    const json stored = read_json(b.metrics_path());
    if (stored.contains("source") && stored["source"].contains("best_constant_class_mIoU"))
      again["source"]["best_constant_class_mIoU"] = best_constant_class_miou(source);
    for (const auto& [key, value] : again.items()) {
      if (!stored.contains(key) || stored[key].dump() != value.dump()) {
        // Name the first figure that differs, in the units a reader sees.
        std::string where = key;
        if (value.is_object() && stored.contains(key) && stored[key].is_object())
          for (const auto& [k2, v2] : value.items())
            if (!stored[key].contains(k2) || stored[key][k2].dump() != v2.dump()) {
              where += "." + k2;
              break;
            }
        return problem(fmt::format("{}: {} disagrees with the figures recomputed from evidence/ (metrics.json was "
                                   "edited, or its evidence was)",
                                   b.metrics_path().string(), where));
      }
    }
    if (stored.contains("cell_id") && stored["cell_id"].is_string() && spec.contains("cell_id") &&
        stored["cell_id"] != spec["cell_id"])
      return problem(fmt::format("{}: cell_id {} is not this bundle's ({})", b.metrics_path().string(),
                                 stored["cell_id"].dump(), spec["cell_id"].dump()));
  } catch (const UserError& e) {
    return problem(e.what());
  } catch (const std::exception& e) {
    return problem(fmt::format("{}: unreadable metrics or evidence ({})", dir.string(), e.what()));
  }
  return {};
}

}  // namespace

json hash_bundle_files(const fs::path& dir) {
  json files = json::object();
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); ++it) {
    if (!it->is_regular_file()) continue;
    const std::string rel = it->path().lexically_relative(dir).generic_string();
    if (rel == "status.json" || rel.find(".tmp.") != std::string::npos || rel.rfind(".locks/", 0) == 0) continue;
    uint64_t bytes = 0;
    const std::string h = is_checkpoint(rel) ? checkpoint_cache().file_hash(it->path()) : xxh128_file(it->path(), &bytes);
    if (is_checkpoint(rel)) bytes = fs::file_size(it->path());
    files[rel] = {{"bytes", bytes}, {"xxh128", h}};
  }
  checkpoint_cache().save();
  return files;
}

BundleCheck verify_bundle(const fs::path& dir) {
  static std::mutex mutex;
  static std::map<std::string, std::pair<std::string, BundleCheck>> memo;  // dir → (status.json bytes, result)
  const fs::path status_path = dir / "status.json";
  std::string status_text;
  try {
    status_text = read_file(status_path);
  } catch (const UserError& e) {
    return problem(e.what());
  }
  const std::string key = fs::absolute(dir).lexically_normal().string();
  // The memo holds only while status.json and every file's (size, mtime, ctime) are unchanged.
  std::string signature = status_text;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); ++it) {
    struct stat st {};
    if (it->is_regular_file() && ::stat(it->path().c_str(), &st) == 0)
      signature += fmt::format("\n{} {} {}.{} {}.{}", it->path().string(), st.st_size, st.st_mtim.tv_sec,
                               st.st_mtim.tv_nsec, st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    const auto it = memo.find(key);
    if (it != memo.end() && it->second.first == signature) return it->second.second;
  }
  BundleCheck r;
  try {
    const json status = json::parse(status_text);
    r = check_files(dir, status);
    if (r.ok) r = check_metrics(dir);
  } catch (const json::exception&) {
    r = problem(fmt::format("{}: not valid JSON; the bundle's final record is damaged", status_path.string()));
  }
  checkpoint_cache().save();
  std::lock_guard<std::mutex> lock(mutex);
  memo[key] = {signature, r};
  return r;
}

std::string require_verified(const fs::path& dir, bool allow_unverified) {
  const BundleCheck c = verify_bundle(dir);
  if (c.ok) return "";
  if (!allow_unverified)
    fail("{}; re-run the cell with --force, or pass --allow-unverified to use it marked 'not verified'", c.problem);
  return c.problem;
}

}  // namespace clcp
