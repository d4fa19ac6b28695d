// libFuzzer harness: the protocol readers (suite/protocol: JSON parse, strict key checks, scale overrides, range
// checks; finetune and pretraining schemas) on arbitrary bytes, for each scale name the input declares. Bad input
// must end in a UserError.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "suite/core/error.hpp"
#include "suite/protocol/pretrain_protocol.hpp"
#include "suite/protocol/protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(data, data + size);
  } catch (const nlohmann::json::exception&) {
    return 0;  // read_json turns this into "not valid JSON (byte N)"
  }
  std::vector<std::string> scales{"full"};
  if (j.is_object() && j.contains("scales") && j["scales"].is_object())
    for (auto it = j["scales"].begin(); it != j["scales"].end(); ++it) scales.push_back(it.key());
  for (const auto& s : scales) {
    try {
      const clcp::Protocol p = clcp::protocol_from_json(j, "fuzz.json", s);
      (void)p.fingerprint();
      (void)p.to_json().dump();
    } catch (const clcp::UserError&) {
    }
    try {
      const clcp::PretrainProtocol p = clcp::pretrain_protocol_from_json(j, "fuzz.json", s);
      (void)p.fingerprint();
    } catch (const clcp::UserError&) {
    }
  }
  return 0;
}
