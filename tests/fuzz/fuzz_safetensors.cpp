// libFuzzer harness: the safetensors reader (models/safetensors.hpp) on arbitrary bytes. Bad input must end in a
// UserError (one line for the user), never a crash, a hang, an uncaught exception or a sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string>

#include "models/safetensors.hpp"
#include "suite/core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto f = clcp::parse_safetensors(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
    for (const auto& [k, t] : f.tensors) (void)t.numel();
  } catch (const clcp::UserError&) {
  }
  return 0;
}
