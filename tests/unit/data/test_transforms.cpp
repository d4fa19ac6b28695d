#include <catch2/catch.hpp>

#include <opencv2/imgproc.hpp>

#include "suite/core/rng.hpp"
#include "suite/data/transforms.hpp"

using namespace clcp;

namespace {
bool tf_same_mat(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}
}  // namespace

TEST_CASE("keep-ratio resize leaves Cityscapes unchanged and maps ACDC 1920x1080 to 1820x1024", "[data][transforms]") {
  CHECK(keep_ratio_size({2048, 1024}, 2048, 1024) == cv::Size(2048, 1024));
  CHECK(keep_ratio_size({1920, 1080}, 2048, 1024) == cv::Size(1820, 1024));  // s = 1024/1080, 1920·s = 1820.4
  CHECK(keep_ratio_size({1920, 1080}, 1920, 1080) == cv::Size(1920, 1080));
  CHECK(keep_ratio_size({100, 50}, 1024, 512) == cv::Size(1024, 512));
  CHECK(keep_ratio_size({50, 100}, 2048, 1024) == cv::Size(1024, 2048));  // portrait: long side → 2048

  cv::Mat cs(1024, 2048, CV_8UC3);
  cv::randu(cs, 0, 256);
  CHECK(tf_same_mat(resize_keep_ratio(cs, 2048, 1024), cs));
  cv::Mat acdc(1080, 1920, CV_8UC3, cv::Scalar(1, 2, 3));
  const cv::Mat r = resize_keep_ratio(acdc, 2048, 1024);
  CHECK(r.size() == cv::Size(1820, 1024));
  CHECK(r.at<cv::Vec3b>(500, 900) == cv::Vec3b(1, 2, 3));
}

TEST_CASE("random_resize draws one ratio and rescales image bilinearly and label by nearest", "[data][transforms]") {
  cv::Mat img(1024, 2048, CV_8UC3, cv::Scalar(9, 9, 9));
  cv::Mat lbl(1024, 2048, CV_8U, cv::Scalar(4));
  lbl(cv::Rect(0, 0, 1024, 1024)).setTo(17);
  {
    Stream s(1, "resize");
    cv::Mat i = img, l = lbl;
    // ratio range [0.5, 0.5]: r = 0.5, target (1024, 512)
    CHECK(random_resize(i, l, 2048, 1024, 0.5, 0.5, s) == cv::Size(1024, 512));
    CHECK(i.size() == cv::Size(1024, 512));
    CHECK(l.at<uint8_t>(10, 100) == 17);
    CHECK(l.at<uint8_t>(10, 600) == 4);
    cv::Mat nonlabel = (l != 4) & (l != 17);
    CHECK(cv::countNonZero(nonlabel) == 0);  // nearest: no new values
  }
  {
    Stream s(42, "resize", 3, 1), manual(42, "resize", 3, 1);
    const double r = manual.uniform() * 1.5 + 0.5;
    const int tw = int(2048 * r), th = int(1024 * r);
    const double scale = std::min(double(tw) / 2048, double(th) / 1024);
    const cv::Size want(int(2048 * scale + 0.5), int(1024 * scale + 0.5));
    cv::Mat i = img, l = lbl;
    CHECK(random_resize(i, l, 2048, 1024, 0.5, 2.0, s) == want);
    CHECK(i.size() == want);
    CHECK(l.size() == want);
    CHECK(s.next_u64() == manual.next_u64());  // exactly one draw
  }
}

TEST_CASE("crop acceptance needs two labels and a largest share below cat_max_ratio", "[data][transforms]") {
  cv::Mat l(10, 10, CV_8U, cv::Scalar(3));
  l(cv::Rect(0, 0, 10, 1)).setTo(5);  // 90 % class 3
  CHECK_FALSE(crop_box_accepted(l, 0.75, 255));
  l(cv::Rect(0, 0, 10, 3)).setTo(5);  // 70 / 30
  CHECK(crop_box_accepted(l, 0.75, 255));
  l(cv::Rect(0, 0, 10, 3)).setTo(255);  // 70 class 3 + ignore: one label
  CHECK_FALSE(crop_box_accepted(l, 0.75, 255));
  l(cv::Rect(0, 0, 10, 1)).setTo(1);  // 10 / 70 (+20 ignored): 70/80 = 0.875
  CHECK_FALSE(crop_box_accepted(l, 0.75, 255));
  l(cv::Rect(0, 3, 10, 2)).setTo(1);  // 30 / 50: 50/80 = 0.625
  CHECK(crop_box_accepted(l, 0.75, 255));
  cv::Mat b(4, 4, CV_8U, cv::Scalar(0));
  b(cv::Rect(0, 0, 4, 1)).setTo(1);  // 12/16 = 0.75 exactly: not < 0.75
  CHECK_FALSE(crop_box_accepted(b, 0.75, 255));
  CHECK_FALSE(crop_box_accepted(cv::Mat(4, 4, CV_8U, cv::Scalar(255)), 0.75, 255));
}

TEST_CASE("random_crop re-draws rejected boxes as mmseg RandomCrop does", "[data][transforms]") {
  // 20×200 label: x < 100 all class 0; x ≥ 100 alternating columns of classes 1 and 2. A 20×20 box at offset ow
  // holds 100−ow columns of class 0 when ow < 100, so it is accepted iff (100−ow)/20 < 0.75, i.e. ow ≥ 86.
  cv::Mat lbl(20, 200, CV_8U, cv::Scalar(0));
  for (int x = 100; x < 200; ++x) lbl.col(x).setTo(x % 2 ? 1 : 2);
  cv::Mat img(20, 200, CV_8UC3);
  for (int x = 0; x < 200; ++x) img.col(x).setTo(cv::Scalar(x, 0, 0));

  // Find a seed whose first box is rejected and a later one (≤ 10th re-draw) accepted.
  bool found = false;
  for (uint64_t seed = 0; seed < 200 && !found; ++seed) {
    Stream manual(seed, "crop");
    std::vector<int> ows;
    for (int i = 0; i < 11; ++i) {
      CHECK(manual.randint(0, 1) == 0);  // offset_h: margin 0
      ows.push_back(int(manual.randint(0, 181)));
    }
    int accepted = -1;
    for (int i = 0; i < 11; ++i)
      if (ows[i] >= 86 || i == 10) { accepted = i; break; }
    if (accepted < 2 || ows[accepted] < 86) continue;
    found = true;
    Stream s(seed, "crop");
    cv::Mat i = img, l = lbl;
    const cv::Rect box = random_crop(i, l, 20, 20, 0.75, 255, s);
    CHECK(box == cv::Rect(ows[accepted], 0, 20, 20));
    CHECK(i.at<cv::Vec3b>(0, 0)[0] == ows[accepted]);
    CHECK(l.size() == cv::Size(20, 20));
    // The stream consumed exactly the draws up to the accepted box.
    Stream replay(seed, "crop");
    for (int k = 0; k <= accepted; ++k) { replay.randint(0, 1); replay.randint(0, 181); }
    CHECK(s.next_u64() == replay.next_u64());
  }
  CHECK(found);

  // A single-class label rejects every box: the 11th draw is used unchecked.
  cv::Mat flat(20, 200, CV_8U, cv::Scalar(7));
  Stream manual(5, "crop", 1, 2), s(5, "crop", 1, 2);
  int ow = 0;
  for (int k = 0; k < 11; ++k) { manual.randint(0, 1); ow = int(manual.randint(0, 181)); }
  cv::Mat i = img, l = flat;
  CHECK(random_crop(i, l, 20, 20, 0.75, 255, s) == cv::Rect(ow, 0, 20, 20));
  CHECK(s.next_u64() == manual.next_u64());

  // cat_max_ratio ≥ 1: one draw, no check.
  Stream one(5, "crop", 1, 2), one_manual(5, "crop", 1, 2);
  one_manual.randint(0, 1);
  const int ow1 = int(one_manual.randint(0, 181));
  i = img;
  l = flat;
  CHECK(random_crop(i, l, 20, 20, 1.0, 255, one) == cv::Rect(ow1, 0, 20, 20));

  // An image smaller than the crop gives a truncated crop at offset 0.
  cv::Mat small_img(10, 30, CV_8UC3, cv::Scalar::all(1)), small_lbl(10, 30, CV_8U, cv::Scalar(1));
  Stream t(9, "crop");
  const cv::Rect tb = random_crop(small_img, small_lbl, 20, 20, 1.0, 255, t);
  CHECK(tb.y == 0);
  CHECK(tb.height == 10);
  CHECK(tb.width == std::min(20, 30 - tb.x));
}

TEST_CASE("random_flip flips image and label together when the draw is below prob", "[data][transforms]") {
  cv::Mat img = (cv::Mat_<cv::Vec3b>(1, 3) << cv::Vec3b(1, 1, 1), cv::Vec3b(2, 2, 2), cv::Vec3b(3, 3, 3));
  cv::Mat lbl = (cv::Mat_<uint8_t>(1, 3) << 1, 2, 3);
  int flips = 0;
  for (uint64_t k = 0; k < 50; ++k) {
    Stream s(3, "flip", 0, k), manual(3, "flip", 0, k);
    const bool want = manual.uniform() < 0.5;
    cv::Mat i = img, l = lbl;
    CHECK(random_flip(i, l, 0.5, s) == want);
    CHECK(l.at<uint8_t>(0, 0) == (want ? 3 : 1));
    CHECK(i.at<cv::Vec3b>(0, 0)[0] == (want ? 3 : 1));
    flips += want;
  }
  CHECK(flips > 10);
  CHECK(flips < 40);
}

namespace {
// The photometric draws of mmseg's order for one stream, replayed by hand.
struct Draws {
  bool brightness = false, contrast = false, saturation = false, hue = false;
  double beta = 0, alpha = 1, sat = 1;
  int mode = 0, hue_delta = 0;
};
Draws replay(uint64_t seed, uint64_t sample) {
  Stream s(seed, "photometric", 0, sample);
  Draws d;
  if ((d.brightness = s.randint(0, 2))) d.beta = s.uniform(-32, 32);
  d.mode = int(s.randint(0, 2));
  auto contrast = [&] { if ((d.contrast = s.randint(0, 2))) d.alpha = s.uniform(0.5, 1.5); };
  if (d.mode == 1) contrast();
  if ((d.saturation = s.randint(0, 2))) d.sat = s.uniform(0.5, 1.5);
  if ((d.hue = s.randint(0, 2))) d.hue_delta = int(s.randint(-18, 18));
  if (d.mode == 0) contrast();
  return d;
}
}  // namespace

TEST_CASE("photometric distortion applies the drawn brightness and contrast with numpy's truncation",
          "[data][transforms]") {
  const cv::Mat gray(8, 8, CV_8UC3, cv::Scalar::all(100));
  bool seen_brightness = false, seen_contrast = false, seen_none = false, seen_hue = false;
  for (uint64_t k = 0; k < 400; ++k) {
    const Draws d = replay(11, k);
    Stream s(11, "photometric", 0, k);
    cv::Mat img = gray;
    photometric_distortion(img, s);
    if (d.brightness && !d.contrast && !d.saturation && !d.hue) {
      // (100 + β) clipped and truncated toward zero, e.g. β = −12.7 → 87.
      const int want = int(100.0f + float(d.beta));
      CHECK(img.at<cv::Vec3b>(3, 3) == cv::Vec3b(want, want, want));
      CHECK(tf_same_mat(img, cv::Mat(8, 8, CV_8UC3, cv::Scalar::all(want))));
      seen_brightness = true;
    } else if (!d.brightness && d.contrast && !d.saturation && !d.hue) {
      const int want = int(std::min(100.0f * float(d.alpha), 255.0f));
      CHECK(img.at<cv::Vec3b>(0, 0) == cv::Vec3b(want, want, want));
      seen_contrast = true;
    } else if (!d.brightness && !d.contrast && !d.saturation && !d.hue) {
      CHECK(tf_same_mat(img, gray));
      seen_none = true;
    }
  }
  CHECK(seen_brightness);
  CHECK(seen_contrast);
  CHECK(seen_none);

  // Hue on a saturated colour: pure red (H 0) shifted by the drawn delta mod 180 (OpenCV 8-bit HSV).
  const cv::Mat red(2, 2, CV_8UC3, cv::Scalar(0, 0, 255));
  for (uint64_t k = 0; k < 400 && !seen_hue; ++k) {
    const Draws d = replay(12, k);
    if (d.brightness || d.contrast || d.saturation || !d.hue || d.hue_delta >= 0) continue;
    Stream s(12, "photometric", 0, k);
    cv::Mat img = red;
    photometric_distortion(img, s);
    cv::Mat hsv;
    cv::cvtColor(img, hsv, cv::COLOR_BGR2HSV);
    CHECK(int(hsv.at<cv::Vec3b>(0, 0)[0]) == 180 + d.hue_delta);  // negative delta wraps: −5 → 175
    seen_hue = true;
  }
  CHECK(seen_hue);
}

TEST_CASE("normalisation gives RGB CHW float32 and padding fills 0 and 255", "[data][transforms]") {
  cv::Mat bgr(1, 2, CV_8UC3, cv::Scalar(10, 20, 30));
  const std::array<float, 3> mean{123.675f, 116.28f, 103.53f}, stdv{58.395f, 57.12f, 57.375f};
  const torch::Tensor t = to_normalised_chw(bgr, mean, stdv);
  REQUIRE(t.sizes() == torch::IntArrayRef({3, 1, 2}));
  CHECK(t.dtype() == torch::kFloat32);
  CHECK(t[0][0][1].item<float>() == (30.0f - 123.675f) / 58.395f);  // R first
  CHECK(t[2][0][0].item<float>() == (10.0f - 103.53f) / 57.375f);   // B last
  cv::Mat lbl = (cv::Mat_<uint8_t>(1, 2) << 4, 255);
  const auto [img, l] = pad_to(t, label_to_tensor(lbl), 3, 4);
  CHECK(img.sizes() == torch::IntArrayRef({3, 3, 4}));
  CHECK(l.dtype() == torch::kInt64);
  CHECK(img[1][2][3].item<float>() == 0.0f);
  CHECK(img[1][0][1].item<float>() == t[1][0][1].item<float>());
  CHECK(l[0][0].item<int64_t>() == 4);
  CHECK(l[0][2].item<int64_t>() == 255);
  CHECK(l[2][0].item<int64_t>() == 255);
  CHECK_THROWS_AS(pad_to(t, label_to_tensor(lbl), 1, 1), std::invalid_argument);
}

TEST_CASE("the train pipeline is a pure function of seed, iteration and sample index", "[data][transforms]") {
  LoadedSample s;
  s.image = cv::Mat(100, 200, CV_8UC3);
  cv::randu(s.image, 0, 256);
  s.label = cv::Mat(100, 200, CV_8U);
  cv::randu(s.label, 0, 19);
  const cv::Mat before = s.image.clone();
  TrainPipelineOptions o;
  o.scale_w = 200;
  o.scale_h = 100;
  o.crop_h = o.crop_w = 64;
  const TrainSample a = apply_train_pipeline(s, o, 1, 2, 3), b = apply_train_pipeline(s, o, 1, 2, 3);
  CHECK(tf_same_mat(a.image, b.image));
  CHECK(tf_same_mat(a.label, b.label));
  CHECK(a.crop == b.crop);
  CHECK(a.image.size() == cv::Size(64, 64));
  CHECK(tf_same_mat(s.image, before));  // input untouched
  const TrainSample c = apply_train_pipeline(s, o, 1, 2, 4);
  CHECK_FALSE((tf_same_mat(c.image, a.image) && c.crop == a.crop));
  // The resize step alone with the same key gives the recorded size.
  Stream rs(1, "resize", 2, 3);
  cv::Mat i = s.image, l = s.label;
  CHECK(random_resize(i, l, 200, 100, 0.5, 2.0, rs) == a.resized);
}
