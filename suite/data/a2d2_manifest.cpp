#include "suite/data/a2d2_manifest.hpp"

#include <map>
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

nlohmann::json a2d2_manifest(const A2D2Dataset& d) {
  std::vector<bool> is_val(d.pairs.size(), false);
  for (size_t i : d.val) is_val[i] = true;
  nlohmann::json pairs = nlohmann::json::array(), skipped = nlohmann::json::array();
  std::map<std::string, std::array<size_t, 2>> per_scene;
  for (size_t i = 0; i < d.pairs.size(); ++i) {
    const A2D2Pair& p = d.pairs[i];
    pairs.push_back({{"lidar", p.lidar.lexically_relative(d.root).generic_string()},
                     {"camera", p.camera.lexically_relative(d.root).generic_string()},
                     {"lidar_bytes", size_of(p.lidar)},
                     {"camera_bytes", size_of(p.camera)},
                     {"split", is_val[i] ? "val" : "train"}});
    ++per_scene[p.scene][is_val[i] ? 1 : 0];
  }
  for (const SkippedFile& s : d.skipped)
    skipped.push_back({{"file", s.file.lexically_relative(d.root).generic_string()}, {"reason", s.reason}});
  const std::string cams_sha = sha256_file(d.camera.source);
  nlohmann::json scenes = nlohmann::json::array();
  for (const std::string& s : d.scenes) {
    const auto c = per_scene[s];
    scenes.push_back({{"scene", s}, {"pairs", c[0] + c[1]}, {"train", c[0]}, {"val", c[1]}});
  }
  nlohmann::json hashed = {{"pairs", pairs}, {"skipped", skipped}, {"val_ratio", d.val_ratio}, {"cams_lidars_sha256", cams_sha}};
  nlohmann::json m;
  m["dataset"] = "a2d2";
  m["camera"] = "front_center";
  m["val_ratio"] = d.val_ratio;
  m["cams_lidars"] = {{"file", d.camera.source.lexically_relative(d.root).generic_string()}, {"sha256", cams_sha}};
  m["counts"] = {{"scenes", d.scenes.size()}, {"pairs", d.pairs.size()}, {"train", d.train.size()},
                 {"val", d.val.size()}, {"skipped", d.skipped.size()}};
  m["scenes"] = std::move(scenes);
  m["hash"] = sha256_hex(canonical_json(hashed));
  m["pairs"] = std::move(pairs);
  m["skipped"] = std::move(skipped);
  return m;
}

std::string a2d2_manifest_hash(const A2D2Dataset& d) { return a2d2_manifest(d)["hash"].get<std::string>(); }

}  // namespace clcp
