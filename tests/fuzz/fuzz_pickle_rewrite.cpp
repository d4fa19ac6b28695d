// libFuzzer harness: the torch.save pickle rewrite (models/import/pickle_rewrite.hpp) on arbitrary bytes. It never
// throws by contract; a refusal is reported in `refused`. Its output must again be a stream the rewrite accepts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "models/import/pickle_rewrite.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto r = clcp::rewrite_pickle_for_libtorch(std::string_view(reinterpret_cast<const char*>(data), size));
  if (r.refused.empty() && r.bytes.empty() && size != 0) std::abort();  // accepted input must give a stream
  return 0;
}
