#include "suite/data/manifest.hpp"

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

nlohmann::json split_manifest(const Split& split) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& r : split.records) {
    files.push_back({{"image", r.image.lexically_relative(split.root).generic_string()},
                     {"label", r.label.lexically_relative(split.root).generic_string()},
                     {"image_bytes", size_of(r.image)},
                     {"label_bytes", size_of(r.label)}});
  }
  nlohmann::json m;
  m["dataset"] = split.dataset;
  m["split"] = split.name;
  m["count"] = split.records.size();
  m["hash"] = sha256_hex(canonical_json(files));
  m["files"] = std::move(files);
  return m;
}

std::string manifest_hash(const Split& split) { return split_manifest(split)["hash"].get<std::string>(); }

}  // namespace clcp
