#include "suite/core/rng.hpp"

#include <cmath>

namespace clcp {

namespace {
// splitmix64 finaliser: mixes (purpose, step, sample) into one well-distributed subsequence id.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
}  // namespace

Stream::Stream(uint64_t seed, std::string_view purpose, uint64_t step, uint64_t sample)
    : engine_(mix(seed), mix(fnv1a64(purpose) ^ mix(step ^ mix(sample))), 0) {}

uint64_t Stream::next_u64() {
  const uint64_t hi = engine_();
  return (hi << 32) | engine_();
}

double Stream::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

int64_t Stream::randint(int64_t lo, int64_t hi) {
  const uint64_t span = static_cast<uint64_t>(hi - lo);
  // Rejection sampling keeps the draw exactly uniform for any span.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % span;
  uint64_t x;
  do { x = next_u64(); } while (x >= limit);
  return lo + static_cast<int64_t>(x % span);
}

double Stream::normal() {
  double u1 = uniform();
  while (u1 <= 0.0) u1 = uniform();
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

}  // namespace clcp
