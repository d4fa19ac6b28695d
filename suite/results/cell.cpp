#include "suite/results/cell.hpp"

#include <fmt/format.h>

#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"

namespace clcp {

nlohmann::json CellSpec::to_json() const {
  return {{"protocol", protocol}, {"scale", scale},         {"fingerprint", fingerprint},
          {"init", init},         {"init_sha256", init_sha256}, {"finetune_mode", finetune_mode},
          {"seed", seed},         {"datasets", datasets},   {"recipe", recipe}};
}

CellSpec CellSpec::from_json(const nlohmann::json& j) {
  CellSpec c;
  c.protocol = j.at("protocol");
  c.scale = j.at("scale");
  c.fingerprint = j.at("fingerprint");
  c.init = j.at("init");
  c.init_sha256 = j.at("init_sha256");
  c.finetune_mode = j.at("finetune_mode");
  c.seed = j.at("seed");
  c.datasets = j.at("datasets");
  c.recipe = j.value("recipe", nlohmann::json::object());
  return c;
}

std::string CellSpec::id() const {
  nlohmann::json key = to_json();
  key.erase("recipe");  // the fingerprint already stands for the recipe
  std::string safe_init;
  for (char ch : init) safe_init += (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '@') ? ch : '_';
  return fmt::format("{}.{}.s{}-{}", safe_init, finetune_mode, seed, sha256_hex(canonical_json(key)).substr(0, 12));
}

std::string CellSpec::label() const { return fmt::format("{} {} seed {}", init, finetune_mode, seed); }

}  // namespace clcp
