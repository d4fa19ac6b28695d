// libFuzzer harness: the whole weights reader (models/import/checkpoint_reader.hpp) on arbitrary bytes — the zip
// container through LibTorch's PyTorchStreamReader, data.pkl through our rewrite and LibTorch's unpickler, the
// state-dict selection — and safetensors when the bytes are not a zip. Bad input must end in a UserError.
#include <cstddef>
#include <cstdint>
#include <string>

#include "models/import/checkpoint_reader.hpp"
#include "suite/core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto f = clcp::read_checkpoint_bytes(std::string(reinterpret_cast<const char*>(data), size), "fuzz.pth");
    for (const auto& [k, t] : f.tensors) (void)t.numel();
  } catch (const clcp::UserError&) {
  }
  return 0;
}
