#include "suite/data/pretrain_data.hpp"

#include "suite/data/a2d2_manifest.hpp"

namespace clcp {

nlohmann::json PretrainData::manifest_hashes() const {
  nlohmann::json j = nlohmann::json::object();
  if (a2d2) j["a2d2"] = a2d2_manifest_hash(*a2d2);
  if (images) j["images"] = images->manifest()["hash"];
  return j;
}

}  // namespace clcp
