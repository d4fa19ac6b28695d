#include "suite/data/image_augment.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

namespace clcp {

namespace {

// cv::LUT with a table built as albucore builds it: float32 arithmetic, clip to [0, 255], truncation to uint8.
void lut_f32(cv::Mat& rgb, float factor, float offset) {
  cv::Mat lut(1, 256, CV_8U);
  for (int v = 0; v < 256; ++v) {
    float t = static_cast<float>(v) * factor;
    t = t + offset;
    t = std::clamp(t, 0.0f, 255.0f);
    lut.at<uint8_t>(v) = static_cast<uint8_t>(t);
  }
  cv::Mat out;
  cv::LUT(rgb, lut, out);
  rgb = out;
}

cv::Mat gray_of(const cv::Mat& rgb) {
  cv::Mat g;
  cv::cvtColor(rgb, g, cv::COLOR_RGB2GRAY);
  return g;
}

// numpy's float remainder (npy_divmod): the result has the sign of the divisor.
double np_mod(double a, double b) {
  double m = std::fmod(a, b);
  if (m != 0.0) {
    if ((b < 0) != (m < 0)) m += b;
  } else {
    m = std::copysign(0.0, b);
  }
  return m;
}

}  // namespace

void adjust_brightness(cv::Mat& rgb, double factor) {
  if (factor == 0) { rgb = cv::Mat::zeros(rgb.size(), rgb.type()); return; }
  if (factor == 1) return;
  lut_f32(rgb, static_cast<float>(factor), 0.0f);
}

void adjust_contrast(cv::Mat& rgb, double factor) {
  if (factor == 1) return;
  // numpy's mean of a uint8 array: exact integer sum in float64, one division.
  const cv::Mat g = gray_of(rgb);
  double sum = 0;
  for (int y = 0; y < g.rows; ++y) {
    const uint8_t* p = g.ptr<uint8_t>(y);
    for (int x = 0; x < g.cols; ++x) sum += p[x];
  }
  const double mean = sum / static_cast<double>(g.total());
  if (factor == 0) {
    rgb = cv::Mat(rgb.size(), rgb.type(), cv::Scalar::all(static_cast<int>(mean + 0.5)));
    return;
  }
  lut_f32(rgb, static_cast<float>(factor), static_cast<float>(mean * (1 - factor)));
}

void adjust_saturation(cv::Mat& rgb, double factor) {
  if (factor == 1) return;
  cv::Mat gray3;
  cv::cvtColor(gray_of(rgb), gray3, cv::COLOR_GRAY2RGB);
  if (factor == 0) { rgb = gray3; return; }
  cv::Mat out;
  cv::addWeighted(rgb, factor, gray3, 1 - factor, 0.0, out);
  rgb = out;
}

void adjust_hue(cv::Mat& rgb, double factor) {
  if (factor == 0) return;
  cv::Mat hsv;
  cv::cvtColor(rgb, hsv, cv::COLOR_RGB2HSV);
  cv::Mat lut(1, 256, CV_8U);
  for (int i = 0; i < 256; ++i) lut.at<uint8_t>(i) = static_cast<uint8_t>(np_mod(i + 180 * factor, 180));
  std::vector<cv::Mat> ch;
  cv::split(hsv, ch);
  cv::Mat h;
  cv::LUT(ch[0], lut, h);
  ch[0] = h;
  cv::merge(ch, hsv);
  cv::cvtColor(hsv, rgb, cv::COLOR_HSV2RGB);
}

void color_jitter(cv::Mat& rgb, const std::array<double, 4>& f, const std::array<int, 4>& order) {
  for (int i : order) {
    switch (i) {
      case 0: adjust_brightness(rgb, f[0]); break;
      case 1: adjust_contrast(rgb, f[1]); break;
      case 2: adjust_saturation(rgb, f[2]); break;
      default: adjust_hue(rgb, f[3]); break;
    }
  }
}

void brightness_contrast(cv::Mat& rgb, double alpha, double beta) {
  lut_f32(rgb, static_cast<float>(alpha), static_cast<float>(beta * 255.0));
}

void to_gray(cv::Mat& rgb) {
  cv::Mat out;
  cv::cvtColor(gray_of(rgb), out, cv::COLOR_GRAY2RGB);
  rgb = out;
}

void gaussian_blur(cv::Mat& rgb, int ksize) {
  cv::Mat out;
  cv::GaussianBlur(rgb, out, cv::Size(ksize, ksize), 0.0);
  rgb = out;
}

void glass_blur(cv::Mat& rgb, double sigma, int md, int iterations, const std::vector<int32_t>& dxy) {
  const int H = rgb.rows, W = rgb.cols;
  const int nh = H - 2 * md, nw = W - 2 * md;
  const size_t total = static_cast<size_t>(std::max(nh, 0)) * static_cast<size_t>(std::max(nw, 0));
  if (dxy.size() != total * static_cast<size_t>(iterations) * 2)
    throw std::invalid_argument("glass_blur: dxy must hold (H-2d)(W-2d)·iterations·2 offsets");
  cv::Mat x;
  cv::GaussianBlur(rgb, x, cv::Size(0, 0), sigma);
  std::vector<cv::Vec3b> a(total), b(total);
  for (int it = 0; it < iterations; ++it) {
    // Gather both sides first (numpy evaluates the right-hand tuple before assigning).
    for (size_t k = 0; k < total; ++k) {
      const int w = W - md - static_cast<int>(k / static_cast<size_t>(nh));
      const int h = H - md - static_cast<int>(k % static_cast<size_t>(nh));
      const int dy = dxy[(k * iterations + it) * 2], dx = dxy[(k * iterations + it) * 2 + 1];
      a[k] = x.at<cv::Vec3b>(h + dy, w + dx);
      b[k] = x.at<cv::Vec3b>(h, w);
    }
    for (size_t k = 0; k < total; ++k) {
      const int w = W - md - static_cast<int>(k / static_cast<size_t>(nh));
      const int h = H - md - static_cast<int>(k % static_cast<size_t>(nh));
      x.at<cv::Vec3b>(h, w) = a[k];
    }
    for (size_t k = 0; k < total; ++k) {
      const int w = W - md - static_cast<int>(k / static_cast<size_t>(nh));
      const int h = H - md - static_cast<int>(k % static_cast<size_t>(nh));
      const int dy = dxy[(k * iterations + it) * 2], dx = dxy[(k * iterations + it) * 2 + 1];
      x.at<cv::Vec3b>(h + dy, w + dx) = b[k];
    }
  }
  cv::GaussianBlur(x, rgb, cv::Size(0, 0), sigma);
}

void gauss_noise(cv::Mat& rgb, const std::vector<double>& noise) {
  if (noise.size() != rgb.total() * 3) throw std::invalid_argument("gauss_noise: noise must hold H·W·3 values");
  cv::Mat out(rgb.size(), CV_8UC3);
  size_t i = 0;
  for (int y = 0; y < rgb.rows; ++y) {
    const uint8_t* p = rgb.ptr<uint8_t>(y);
    uint8_t* o = out.ptr<uint8_t>(y);
    for (int x = 0; x < rgb.cols * 3; ++x, ++i) {
      const float n = std::trunc(static_cast<float>(noise[i]));
      o[x] = static_cast<uint8_t>(std::clamp(static_cast<float>(p[x]) + n, 0.0f, 255.0f));
    }
  }
  rgb = out;
}

AugmentChoice augment_image(cv::Mat& rgb, Stream& s) {
  AugmentChoice c;
  if (!(s.uniform() < 0.9)) return c;
  c.applied = true;
  const double u = s.uniform();
  if (u < 0.7) {
    c.colour = ColourOp::kColorJitter;
    c.jitter = {s.uniform(0.7, 1.3), s.uniform(0.7, 1.3), s.uniform(0.7, 1.3), s.uniform(-0.1, 0.1)};
    std::array<int, 4> order{0, 1, 2, 3};
    for (int j = 3; j >= 1; --j) std::swap(order[j], order[static_cast<size_t>(s.randint(0, j + 1))]);
    c.jitter_order = order;
    color_jitter(rgb, c.jitter, c.jitter_order);
  } else if (u < 0.9) {
    c.colour = ColourOp::kBrightnessContrast;
    c.alpha = 1.0 + s.uniform(-0.35, -0.2);
    c.beta = s.uniform(-0.35, -0.2);
    brightness_contrast(rgb, c.alpha, c.beta);
  } else {
    c.colour = ColourOp::kToGray;
    to_gray(rgb);
  }
  if (!(s.uniform() < 0.5)) return c;
  const double v = s.uniform();
  if (v < 1.0 / 3.0) {
    c.blur_noise = BlurNoiseOp::kGaussianBlur;
    int k = static_cast<int>(s.randint(3, 10));
    if (k % 2 == 0) k = (k + 1) % 10;
    c.ksize = k;
    gaussian_blur(rgb, k);
  } else if (v < 2.0 / 3.0) {
    c.blur_noise = BlurNoiseOp::kGlassBlur;
    const size_t n = static_cast<size_t>(rgb.rows - 2) * static_cast<size_t>(rgb.cols - 2) * 2 * 2;
    std::vector<int32_t> dxy(n);
    for (auto& d : dxy) d = static_cast<int32_t>(s.randint(-1, 1));
    glass_blur(rgb, 0.7, 1, 2, dxy);
  } else {
    c.blur_noise = BlurNoiseOp::kGaussNoise;
    c.noise_sigma = std::sqrt(s.uniform(10.0, 500.0));
    std::vector<double> noise(rgb.total() * 3);
    for (auto& z : noise) z = c.noise_sigma * s.normal();
    gauss_noise(rgb, noise);
  }
  return c;
}

}  // namespace clcp
