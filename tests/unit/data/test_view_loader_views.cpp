// ViewLoader with M views per frame (FastSiam, DiSiam+): views a and b are the same bytes for every M — the extra
// views are drawn after them from the same per-position stream — and the extra views are views of the same frame.
#include <catch2/catch.hpp>

#include <opencv2/imgcodecs.hpp>

#include "suite/data/view_loader.hpp"
#include "support/python_oracle.hpp"
#include "support/test_paths.hpp"

using namespace clcp;
namespace fs = std::filesystem;

TEST_CASE("M-view batches keep views a and b of the 2-view batch and add M - 2 more of the same frames",
          "[data][views]") {
  test::TempDir dir;
  FrameSplit split;
  split.name = "train";
  split.root = dir.path;
  for (int i = 0; i < 4; ++i) {
    cv::Mat img(48, 64, CV_8UC3, cv::Scalar(40 * i, 255 - 30 * i, 90));
    img(cv::Rect(5 * i, 3, 25, 37)).setTo(cv::Scalar(200, 10 * i, 30));
    const fs::path f = dir.path / ("frame" + std::to_string(i) + ".png");
    REQUIRE(cv::imwrite(f.string(), img));
    split.frames.push_back(f);
  }
  ViewOptions v;
  v.out_size = 32;
  v.blur_kernel = 3;
  const std::array<float, 3> mean{120, 120, 120}, sd{60, 60, 60};
  const ViewLoader two(split, v, mean, sd, PairMode::kTrain, 9, 2);
  const ViewLoader four(split, v, mean, sd, PairMode::kTrain, 9, 2, PairRows{}, 4);
  for (int64_t i = 0; i < 2; ++i) {
    const ViewBatch b2 = two.batch(1, i), b4 = four.batch(1, i);
    CHECK(b2.extra_views.empty());
    REQUIRE(b4.extra_views.size() == 2);
    CHECK(torch::equal(b2.view_a, b4.view_a));
    CHECK(torch::equal(b2.view_b, b4.view_b));
    CHECK(b2.indices == b4.indices);
    for (const auto& e : b4.extra_views) {
      CHECK(e.sizes() == b4.view_a.sizes());
      CHECK(!torch::equal(e, b4.view_a));
    }
    CHECK(!torch::equal(b4.extra_views[0], b4.extra_views[1]));
  }
  CHECK_THROWS_AS(ViewLoader(split, v, mean, sd, PairMode::kTrain, 9, 2, PairRows{}, 1), std::invalid_argument);
}
