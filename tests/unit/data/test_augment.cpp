// The thesis's augmentation chain (suite/data/image_augment.hpp): known answers of the uint8 arithmetic, parity with
// albumentations 1.4.14's own functions on the same parameters (tests/parity/albumentations_oracle.py in
// build/albu-venv), and the selection frequencies of the two OneOf groups and GaussianBlur's kernel sizes.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "data_test_util.hpp"
#include "python_util.hpp"
#include "suite/core/fsio.hpp"
#include "suite/data/image_augment.hpp"
#include "suite/data/npz.hpp"
#include "suite/data/synth/render.hpp"
#include "suite/data/synth/scene.hpp"
#include "suite/data/synth/weather.hpp"
#include "support/test_paths.hpp"

using namespace clcp;
namespace fs = std::filesystem;

namespace {

cv::Mat uniform_image(uint8_t v) { return cv::Mat(4, 4, CV_8UC3, cv::Scalar::all(v)); }

// A 224×224 RGB street crop from the embedded generator, plus a ramp row so that every value 0..255 occurs.
cv::Mat street_rgb() {
  const synth::Scene scene = synth::make_scene(11, "cityscapes/train", 4, synth::city_style("bremen"), 448, 224);
  Stream rng(11, "test/augment");
  const cv::Mat3b bgr = synth::apply_condition(synth::render(scene), synth::Condition::kClear, 1.0, rng);
  cv::Mat rgb;
  cv::cvtColor(bgr(cv::Rect(112, 0, 224, 224)), rgb, cv::COLOR_BGR2RGB);
  for (int x = 0; x < 224; ++x) rgb.at<cv::Vec3b>(0, x) = cv::Vec3b(uint8_t(x + 16), uint8_t(255 - x), uint8_t((x * 7) % 256));
  return rgb;
}

}  // namespace

TEST_CASE("the augmentation's uint8 arithmetic is albumentations' float32 lookup tables with truncation",
          "[data][augment]") {
  cv::Mat m = uniform_image(90);
  adjust_brightness(m, 1.3);  // float32(90)·float32(1.3) = 116.99999 in float32 → 116, as albucore's multiply_lut
  CHECK(m.at<cv::Vec3b>(0, 0)[0] == 116);
  m = uniform_image(200);
  adjust_brightness(m, 1.3);
  CHECK(m.at<cv::Vec3b>(0, 0)[1] == 255);  // clipped
  m = uniform_image(100);
  brightness_contrast(m, 0.75, -0.25);  // 100·0.75 − 63.75 = 11.25 → 11
  CHECK(m.at<cv::Vec3b>(0, 0)[2] == 11);
  m = uniform_image(40);
  brightness_contrast(m, 0.65, -0.35);  // 26 − 89.25 < 0 → 0
  CHECK(m.at<cv::Vec3b>(0, 0)[0] == 0);
  // Contrast around the gray mean: a uniform image keeps its value (mean·(1 − f) + v·f = v, up to float32).
  m = uniform_image(120);
  adjust_contrast(m, 0.8);
  CHECK(std::abs(m.at<cv::Vec3b>(0, 0)[0] - 120) <= 1);
  // Hue: H + 180·f mod 180 (numpy's mod) through a LUT; a gray image has no hue to shift.
  m = uniform_image(77);
  adjust_hue(m, 0.1);
  CHECK(m.at<cv::Vec3b>(0, 0) == cv::Vec3b(77, 77, 77));
  cv::Mat red(2, 2, CV_8UC3, cv::Scalar(200, 0, 0));  // RGB red: H = 0
  adjust_hue(red, 1.0 / 3.0);                         // + 60 → green
  CHECK(red.at<cv::Vec3b>(0, 0) == cv::Vec3b(0, 200, 0));
  // Factor 1 (and hue 0) leave the image untouched; ToGray gives R = G = B.
  cv::Mat img = street_rgb(), copy = img.clone();
  color_jitter(img, {1.0, 1.0, 1.0, 0.0}, {3, 2, 1, 0});
  CHECK(cv::norm(img, copy, cv::NORM_INF) == 0);
  to_gray(img);
  std::vector<cv::Mat> ch;
  cv::split(img, ch);
  CHECK(cv::norm(ch[0], ch[1], cv::NORM_INF) == 0);
  // GaussNoise: v + trunc(float32(noise)), clipped.
  cv::Mat n = uniform_image(10);
  std::vector<double> noise(48, -2.9999999999);  // float32 rounds it to −3 before the truncation
  noise[1] = 0.99;
  noise[2] = -20;
  gauss_noise(n, noise);
  CHECK(n.at<cv::Vec3b>(0, 0) == cv::Vec3b(7, 10, 0));
}

TEST_CASE("each augmentation gives albumentations 1.4.14's bytes on the same image and parameters",
          "[data][augment][parity]") {
  const std::string python = clcp::test::albu_python();
  if (!fs::exists(python)) {
    WARN("skipped: no albumentations oracle at " << python
                                                   << " (ci/setup.sh installs ci/albumentations-requirements.txt there)");
    return;
  }
  clcp::test::TempDir tmp;
  const fs::path dir = tmp.path();
  const cv::Mat rgb = street_rgb();
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  REQUIRE(cv::imwrite((dir / "input.png").string(), bgr));
  // Parameters as the chain draws them, from fixed streams; the random arrays go to the oracle as an npz.
  Stream s(2024, "test/augment-parity");
  nlohmann::json cases = nlohmann::json::array();
  std::vector<NpzMember> arrays;
  for (double f : {0.7, 0.93, 1.3}) cases.push_back({{"op", "brightness"}, {"factor", f}});
  for (double f : {0.7, 1.11, 1.3}) cases.push_back({{"op", "contrast"}, {"factor", f}});
  for (double f : {0.7, 1.2, 1.3}) cases.push_back({{"op", "saturation"}, {"factor", f}});
  for (double f : {-0.1, -0.037, 0.05, 0.1}) cases.push_back({{"op", "hue"}, {"factor", f}});
  for (int i = 0; i < 4; ++i) {
    std::array<int, 4> order{0, 1, 2, 3};
    for (int j = 3; j >= 1; --j) std::swap(order[j], order[static_cast<size_t>(s.randint(0, j + 1))]);
    cases.push_back({{"op", "jitter"},
                     {"factors", {s.uniform(0.7, 1.3), s.uniform(0.7, 1.3), s.uniform(0.7, 1.3), s.uniform(-0.1, 0.1)}},
                     {"order", order}});
  }
  for (int i = 0; i < 3; ++i)
    cases.push_back({{"op", "brightness_contrast"}, {"alpha", 1.0 + s.uniform(-0.35, -0.2)}, {"beta", s.uniform(-0.35, -0.2)}});
  cases.push_back({{"op", "gray"}});
  for (int k : {3, 5, 7, 9}) cases.push_back({{"op", "gaussian_blur"}, {"ksize", k}});
  for (int i = 0; i < 2; ++i) {
    torch::Tensor dxy = torch::empty({222 * 222 * 2 * 2}, torch::kInt32);
    for (int64_t j = 0; j < dxy.numel(); ++j) dxy.data_ptr<int32_t>()[j] = static_cast<int32_t>(s.randint(-1, 1));
    arrays.push_back({"glass" + std::to_string(i), npy_from_tensor(dxy)});
    cases.push_back({{"op", "glass_blur"}, {"array", "glass" + std::to_string(i)}});
  }
  for (int i = 0; i < 2; ++i) {
    const double sigma = std::sqrt(s.uniform(10.0, 500.0));
    torch::Tensor g = torch::empty({224 * 224 * 3}, torch::kFloat64);
    for (int64_t j = 0; j < g.numel(); ++j) g.data_ptr<double>()[j] = sigma * s.normal();
    arrays.push_back({"noise" + std::to_string(i), npy_from_tensor(g)});
    cases.push_back({{"op", "gauss_noise"}, {"array", "noise" + std::to_string(i)}});
  }
  write_json_atomic(dir / "cases.json", cases);
  write_npz(dir / "arrays.npz", arrays);
  const int rc = clcp::test::run_snippet(
      python, dir, read_file(fs::path(CLCP_SOURCE_DIR) / "tests/parity/albumentations_oracle.py"));
  const std::string log = clcp::test::snippet_log(dir);
  if (rc == 3) {
    WARN("skipped: albumentations does not import: " << log);
    return;
  }
  INFO(log);
  REQUIRE(rc == 0);
  auto array_of = [&](const std::string& key) -> const NpyArray& {
    for (const auto& a : arrays)
      if (a.key == key) return a.array;
    throw std::runtime_error("no array " + key);
  };
  int identical = 0;
  double worst = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const nlohmann::json& c = cases[i];
    const std::string op = c["op"];
    cv::Mat x = rgb.clone();
    if (op == "brightness") adjust_brightness(x, c["factor"]);
    else if (op == "contrast") adjust_contrast(x, c["factor"]);
    else if (op == "saturation") adjust_saturation(x, c["factor"]);
    else if (op == "hue") adjust_hue(x, c["factor"]);
    else if (op == "jitter") color_jitter(x, c["factors"].get<std::array<double, 4>>(), c["order"].get<std::array<int, 4>>());
    else if (op == "brightness_contrast") brightness_contrast(x, c["alpha"], c["beta"]);
    else if (op == "gray") to_gray(x);
    else if (op == "gaussian_blur") gaussian_blur(x, c["ksize"]);
    else if (op == "glass_blur") {
      const torch::Tensor t = array_of(c["array"]).to_tensor();
      glass_blur(x, 0.7, 1, 2, std::vector<int32_t>(t.data_ptr<int32_t>(), t.data_ptr<int32_t>() + t.numel()));
    } else {
      gauss_noise(x, array_of(c["array"]).to_doubles());
    }
    cv::Mat py_bgr = cv::imread((dir / ("out_" + std::to_string(i) + ".png")).string(), cv::IMREAD_COLOR), py;
    REQUIRE(!py_bgr.empty());
    cv::cvtColor(py_bgr, py, cv::COLOR_BGR2RGB);
    const double d = cv::norm(x, py, cv::NORM_INF);
    INFO("case " << i << ": " << c.dump());
    CHECK(d == 0);
    identical += d == 0;
    worst = std::max(worst, d);
  }
  WARN("albumentations parity (" << log.substr(0, log.find('\n')) << "): " << identical << " of " << cases.size()
                                 << " cases byte-identical, max |diff| " << worst);
}

TEST_CASE("the OneOf selections and GaussianBlur's kernel sizes follow albumentations' weights (chi-square, alpha 0.001)",
          "[data][augment]") {
  // Outcome cells: not applied (0.1); applied with colour op c (weights 0.7, 0.2, 0.1) and second op none (0.5) or
  // one of three (0.5/3 each). 13 cells, 12 degrees of freedom: chi-square < 32.91 at alpha = 0.001.
  const int n = 20000;
  std::array<double, 13> count{};
  std::array<double, 10> ksize{};
  for (int i = 0; i < n; ++i) {
    cv::Mat m(6, 6, CV_8UC3, cv::Scalar(90, 120, 150));
    Stream s(3, "test/augment-frequency", static_cast<uint64_t>(i));
    const AugmentChoice c = augment_image(m, s);
    if (!c.applied) {
      ++count[0];
      continue;
    }
    const int col = static_cast<int>(c.colour) - 1, sec = static_cast<int>(c.blur_noise);
    ++count[static_cast<size_t>(1 + col * 4 + sec)];
    if (c.blur_noise == BlurNoiseOp::kGaussianBlur) ++ksize[static_cast<size_t>(c.ksize)];
  }
  std::array<double, 13> p{};
  p[0] = 0.1;
  const double w[3] = {0.7, 0.2, 0.1};
  for (int col = 0; col < 3; ++col) {
    p[static_cast<size_t>(1 + col * 4)] = 0.9 * w[col] * 0.5;
    for (int sec = 1; sec <= 3; ++sec) p[static_cast<size_t>(1 + col * 4 + sec)] = 0.9 * w[col] * 0.5 / 3;
  }
  double chi2 = 0;
  for (size_t k = 0; k < 13; ++k) chi2 += (count[k] - n * p[k]) * (count[k] - n * p[k]) / (n * p[k]);
  WARN("augment selection chi-square " << chi2 << " (12 d.f., critical 32.91 at alpha 0.001) over " << n << " draws");
  CHECK(chi2 < 32.91);
  // Kernel sizes: randrange(3, 10) with even values moved up → P(3) = 1/7, P(5) = P(7) = P(9) = 2/7 (3 d.f.: < 16.27).
  double blurs = ksize[3] + ksize[5] + ksize[7] + ksize[9], chi2k = 0;
  CHECK(blurs == ksize[0] + ksize[1] + ksize[2] + ksize[3] + ksize[4] + ksize[5] + ksize[6] + ksize[7] + ksize[8] + ksize[9]);
  for (int k : {3, 5, 7, 9}) {
    const double e = blurs * (k == 3 ? 1.0 / 7 : 2.0 / 7);
    chi2k += (ksize[static_cast<size_t>(k)] - e) * (ksize[static_cast<size_t>(k)] - e) / e;
  }
  WARN("GaussianBlur kernel-size chi-square " << chi2k << " (3 d.f., critical 16.27) over " << blurs << " blurs");
  CHECK(chi2k < 16.27);
}
