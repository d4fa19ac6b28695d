#include "suite/data/manifest.hpp"

#include <spdlog/spdlog.h>

#include <system_error>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"

namespace fs = std::filesystem;

namespace clcp {

namespace {
uint64_t size_of(const fs::path& p) {
  std::error_code ec;
  const auto n = fs::file_size(p, ec);
  if (ec) fail("{}: cannot read file size ({}); re-download or regenerate it", p.string(), ec.message());
  return n;
}
}  // namespace

HashCache& default_hash_cache() {
  static HashCache cache;
  return cache;
}

nlohmann::json split_manifest(const Split& split, HashCache& cache) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& r : split.records) {
    files.push_back({{"image", r.image.lexically_relative(split.root).generic_string()},
                     {"label", r.label.lexically_relative(split.root).generic_string()},
                     {"image_bytes", size_of(r.image)},
                     {"label_bytes", size_of(r.label)},
                     {"image_xxh128", cache.file_hash(r.image)},
                     {"label_xxh128", cache.file_hash(r.label)}});
  }
  if (const std::string why = cache.save(); !why.empty())
    spdlog::warn("note: the hash cache could not be saved ({}); the next run hashes the data again", why);
  nlohmann::json m;
  m["dataset"] = split.dataset;
  m["split"] = split.name;
  m["count"] = split.records.size();
  m["hash"] = sha256_hex(canonical_json(files));
  m["files"] = std::move(files);
  return m;
}

nlohmann::json split_manifest(const Split& split) { return split_manifest(split, default_hash_cache()); }

std::string manifest_hash(const Split& split, HashCache& cache) {
  return split_manifest(split, cache)["hash"].get<std::string>();
}
std::string manifest_hash(const Split& split) { return manifest_hash(split, default_hash_cache()); }

}  // namespace clcp
