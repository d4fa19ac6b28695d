// The CLCP pair loader (suite/data/pair_loader.hpp): batch (epoch, i) is a pure function of its arguments — the
// same for 0, 1 and 2 worker threads, any prefetch depth, any call order (resume at any batch) — with drop_last,
// shuffled train and sequential val order, and decode failures (prefetch included) surfacing at their batch.
#include <catch2/catch.hpp>

#include "a2d2_test_util.hpp"
#include "suite/core/error.hpp"
#include "suite/data/pair_loader.hpp"

using namespace clcp;
using clcp::test::A2D2Writer;
using clcp::test::TempDir;
namespace fs = std::filesystem;

namespace {

PairSplit make_split(const fs::path& dir, int n) {
  A2D2Writer w{dir};
  clcp::test::write_cams_lidars(dir / "cams_lidars.json");
  for (int f = 0; f < n; ++f) w.pair(f < n / 2 ? "20181107_132300" : "20181108_103155", f, 300 + 13 * f);
  A2D2Options o;
  o.val_ratio = 0;
  return a2d2_split(read_a2d2(dir, o), "train");
}

void same(const PairBatch& a, const PairBatch& b) {
  REQUIRE(a.indices == b.indices);
  CHECK(a.images.equal(b.images));
  REQUIRE(a.points.size() == b.points.size());
  for (size_t k = 0; k < a.points.size(); ++k) CHECK(a.points[k].equal(b.points[k]));
}

}  // namespace

TEST_CASE("pair batches are the same for 0, 1 and 2 threads and when resumed at any batch", "[data][a2d2][loader]") {
  TempDir tmp;
  const PairSplit split = make_split(tmp.path(), 7);
  PairPipelineOptions o;
  o.crop = 40;
  o.out_size = 32;
  o.augment = true;
  PairLoader serial(split, o, PairMode::kTrain, 5, 3, 0, 0);
  CHECK(serial.batches_per_epoch() == 2);  // 7 pairs, batches of 3, the last pair dropped
  std::vector<PairBatch> ref;
  for (uint64_t e = 0; e < 3; ++e)
    for (int64_t i = 0; i < 2; ++i) ref.push_back(serial.batch(e, i));
  CHECK(ref[0].images.sizes() == std::vector<int64_t>{3, 3, 32, 32});
  CHECK(ref[0].points.size() == 3);
  CHECK(ref[0].points[0].size(1) == 4);
  // Each epoch is a permutation of the records drawn from Stream(seed, "a2d2/order", epoch).
  std::set<size_t> seen;
  for (int64_t q = 0; q < 7; ++q) seen.insert(serial.record_at(1, q));
  CHECK(seen.size() == 7);
  CHECK((ref[0].indices != ref[2].indices || ref[1].indices != ref[3].indices));
  for (int threads : {1, 2}) {
    INFO("threads " << threads);
    PairLoader par(split, o, PairMode::kTrain, 5, 3, threads, 2);
    size_t r = 0;
    for (uint64_t e = 0; e < 3; ++e)
      for (int64_t i = 0; i < 2; ++i) same(par.batch(e, i), ref[r++]);
  }
  PairLoader jump(split, o, PairMode::kTrain, 5, 3, 2, 3);
  same(jump.batch(2, 1), ref[5]);  // resume in the middle
  same(jump.batch(0, 1), ref[1]);  // and jump back
  same(jump.batch(1, 0), ref[2]);
  // Another seed, another order and other crops.
  PairLoader other(split, o, PairMode::kTrain, 6, 3, 0, 0);
  const PairBatch b = other.batch(0, 0);
  CHECK((b.indices != ref[0].indices || !b.images.equal(ref[0].images)));
}

TEST_CASE("a loader of rows returns exactly those rows of every batch, as data-parallel ranks take them",
          "[data][a2d2][loader]") {
  TempDir tmp;
  const PairSplit split = make_split(tmp.path(), 9);
  PairPipelineOptions o;
  o.crop = 40;
  o.out_size = 32;
  o.augment = true;
  PairLoader whole(split, o, PairMode::kTrain, 5, 4, 0, 0);
  for (const int threads : {0, 2}) {
    INFO("threads " << threads);
    // Batch 4 over 2 ranks: rank r takes rows [2r, 2r + 2).
    PairLoader rank0(split, o, PairMode::kTrain, 5, 4, threads, 1, PairRows{0, 2});
    PairLoader rank1(split, o, PairMode::kTrain, 5, 4, threads, 1, PairRows{2, 2});
    CHECK(rank1.batches_per_epoch() == whole.batches_per_epoch());
    for (uint64_t e = 0; e < 2; ++e)
      for (int64_t i = 0; i < whole.batches_per_epoch(); ++i) {
        const PairBatch w = whole.batch(e, i), a = rank0.batch(e, i), b = rank1.batch(e, i);
        REQUIRE(a.images.size(0) == 2);
        CHECK(a.images.equal(w.images.narrow(0, 0, 2)));
        CHECK(b.images.equal(w.images.narrow(0, 2, 2)));
        CHECK(std::vector<size_t>(w.indices.begin(), w.indices.begin() + 2) == a.indices);
        CHECK(std::vector<size_t>(w.indices.begin() + 2, w.indices.end()) == b.indices);
        for (size_t k = 0; k < 2; ++k) {
          CHECK(a.points[k].equal(w.points[k]));
          CHECK(b.points[k].equal(w.points[k + 2]));
        }
      }
  }
  CHECK_THROWS_AS(PairLoader(split, o, PairMode::kTrain, 5, 4, 0, 0, PairRows{3, 2}), std::invalid_argument);
}

TEST_CASE("val batches are sequential, unaugmented and identical for every seed and epoch", "[data][a2d2][loader]") {
  TempDir tmp;
  const PairSplit split = make_split(tmp.path(), 5);
  PairPipelineOptions o;
  o.crop = 40;
  o.out_size = 16;
  o.augment = true;  // ignored for val
  PairLoader a(split, o, PairMode::kVal, 1, 2, 1, 1), b(split, o, PairMode::kVal, 2, 2, 0, 0);
  CHECK(a.batches_per_epoch() == 2);
  const PairBatch a0 = a.batch(0, 0), a1 = a.batch(0, 1);
  CHECK(a0.indices == std::vector<size_t>{0, 1});
  CHECK(a1.indices == std::vector<size_t>{2, 3});
  same(a0, b.batch(3, 0));
  same(a1, b.batch(0, 1));
  PairPipelineOptions plain = o;
  plain.augment = false;
  PairLoader c(split, plain, PairMode::kVal, 1, 2, 0, 0);
  same(a0, c.batch(0, 0));
}

TEST_CASE("a pair that fails to decode in prefetch surfaces as one line when its batch is requested",
          "[data][a2d2][loader]") {
  TempDir tmp;
  const PairSplit split = make_split(tmp.path(), 4);
  PairPipelineOptions o;
  o.crop = 40;
  o.out_size = 16;
  PairLoader l(split, o, PairMode::kVal, 0, 2, 2, 1);
  // Damage the PNG of record 3 after the scan (the scan reads npz headers only): batch 1 holds it.
  clcp::test::write_bytes(split.records[3].camera, "broken");
  const PairBatch b0 = l.batch(0, 0);  // schedules batch 1 too, whose decode fails in a worker
  CHECK(b0.indices == std::vector<size_t>{0, 1});
  std::string err;
  try {
    l.batch(0, 1);
  } catch (const UserError& e) {
    err = e.what();
  }
  CHECK(err == split.records[3].camera.string() + ": PNG does not decode; re-download or regenerate it");
  CHECK(l.batch(0, 0).indices == b0.indices);  // the loader still works
  TempDir tiny;
  const PairSplit small = make_split(tiny.path(), 2);
  try {
    PairLoader too_big(small, o, PairMode::kTrain, 0, 3, 0, 0);
    FAIL("no error");
  } catch (const UserError& e) {
    CHECK_THAT(e.what(), Catch::Contains("A2D2 train split holds 2 pairs, fewer than one batch of 3"));
  }
}

TEST_CASE("shuffled pairing is a seeded derangement, and each image keeps its pixels and crop and gets another "
          "frame's points",
          "[data][a2d2][loader]") {
  for (size_t n = 2; n <= 40; ++n) {
    const auto d = derangement(n, 3);
    std::vector<size_t> sorted = d;
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < n; ++i) {
      CHECK(d[i] != i);       // no fixed point
      CHECK(sorted[i] == i);  // a permutation
    }
    CHECK(derangement(n, 3) == d);  // seeded
  }
  CHECK(derangement(40, 3) != derangement(40, 4));
  CHECK_THROWS_AS(derangement(1, 0), UserError);

  TempDir tmp;
  const PairSplit split = make_split(tmp.path(), 7);
  PairSplit shuffled = split;
  shuffle_pairing(shuffled, 11);
  PairPipelineOptions o;
  o.crop = 40;
  o.out_size = 32;
  const Undistorter und(split.camera);
  int other_points = 0;
  for (size_t i = 0; i < split.records.size(); ++i) {
    const PairSample own = load_pair_sample(split, und, o, i, PairMode::kTrain, 5, 1, i);
    const PairSample s = load_pair_sample(shuffled, und, o, i, PairMode::kTrain, 5, 1, i);
    REQUIRE(s.tries == 1);
    REQUIRE(own.tries == 1);
    CHECK(s.image.equal(own.image));  // the same pixels and the same crop draws
    CHECK(s.crop.left == own.crop.left);
    CHECK(s.crop.top == own.crop.top);
    const LidarCloud other = read_lidar_cloud(split.records[shuffled.cloud_of[i]].lidar);
    CHECK(s.points.equal(crop_points(other, points_in_crop(other, s.crop), o.reflectance)));
    other_points += s.points.size(0) != own.points.size(0);
  }
  CHECK(other_points > 0);  // the frames' clouds differ (300 + 13·f points each)
}
