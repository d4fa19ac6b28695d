// Counter-based random streams (DESIGN.md "Determinism"). Every random draw in the suite — data order, resize ratio,
// crop offsets, flip, photometric distortion, drop-path masks, weight init — comes from a Stream keyed by
// (seed, purpose, step, sample). No shared global generator, so results do not depend on thread timing or on how
// many draws another component made. The generator is Philox4x32-10 (at::Philox4_32 from LibTorch).
#pragma once
#include <ATen/core/PhiloxRNGEngine.h>
#include <cstdint>
#include <string_view>

namespace clcp {

/// 64-bit FNV-1a of a string, used to turn a purpose name ("crop", "flip", …) into part of the key.
constexpr uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (char c : s) { h ^= static_cast<uint8_t>(c); h *= 1099511628211ull; }
  return h;
}

class Stream {
 public:
  /// seed: the cell's seed; purpose: a stable name; step: iteration (or epoch); sample: index within the batch/split.
  Stream(uint64_t seed, std::string_view purpose, uint64_t step = 0, uint64_t sample = 0);

  uint32_t next_u32() { return engine_(); }
  uint64_t next_u64();
  /// Uniform double in [0, 1) with 53 random bits.
  double uniform();
  /// Uniform double in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Uniform integer in [lo, hi) (exclusive upper bound, like numpy.random.randint). Requires hi > lo.
  int64_t randint(int64_t lo, int64_t hi);
  /// Bernoulli(p).
  bool bernoulli(double p) { return uniform() < p; }
  /// Standard normal (Box–Muller on two uniforms).
  double normal();

 private:
  at::Philox4_32 engine_;
};

}  // namespace clcp
