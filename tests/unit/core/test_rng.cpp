#include <catch2/catch.hpp>

#include <set>

#include "suite/core/rng.hpp"

using clcp::Stream;

TEST_CASE("a stream keyed by the same (seed, purpose, step, sample) repeats its draws exactly") {
  Stream a(7, "crop", 3, 1), b(7, "crop", 3, 1);
  for (int i = 0; i < 100; ++i) REQUIRE(a.next_u64() == b.next_u64());
}

TEST_CASE("streams that differ in any key part give different draws") {
  const uint64_t base = Stream(7, "crop", 3, 1).next_u64();
  CHECK(Stream(8, "crop", 3, 1).next_u64() != base);
  CHECK(Stream(7, "flip", 3, 1).next_u64() != base);
  CHECK(Stream(7, "crop", 4, 1).next_u64() != base);
  CHECK(Stream(7, "crop", 3, 2).next_u64() != base);
}

TEST_CASE("randint stays in [lo, hi) and reaches both ends") {
  Stream s(1, "randint");
  std::set<int64_t> seen;
  for (int i = 0; i < 2000; ++i) {
    const auto v = s.randint(-18, 18);
    REQUIRE(v >= -18);
    REQUIRE(v < 18);
    seen.insert(v);
  }
  CHECK(seen.size() == 36);
}

TEST_CASE("uniform draws have mean close to one half") {
  Stream s(2, "uniform");
  double sum = 0;
  for (int i = 0; i < 20000; ++i) sum += s.uniform();
  CHECK(sum / 20000 == Approx(0.5).margin(0.01));
}
