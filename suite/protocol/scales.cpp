#include "suite/protocol/scales.hpp"

#include "suite/core/error.hpp"
#include "suite/protocol/json_reader.hpp"

namespace clcp {
using nlohmann::json;

namespace {

void merge_known(json& base, const json& over, const std::string& where, const std::string& path) {
  // (a non-object here once escaped as nlohmann's invalid_iterator; found by fuzz_protocol)
  if (!over.is_object())
    fail("{}: '{}' must be a JSON object of the keys it overrides, got {}; fix the file", where, path,
         over.dump().substr(0, 40));
  for (auto it = over.begin(); it != over.end(); ++it) {
    const std::string key_path = path.empty() ? it.key() : path + "." + it.key();
    if (!base.contains(it.key()))
      fail("{}: override key '{}' does not exist in the protocol; remove it or check its spelling", where, key_path);
    if (it.value().is_object() && base[it.key()].is_object())
      merge_known(base[it.key()], it.value(), where, key_path);
    else
      base[it.key()] = it.value();
  }
}

}  // namespace

ScaledJson apply_scale(json j, const std::string& scale, const std::string& where) {
  if (!j.is_object() || !j.contains("scales") || !j["scales"].is_object())
    fail("{}: missing 'scales' object; every protocol defines at least the 'full' scale", where);
  if (!j["scales"].contains(scale)) {
    std::string known;
    for (auto it = j["scales"].begin(); it != j["scales"].end(); ++it) known += (known.empty() ? "" : ", ") + it.key();
    fail("{}: unknown scale '{}'; this protocol has: {}", where, scale, known);
  }
  ScaledJson out;
  const json chosen = j["scales"][scale];
  StrictObject scale_obj(chosen, where, "scales." + scale);
  out.description = scale_obj.string("description");
  merge_known(j, scale_obj.raw("overrides"), where, "scales." + scale + ".overrides");
  scale_obj.finish();
  for (auto it = j["scales"].begin(); it != j["scales"].end(); ++it) {  // validate the other scales' shape too
    StrictObject s(it.value(), where, "scales." + it.key());
    s.string("description");
    s.raw("overrides");
    s.finish();
  }
  out.merged = std::move(j);
  return out;
}

}  // namespace clcp
