#include <catch2/catch.hpp>

#include <set>

#include "data_test_util.hpp"
#include "suite/core/error.hpp"
#include "suite/data/cityscapes.hpp"
#include "suite/data/loader.hpp"

using namespace clcp;
using clcp::test::TempDir;
namespace fs = std::filesystem;

namespace {
// A 5-frame Cityscapes-layout split of 160×80 frames with two label classes, so crops pass cat_max_ratio sometimes.
Split tiny_split(const fs::path& root) {
  for (int n = 0; n < 5; ++n) {
    const std::string stem = "city_00000" + std::to_string(n) + "_000019";
    clcp::test::write_image(root / "leftImg8bit/train/city" / (stem + "_leftImg8bit.png"), 160, 80, n);
    cv::Mat l(80, 160, CV_8U, cv::Scalar(n));
    l(cv::Rect(0, 40, 160, 40)).setTo(13);
    l(cv::Rect(0, 0, 20, 20)).setTo(255);
    fs::create_directories(root / "gtFine/train/city");
    cv::imwrite((root / "gtFine/train/city" / (stem + "_gtFine_labelTrainIds.png")).string(), l);
  }
  return read_cityscapes(root, "train");
}

TrainPipelineOptions small_options() {
  TrainPipelineOptions o;
  o.scale_w = 160;
  o.scale_h = 80;
  o.crop_h = 48;
  o.crop_w = 64;
  return o;
}

bool equal(const Batch& a, const Batch& b) {
  return a.indices == b.indices && torch::equal(a.images, b.images) && torch::equal(a.labels, b.labels);
}
}  // namespace

TEST_CASE("the loader gives identical batches for any thread count and call order", "[data][loader]") {
  TempDir tmp;
  const Split split = tiny_split(tmp.path() / "cityscapes");
  TrainLoader one(split, small_options(), 17, 2, 1, 2);
  TrainLoader three(split, small_options(), 17, 2, 3, 3);
  TrainLoader inline_(split, small_options(), 17, 2, 0, 0);
  std::vector<Batch> ref;
  for (uint64_t i = 0; i < 5; ++i) {
    ref.push_back(one.batch(i));
    const Batch b3 = three.batch(i);
    CHECK(equal(ref.back(), b3));
    CHECK(equal(ref.back(), inline_.batch(i)));
  }
  const Batch& b = ref[0];
  CHECK(b.images.sizes() == torch::IntArrayRef({2, 3, 48, 64}));
  CHECK(b.images.dtype() == torch::kFloat32);
  CHECK(b.labels.sizes() == torch::IntArrayRef({2, 48, 64}));
  CHECK(b.labels.dtype() == torch::kInt64);

  // Resume: a fresh loader asked for batch 5 first equals batch 5 after 0..4.
  const Batch after = one.batch(5);
  TrainLoader resumed(split, small_options(), 17, 2, 2, 2);
  CHECK(equal(resumed.batch(5), after));
  // Jumping back works too.
  CHECK(equal(resumed.batch(1), ref[1]));

  // Positions 0..4 (batches 0, 1 and the first half of 2) are one epoch: a permutation of the 5 records.
  std::set<size_t> epoch0 = {ref[0].indices[0], ref[0].indices[1], ref[1].indices[0], ref[1].indices[1],
                             ref[2].indices[0]};
  CHECK(epoch0.size() == 5);
  std::set<size_t> epoch1 = {ref[2].indices[1], ref[3].indices[0], ref[3].indices[1], ref[4].indices[0],
                             ref[4].indices[1]};
  CHECK(epoch1.size() == 5);
  CHECK(one.record_index(2, 1) == ref[2].indices[1]);

  // A different seed gives a different stream of batches.
  TrainLoader other(split, small_options(), 18, 2, 1, 0);
  bool differs = false;
  for (uint64_t i = 0; i < 3; ++i) differs |= !equal(other.batch(i), ref[i]);
  CHECK(differs);

  // Labels hold trainIds of the split (n, 13) and the ignore value only.
  const auto values = std::get<0>(at::_unique(torch::cat({ref[0].labels.flatten(), ref[1].labels.flatten()})));
  for (int64_t k = 0; k < values.numel(); ++k) {
    const int64_t v = values[k].item<int64_t>();
    CHECK((v <= 4 || v == 13 || v == 255));
  }
}

TEST_CASE("the loader hands decode errors to the caller of batch", "[data][loader]") {
  TempDir tmp;
  const Split split = tiny_split(tmp.path() / "cityscapes");
  clcp::test::write_bytes(split.records[2].image, "not a png");
  for (int threads : {0, 2}) {
    TrainLoader loader(split, small_options(), 3, 5, threads, 1);  // batch 0 = the whole first epoch
    try {
      loader.batch(0);
      FAIL("expected a UserError");
    } catch (const UserError& e) {
      CHECK(std::string(e.what()) == split.records[2].image.string() +
                                         ": does not decode as an image: it is text (first line: \"not a "
                                         "png\"); re-download or regenerate it");
    }
  }
}
