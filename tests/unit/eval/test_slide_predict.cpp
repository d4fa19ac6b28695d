// Sliding windows, slide inference and predict_labels against hand-computed values (mmseg_reference.md §6).
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <chrono>
#include <iostream>
#include <opencv2/core.hpp>

#include "suite/core/error.hpp"
#include "suite/data/transforms.hpp"
#include "suite/eval/evaluate.hpp"
#include "suite/eval/predict.hpp"
#include "suite/eval/slide.hpp"

using namespace clcp;
namespace F = torch::nn::functional;

TEST_CASE("A Cityscapes frame 1024x2048 gives 6x12 = 72 windows with the last ones clamped to the border") {
  const auto w = slide_windows(1024, 2048, 224, 224, 168, 168);
  REQUIRE(w.size() == 72);
  CHECK(w[0].y1 == 0);
  CHECK(w[0].x1 == 0);
  CHECK(w[1].x1 == 168);  // row-major: x varies fastest
  CHECK(w[11].x1 == 1824);
  CHECK(w[11].x2 == 2048);
  CHECK(w[12].y1 == 168);
  CHECK(w[71].y1 == 800);
  CHECK(w[71].y2 == 1024);
  CHECK(w[71].x1 == 1824);
  CHECK(w[10].x1 == 1680);  // an unclamped one: 10·168
  for (const auto& b : w) {
    CHECK(b.y2 - b.y1 == 224);
    CHECK(b.x2 - b.x1 == 224);
  }
}

TEST_CASE("An ACDC frame resized to 1024x1820 gives 66 windows") {
  const auto w = slide_windows(1024, 1820, 224, 224, 168, 168);
  REQUIRE(w.size() == 66);
  CHECK(w.back().x1 == 1820 - 224);
  CHECK(w.back().y1 == 800);
}

TEST_CASE("mmseg's 768/512 example windows on 1024x2048 and 1024x1820 are reproduced") {
  const auto c = slide_windows(1024, 2048, 768, 768, 512, 512);
  REQUIRE(c.size() == 8);
  CHECK((c[0].x1 == 0 && c[1].x1 == 512 && c[2].x1 == 1024 && c[3].x1 == 1280));
  CHECK(c[4].y1 == 256);
  const auto a = slide_windows(1024, 1820, 768, 768, 512, 512);
  REQUIRE(a.size() == 8);
  CHECK(a[3].x1 == 1052);
}

TEST_CASE("A 256x512 image gives 2x3 windows with the last row and column shifted inside") {
  const auto w = slide_windows(256, 512, 224, 224, 168, 168);
  REQUIRE(w.size() == 6);
  const std::vector<std::array<int64_t, 4>> expected{{0, 0, 224, 224},   {0, 168, 224, 392},  {0, 288, 224, 512},
                                                     {32, 0, 256, 224},  {32, 168, 256, 392}, {32, 288, 256, 512}};
  for (size_t i = 0; i < 6; ++i) {
    CHECK(w[i].y1 == expected[i][0]);
    CHECK(w[i].x1 == expected[i][1]);
    CHECK(w[i].y2 == expected[i][2]);
    CHECK(w[i].x2 == expected[i][3]);
  }
}

TEST_CASE("An image smaller than the crop gets one window the size of the image") {
  const auto w = slide_windows(100, 150, 224, 224, 168, 168);
  REQUIRE(w.size() == 1);
  CHECK((w[0].y1 == 0 && w[0].x1 == 0 && w[0].y2 == 100 && w[0].x2 == 150));
  CHECK_THROWS_AS(slide_windows(100, 150, 224, 224, 0, 168), UserError);
}

TEST_CASE("Slide inference averages per-window logits over the overlaps") {
  // Window n (in mmseg order) returns the constant n at 2x2; bilinear resize keeps constants exact.
  int64_t counter = 0;
  std::vector<int64_t> batch_sizes;
  const LogitsFn fn = [&](const torch::Tensor& x) {
    CHECK(x.size(2) == 224);
    CHECK(x.size(3) == 224);
    batch_sizes.push_back(x.size(0));
    auto out = torch::empty({x.size(0), 1, 2, 2});
    for (int64_t n = 0; n < x.size(0); ++n) out[n].fill_(static_cast<double>(counter++));
    return out;
  };
  SlideOptions opts;
  opts.batch_windows = 4;
  const auto logits = slide_inference(fn, torch::zeros({1, 3, 256, 512}), opts);
  REQUIRE(logits.sizes() == torch::IntArrayRef({1, 1, 256, 512}));
  CHECK(batch_sizes == std::vector<int64_t>{4, 2});
  // windows: 0 (0,0) 1 (0,168) 2 (0,288) 3 (32,0) 4 (32,168) 5 (32,288)
  auto at = [&](int64_t y, int64_t x) { return logits[0][0][y][x].item<double>(); };
  CHECK(at(10, 10) == Approx(0.0));     // window 0 only
  CHECK(at(10, 200) == Approx(0.5));    // windows 0, 1
  CHECK(at(100, 200) == Approx(2.0));   // windows 0, 1, 3, 4
  CHECK(at(100, 300) == Approx(3.0));   // windows 1, 2, 4, 5
  CHECK(at(250, 500) == Approx(5.0));   // window 5 only
  CHECK(at(240, 100) == Approx(3.0));   // window 3 only
}

TEST_CASE("Slide inference with a model that returns its input reproduces a channel mix of the image exactly") {
  const auto image = torch::rand({1, 3, 256, 512}, torch::TensorOptions().dtype(torch::kFloat32));
  const LogitsFn fn = [](const torch::Tensor& x) {
    return torch::cat({x.slice(1, 0, 1) + x.slice(1, 1, 2), -x.slice(1, 2, 3)}, 1);
  };
  const auto logits = slide_inference(fn, image, {});
  const auto expected = torch::cat({image.slice(1, 0, 1) + image.slice(1, 1, 2), -image.slice(1, 2, 3)}, 1);
  CHECK(torch::allclose(logits, expected, 1e-6, 1e-6));
}

TEST_CASE("Slide inference with 14x14 logits upsamples each window bilinearly as encode_decode does") {
  // Image value 2x + 3y + 1. A 16x16 mean pool sees centres 16i + 7.5, and a bilinear (align_corners false) resize
  // 14 → 224 reproduces a linear function exactly except within 8 px of a window edge, where it clamps to the
  // outermost centre (window offset + 7.5 or + 215.5).
  const auto ys = torch::arange(256, torch::kFloat32).view({1, 1, 256, 1});
  const auto xs = torch::arange(512, torch::kFloat32).view({1, 1, 1, 512});
  const auto plane = (2 * xs + 3 * ys + 1).expand({1, 3, 256, 512}).contiguous();
  const LogitsFn fn = [](const torch::Tensor& x) { return F::avg_pool2d(x.slice(1, 0, 1), F::AvgPool2dFuncOptions(16)); };
  const auto logits = slide_inference(fn, plane, {});
  auto at = [&](int64_t y, int64_t x) { return logits[0][0][y][x].item<double>(); };
  CHECK(at(100, 100) == Approx(2 * 100 + 3 * 100 + 1).epsilon(1e-5));
  CHECK(at(200, 300) == Approx(2 * 300 + 3 * 200 + 1).epsilon(1e-5));
  CHECK(at(2, 2) == Approx(2 * 7.5 + 3 * 7.5 + 1).epsilon(1e-5));                  // window 0 corner, clamped
  CHECK(at(250, 505) == Approx(2 * 503.5 + 3 * 247.5 + 1).epsilon(1e-5));          // window 5 corner, clamped
}

TEST_CASE("An image smaller than the crop is zero-padded to 224x224 and its logits cropped back") {
  const auto image = torch::rand({1, 3, 100, 150});
  std::vector<int64_t> seen;
  const LogitsFn fn = [&](const torch::Tensor& x) {
    seen = x.sizes().vec();
    CHECK(x.slice(2, 100).abs().sum().item<double>() == 0.0);  // padding is zero
    CHECK(x.slice(3, 150).abs().sum().item<double>() == 0.0);
    return x.slice(1, 1, 2).clone();
  };
  const auto logits = slide_inference(fn, image, {});
  CHECK(seen == std::vector<int64_t>{1, 3, 224, 224});
  REQUIRE(logits.sizes() == torch::IntArrayRef({1, 1, 100, 150}));
  CHECK(torch::equal(logits, image.slice(1, 1, 2)));
}

TEST_CASE("Slide inference rejects a model result of the wrong shape with a UserError") {
  const LogitsFn fn = [](const torch::Tensor& x) { return torch::zeros({x.size(0) + 1, 19, 14, 14}); };
  CHECK_THROWS_AS(slide_inference(fn, torch::zeros({1, 3, 224, 224}), {}), UserError);
  CHECK_THROWS_AS(slide_inference(fn, torch::zeros({3, 224, 224}), {}), UserError);
}

TEST_CASE("The mmcv keep-ratio test resize maps 1920x1080 to 1820x1024 and leaves 2048x1024 unchanged") {
  CHECK(keep_ratio_size(cv::Size(1920, 1080), 2048, 1024) == cv::Size(1820, 1024));
  CHECK(keep_ratio_size(cv::Size(2048, 1024), 2048, 1024) == cv::Size(2048, 1024));
}

namespace {
// Left half red, right half blue (BGR).
cv::Mat red_blue(int h, int w) {
  cv::Mat m(h, w, CV_8UC3, cv::Scalar(255, 0, 0));      // blue
  m(cv::Rect(0, 0, w / 2, h)).setTo(cv::Scalar(0, 0, 255));  // red
  return m;
}
// Logits [R, B] of the normalised RGB window: red → class 0, blue → class 1.
torch::Tensor red_blue_logits(const torch::Tensor& x) { return torch::cat({x.slice(1, 0, 1), x.slice(1, 2, 3)}, 1); }
}  // namespace

TEST_CASE("predict_labels resizes keep-ratio, normalises RGB, and returns trainIds at the original size") {
  // 300x500 into scale (1000,600): s = 2 → 1000x600 (4x6 windows), then logits back to 300x500.
  int64_t windows = 0;
  const LogitsFn fn = [&](const torch::Tensor& x) {
    windows += x.size(0);
    return red_blue_logits(x);
  };
  const auto pred = predict_labels(fn, red_blue(300, 500), 1000, 600, SlideOptions{});
  CHECK(windows == 24);
  REQUIRE(pred.sizes() == torch::IntArrayRef({300, 500}));
  CHECK(pred.dtype() == torch::kUInt8);
  CHECK(pred.slice(1, 0, 248).eq(0).all().item<bool>());   // red side away from the edge
  CHECK(pred.slice(1, 252, 500).eq(1).all().item<bool>()); // blue side
}

TEST_CASE("predict_labels on an ACDC-sized frame runs 66 windows and returns 1080x1920") {
  int64_t windows = 0;
  const LogitsFn fn = [&](const torch::Tensor& x) {
    windows += x.size(0);
    return F::avg_pool2d(red_blue_logits(x), F::AvgPool2dFuncOptions(16));
  };
  const auto pred = predict_labels(fn, red_blue(1080, 1920), 2048, 1024, SlideOptions{});
  CHECK(windows == 66);
  REQUIRE(pred.sizes() == torch::IntArrayRef({1080, 1920}));
  CHECK(pred[500][100].item<int>() == 0);
  CHECK(pred[500][1800].item<int>() == 1);
}

TEST_CASE("evaluate_split returns evidence in split order with ids and conditions, and reports progress") {
  Split split;
  split.dataset = "acdc";
  split.records.resize(2);
  split.records[0].id = "fog/a.png";
  split.records[0].condition = "fog";
  split.records[1].id = "night/b.png";
  split.records[1].condition = "night";
  // 64x96 image (smaller than the crop: padded path, no resize at scale 96x64): left red, right blue.
  // Label: left 0, right 1; row 0 ignored; pixel (10,10) labelled 2 (predicted 0).
  const auto load = [&](size_t i) {
    LoadedSample s;
    s.image = red_blue(64, 96);
    s.label = cv::Mat(64, 96, CV_8UC1, cv::Scalar(1));
    s.label(cv::Rect(0, 0, 48, 64)).setTo(0);
    s.label.row(0).setTo(255);
    if (i == 0) s.label.at<uint8_t>(10, 10) = 2;
    return s;
  };
  std::vector<std::pair<size_t, size_t>> progress;
  EvalOptions opts;
  opts.scale_w = 96;
  opts.scale_h = 64;
  const LogitsFn fn = red_blue_logits;
  const auto ev = evaluate_split(fn, split, load, opts, [&](size_t d, size_t t) { progress.emplace_back(d, t); });
  REQUIRE(ev.size() == 2);
  CHECK(ev[0].id == "fog/a.png");
  CHECK(ev[0].dataset == "acdc");
  CHECK(ev[1].condition == "night");
  CHECK(ev[0].label_area[0] == 63 * 48 - 1);
  CHECK(ev[0].label_area[2] == 1);
  CHECK(ev[0].pred_area[0] == 63 * 48);
  CHECK(ev[0].intersect[0] == 63 * 48 - 1);
  CHECK(ev[0].intersect[1] == 63 * 48);
  CHECK(ev[0].intersect[2] == 0);
  CHECK(ev[1].intersect[0] == 63 * 48);
  CHECK(progress == std::vector<std::pair<size_t, size_t>>{{1, 2}, {2, 2}});

  const auto bad = [&](size_t) {
    LoadedSample s;
    s.image = red_blue(64, 96);
    s.label = cv::Mat(64, 90, CV_8UC1, cv::Scalar(0));
    return s;
  };
  CHECK_THROWS_AS(evaluate_split(fn, split, bad, opts), UserError);
}

TEST_CASE("Timing of predict_labels on a 1024x2048 frame with a cheap model", "[.][bench]") {
  const LogitsFn fn = [](const torch::Tensor& x) {
    return F::avg_pool2d(x, F::AvgPool2dFuncOptions(16)).repeat({1, 7, 1, 1}).slice(1, 0, 19);
  };
  cv::Mat img(1024, 2048, CV_8UC3);
  cv::randu(img, 0, 255);
  predict_labels(fn, img, 2048, 1024, SlideOptions{});  // warm-up
  const int reps = 5;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) predict_labels(fn, img, 2048, 1024, SlideOptions{});
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / reps;
  std::cout << "predict_labels 1024x2048, 72 windows, K=19, threads " << torch::get_num_threads() << ": " << ms
            << " ms/image\n";
  cv::Mat acdc(1080, 1920, CV_8UC3);
  cv::randu(acdc, 0, 255);
  const auto t1 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) predict_labels(fn, acdc, 2048, 1024, SlideOptions{});
  const double ms2 = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t1).count() / reps;
  std::cout << "predict_labels 1080x1920 (→1820x1024, 66 windows, resize back): " << ms2 << " ms/image\n";
}
