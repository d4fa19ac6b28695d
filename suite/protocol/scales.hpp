// Named scales of a protocol file: "scales": {"<name>": {"description": str, "overrides": {…}}}. The overrides of the
// chosen scale are deep-merged over the base; every overridden key must already exist in the base, so a scale cannot
// invent keys (a typo in a scale is an error, not a silent no-op). Shared by every protocol schema.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace clcp {

struct ScaledJson {
  nlohmann::json merged;    ///< the file with the scale's overrides merged in ("scales" kept)
  std::string description;  ///< the scale's description
};

/// Throws UserError "<where>: …" for a missing 'scales' object, an unknown scale (listing the known ones), a scale
/// without description/overrides or with other keys, and an override key the base does not have.
ScaledJson apply_scale(nlohmann::json file, const std::string& scale, const std::string& where);

}  // namespace clcp
