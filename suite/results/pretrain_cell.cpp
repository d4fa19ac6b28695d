#include "suite/results/pretrain_cell.hpp"

#include <fmt/format.h>

#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"

namespace clcp {

nlohmann::json PretrainCellSpec::to_json() const {
  nlohmann::json j{{"kind", "pretrain"},
                   {"protocol", protocol},
                   {"scale", scale},
                   {"fingerprint", fingerprint},
                   {"variant", variant},
                   {"image_init", image_init},
                   {"image_init_sha256", image_init_sha256},
                   {"lidar_init", lidar_init},
                   {"lidar_init_sha256", lidar_init_sha256},
                   {"seed", seed},
                   {"datasets", datasets},
                   {"recipe", recipe}};
  if (!distributed.is_null()) j["distributed"] = distributed;
  if (method != "clcp") j["method"] = method;  // CLCP's specs predate methods: their ids stay as they were
  return j;
}

PretrainCellSpec PretrainCellSpec::from_json(const nlohmann::json& j) {
  PretrainCellSpec c;
  c.protocol = j.at("protocol");
  c.scale = j.at("scale");
  c.fingerprint = j.at("fingerprint");
  c.variant = j.at("variant");
  c.image_init = j.at("image_init");
  c.image_init_sha256 = j.at("image_init_sha256");
  c.lidar_init = j.at("lidar_init");
  c.lidar_init_sha256 = j.at("lidar_init_sha256");
  c.seed = j.at("seed");
  c.datasets = j.at("datasets");
  c.recipe = j.value("recipe", nlohmann::json::object());
  if (j.contains("distributed")) c.distributed = j["distributed"];
  c.method = j.value("method", "clcp");
  return c;
}

std::string PretrainCellSpec::id() const {
  nlohmann::json key = to_json();
  key.erase("recipe");
  return fmt::format("{}-{}.s{}-{}", method, variant, seed, sha256_hex(canonical_json(key)).substr(0, 12));
}

std::string PretrainCellSpec::encoder_name(int64_t epoch) const { return fmt::format("{}-{}@ep{}", method, variant, epoch);
}

bool is_pretrain_spec(const nlohmann::json& spec) { return spec.is_object() && spec.value("kind", "") == "pretrain"; }

}  // namespace clcp
