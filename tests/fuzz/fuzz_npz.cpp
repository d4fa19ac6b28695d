// libFuzzer harness: the NumPy .npz reader (suite/data/npz.hpp: libzip from memory, then every <key>.npy member
// through the .npy reader, npy.hpp) on arbitrary bytes. Bad input must end in a UserError. Seeds: the A2D2 lidar
// fixtures' layout (points, reflectance, row, col, … as np.savez_compressed writes them) and bare .npy files.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "suite/core/error.hpp"
#include "suite/data/npy.hpp"
#include "suite/data/npz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const auto a = clcp::parse_npz(bytes, "fuzz.npz");
    (void)a;
  } catch (const clcp::UserError&) {
  }
  try {
    const auto n = clcp::parse_npy(bytes, "fuzz.npy");  // the same bytes as a bare .npy
    (void)n;
  } catch (const clcp::UserError&) {
  }
  return 0;
}
