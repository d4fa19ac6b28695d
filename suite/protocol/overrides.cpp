#include "suite/protocol/overrides.hpp"

#include <fmt/format.h>

#include "suite/core/error.hpp"

namespace clcp {
using nlohmann::json;

std::pair<std::string, json> parse_override(const std::string& arg) {
  const auto eq = arg.find('=');
  if (eq == std::string::npos || eq == 0)
    fail("--set {}: expected KEY=VALUE with KEY a dotted protocol key (e.g. --set train.epochs=4 or --set "
         "model.head=mlp)", arg);
  const std::string key = arg.substr(0, eq), text = arg.substr(eq + 1);
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) value = text;  // a bare word: a string
  return {key, value};
}

void apply_overrides(json& protocol, const ProtocolOverrides& overrides, const std::string& where) {
  for (const auto& [key, value] : overrides) {
    if (key == "schema" || key.rfind("scales", 0) == 0)
      fail("{}: --set {}: the schema and the scales cannot be overridden; choose a scale with --scale", where, key);
    json* node = &protocol;
    std::string path;
    size_t begin = 0;
    while (true) {
      const auto dot = key.find('.', begin);
      const std::string part = key.substr(begin, dot == std::string::npos ? std::string::npos : dot - begin);
      path += (path.empty() ? "" : ".") + part;
      if (!node->is_object() || !node->contains(part)) {
        std::vector<std::string> known;
        if (node->is_object())
          for (const auto& [k, v] : node->items()) known.push_back(k);
        fail("{}: --set {}: unknown key '{}'{}; overrides change a protocol's keys, they never add one", where, key,
             path, known.empty() ? std::string(" (not inside an object)")
                                 : fmt::format(" (known there: {})", fmt::join(known, ", ")));
      }
      node = &(*node)[part];
      if (dot == std::string::npos) break;
      begin = dot + 1;
    }
    *node = value;
  }
}

std::vector<std::string> override_strings(const ProtocolOverrides& overrides) {
  std::vector<std::string> out;
  for (const auto& [k, v] : overrides) out.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
  return out;
}

}  // namespace clcp
