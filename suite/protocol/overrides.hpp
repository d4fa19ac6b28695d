// Command-line overrides of a protocol, as mmengine's --cfg-options and Hydra's key=value: `--set KEY=VALUE`,
// KEY a dotted path into the protocol file (e.g. model.head, train.epochs, optimizer.betas), VALUE JSON (a bare word
// that is not JSON is taken as a string: model.head=mlp). They are applied after the scale's overrides, so they win,
// and before the protocol is read, so the strict reader checks them as it checks the file (a wrong type or value is
// the same one-line error) and the fingerprint covers them.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace clcp {

using ProtocolOverrides = std::vector<std::pair<std::string, nlohmann::json>>;

/// "KEY=VALUE" → (KEY, VALUE). UserError "--set …: expected KEY=VALUE …" for a missing '=' or an empty key.
std::pair<std::string, nlohmann::json> parse_override(const std::string& arg);

/// Sets each key in `protocol` (already scale-merged). UserError "<where>: --set KEY: unknown key 'a.b' …" when a
/// path segment does not exist (overrides change settings, they never add keys) or runs through a non-object, and
/// for "scales" or "schema".
void apply_overrides(nlohmann::json& protocol, const ProtocolOverrides& overrides, const std::string& where);

/// ["KEY=VALUE", …] in the order given (for provenance and rerun commands).
std::vector<std::string> override_strings(const ProtocolOverrides& overrides);

}  // namespace clcp
