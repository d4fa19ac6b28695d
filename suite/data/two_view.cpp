#include "suite/data/two_view.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "suite/core/error.hpp"

namespace clcp {

namespace {

void check(const ViewOptions& o) {
  if (o.out_size < 16) fail("views: out_size {} must be >= 16 pixels", o.out_size);
  if (!(o.crop_scale[0] > 0 && o.crop_scale[0] <= o.crop_scale[1] && o.crop_scale[1] <= 1))
    fail("views: crop_scale [{}, {}] must satisfy 0 < lo <= hi <= 1", o.crop_scale[0], o.crop_scale[1]);
  if (!(o.crop_ratio[0] > 0 && o.crop_ratio[0] <= o.crop_ratio[1]))
    fail("views: crop_ratio [{}, {}] must satisfy 0 < lo <= hi", o.crop_ratio[0], o.crop_ratio[1]);
  for (const double p : {o.flip_p, o.jitter_p, o.grayscale_p, o.blur_p})
    if (p < 0 || p > 1) fail("views: probability {} must be in [0, 1]", p);
  if (o.brightness < 0 || o.contrast < 0 || o.saturation < 0 || o.hue < 0 || o.hue > 0.5)
    fail("views: jitter strengths must be >= 0 and hue <= 0.5 (torchvision)");
  if (o.blur_kernel < 1 || o.blur_kernel % 2 == 0) fail("views: blur_kernel {} must be odd and >= 1", o.blur_kernel);
  if (!(o.blur_sigma[0] > 0 && o.blur_sigma[0] <= o.blur_sigma[1]))
    fail("views: blur_sigma [{}, {}] must satisfy 0 < lo <= hi", o.blur_sigma[0], o.blur_sigma[1]);
}

// torchvision rgb_to_grayscale on uint8: (0.2989 R + 0.587 G + 0.114 B) in float32, truncated.
inline uint8_t gray_of(const uint8_t* p) {
  const float l = 0.2989f * static_cast<float>(p[0]) + 0.587f * static_cast<float>(p[1]) +
                  0.114f * static_cast<float>(p[2]);
  return static_cast<uint8_t>(l);
}

// ratio·a + (1 − ratio)·b clamped to [0, 255] and truncated, in float32 (torchvision _blend): both factors are
// Python floats (1 − ratio computed in double) that the tensor ops round to float32.
struct Blend {
  float ratio, rest;
  explicit Blend(double r) : ratio(static_cast<float>(r)), rest(static_cast<float>(1.0 - r)) {}
  uint8_t operator()(float a, float b) const {
    return static_cast<uint8_t>(std::clamp(ratio * a + rest * b, 0.0f, 255.0f));
  }
};

}  // namespace

ViewParams draw_view(int height, int width, const ViewOptions& o, Stream& s) {
  check(o);
  ViewParams v;
  const double area = static_cast<double>(height) * width;
  const double log_lo = std::log(o.crop_ratio[0]), log_hi = std::log(o.crop_ratio[1]);
  bool found = false;
  for (int attempt = 0; attempt < 10 && !found; ++attempt) {
    const double target = area * s.uniform(o.crop_scale[0], o.crop_scale[1]);
    const double aspect = std::exp(s.uniform(log_lo, log_hi));
    const int w = static_cast<int>(std::lround(std::sqrt(target * aspect)));
    const int h = static_cast<int>(std::lround(std::sqrt(target / aspect)));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      v.top = static_cast<int>(s.randint(0, height - h + 1));
      v.left = static_cast<int>(s.randint(0, width - w + 1));
      v.height = h;
      v.width = w;
      found = true;
    }
  }
  if (!found) {  // torchvision's fallback: the centre crop, aspect clamped into the ratio range
    const double in_ratio = static_cast<double>(width) / height;
    int w = width, h = height;
    if (in_ratio < o.crop_ratio[0]) h = static_cast<int>(std::lround(w / o.crop_ratio[0]));
    else if (in_ratio > o.crop_ratio[1]) w = static_cast<int>(std::lround(h * o.crop_ratio[1]));
    v.height = h;
    v.width = w;
    v.top = (height - h) / 2;
    v.left = (width - w) / 2;
  }
  v.flip = s.bernoulli(o.flip_p);
  v.jitter = s.bernoulli(o.jitter_p);
  if (v.jitter) {
    for (int j = 3; j >= 1; --j) std::swap(v.order[j], v.order[s.randint(0, j + 1)]);
    v.factors[0] = s.uniform(std::max(0.0, 1 - o.brightness), 1 + o.brightness);
    v.factors[1] = s.uniform(std::max(0.0, 1 - o.contrast), 1 + o.contrast);
    v.factors[2] = s.uniform(std::max(0.0, 1 - o.saturation), 1 + o.saturation);
    v.factors[3] = s.uniform(-o.hue, o.hue);
  }
  v.gray = s.bernoulli(o.grayscale_p);
  v.blur = s.bernoulli(o.blur_p);
  if (v.blur) v.sigma = s.uniform(o.blur_sigma[0], o.blur_sigma[1]);
  return v;
}

void tv_adjust_brightness(cv::Mat& rgb, double factor) {
  const Blend blend(factor);
  for (int y = 0; y < rgb.rows; ++y) {
    uint8_t* p = rgb.ptr<uint8_t>(y);
    for (int x = 0; x < rgb.cols * 3; ++x) p[x] = blend(static_cast<float>(p[x]), 0.0f);
  }
}

void tv_adjust_contrast(cv::Mat& rgb, double factor) {
  double sum = 0;
  for (int y = 0; y < rgb.rows; ++y) {
    const uint8_t* p = rgb.ptr<uint8_t>(y);
    for (int x = 0; x < rgb.cols; ++x) sum += gray_of(p + 3 * x);
  }
  const float mean = static_cast<float>(sum / (static_cast<double>(rgb.rows) * rgb.cols));
  const Blend blend(factor);
  for (int y = 0; y < rgb.rows; ++y) {
    uint8_t* p = rgb.ptr<uint8_t>(y);
    for (int x = 0; x < rgb.cols * 3; ++x) p[x] = blend(static_cast<float>(p[x]), mean);
  }
}

void tv_adjust_saturation(cv::Mat& rgb, double factor) {
  const Blend blend(factor);
  for (int y = 0; y < rgb.rows; ++y) {
    uint8_t* p = rgb.ptr<uint8_t>(y);
    for (int x = 0; x < rgb.cols; ++x, p += 3) {
      const float g = gray_of(p);
      for (int c = 0; c < 3; ++c) p[c] = blend(static_cast<float>(p[c]), g);
    }
  }
}

void tv_adjust_hue(cv::Mat& rgb, double factor) {
  const float hf = static_cast<float>(factor);
  for (int y = 0; y < rgb.rows; ++y) {
    uint8_t* p = rgb.ptr<uint8_t>(y);
    for (int x = 0; x < rgb.cols; ++x, p += 3) {
      // convert_image_dtype(uint8 → float32): v / 255; then torchvision _rgb2hsv, in float32
      const float r = static_cast<float>(p[0]) / 255.0f, g = static_cast<float>(p[1]) / 255.0f,
                  b = static_cast<float>(p[2]) / 255.0f;
      const float maxc = std::max({r, g, b}), minc = std::min({r, g, b});
      const bool eqc = maxc == minc;
      const float cr = maxc - minc;
      const float s = cr / (eqc ? 1.0f : maxc);
      const float div = eqc ? 1.0f : cr;
      const float rc = (maxc - r) / div, gc = (maxc - g) / div, bc = (maxc - b) / div;
      const float hr = maxc == r ? bc - gc : 0.0f;
      const float hg = (maxc == g && maxc != r) ? 2.0f + rc - bc : 0.0f;
      const float hb = (maxc != g && maxc != r) ? 4.0f + gc - rc : 0.0f;
      float h = std::fmod((hr + hg + hb) / 6.0f + 1.0f, 1.0f);
      // (h + factor) mod 1 as torch.remainder (result has the divisor's sign)
      h = h + hf;
      h = h - std::floor(h);
      const float v = maxc;
      // _hsv2rgb
      const float i_f = std::floor(h * 6.0f);
      const float f = h * 6.0f - i_f;
      const int i = ((static_cast<int>(i_f) % 6) + 6) % 6;
      const float pp = std::clamp(v * (1.0f - s), 0.0f, 1.0f);
      const float q = std::clamp(v * (1.0f - s * f), 0.0f, 1.0f);
      const float t = std::clamp(v * (1.0f - s * (1.0f - f)), 0.0f, 1.0f);
      const float R[6] = {v, q, pp, pp, t, v}, G[6] = {t, v, v, q, pp, pp}, B[6] = {pp, pp, t, v, v, q};
      // convert_image_dtype(float32 → uint8): trunc(x · (255 + 1 − 1e-3))
      constexpr float kToUint8 = static_cast<float>(255.0 + 1.0 - 1e-3);
      p[0] = static_cast<uint8_t>(R[i] * kToUint8);
      p[1] = static_cast<uint8_t>(G[i] * kToUint8);
      p[2] = static_cast<uint8_t>(B[i] * kToUint8);
    }
  }
}

void tv_grayscale(cv::Mat& rgb) {
  for (int y = 0; y < rgb.rows; ++y) {
    uint8_t* p = rgb.ptr<uint8_t>(y);
    for (int x = 0; x < rgb.cols; ++x, p += 3) p[0] = p[1] = p[2] = gray_of(p);
  }
}

void tv_gaussian_blur(cv::Mat& rgb, int kernel, double sigma) {
  cv::Mat k1(kernel, 1, CV_32F);
  const float half = static_cast<float>(kernel - 1) * 0.5f, sf = static_cast<float>(sigma);
  float sum = 0;
  for (int i = 0; i < kernel; ++i) {
    // torch.linspace(-half, half, k): start + i·step for the first half, end − (k−1−i)·step for the rest
    const float step = kernel > 1 ? (2.0f * half) / static_cast<float>(kernel - 1) : 0.0f;
    const float x = i < kernel / 2 ? -half + static_cast<float>(i) * step
                                   : half - static_cast<float>(kernel - 1 - i) * step;
    const float z = x / sf;
    k1.at<float>(i) = std::exp(-0.5f * z * z);
    sum += k1.at<float>(i);
  }
  k1 /= sum;
  cv::Mat f32, out;
  rgb.convertTo(f32, CV_32FC3);
  cv::sepFilter2D(f32, out, CV_32F, k1, k1, cv::Point(-1, -1), 0, cv::BORDER_REFLECT_101);
  out.convertTo(rgb, CV_8UC3);  // saturate_cast: round half to even, as torch.round
}

cv::Mat apply_view(const cv::Mat& rgb, const ViewParams& v, const ViewOptions& o) {
  if (rgb.type() != CV_8UC3) fail("views: expected a uint8 RGB image");
  if (v.top < 0 || v.left < 0 || v.height < 1 || v.width < 1 || v.top + v.height > rgb.rows ||
      v.left + v.width > rgb.cols)
    fail("views: crop ({}, {}, {}, {}) outside the {}x{} image", v.top, v.left, v.height, v.width, rgb.cols, rgb.rows);
  const cv::Mat crop = rgb(cv::Rect(v.left, v.top, v.width, v.height));
  cv::Mat out;
  const bool shrink = v.width > o.out_size || v.height > o.out_size;
  cv::resize(crop, out, cv::Size(o.out_size, o.out_size), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
  if (v.flip) cv::flip(out, out, 1);
  if (v.jitter)
    for (const int op : v.order) {
      if (op == 0) tv_adjust_brightness(out, v.factors[0]);
      if (op == 1) tv_adjust_contrast(out, v.factors[1]);
      if (op == 2) tv_adjust_saturation(out, v.factors[2]);
      if (op == 3) tv_adjust_hue(out, v.factors[3]);
    }
  if (v.gray) tv_grayscale(out);
  if (v.blur) tv_gaussian_blur(out, o.blur_kernel, v.sigma);
  return out;
}

}  // namespace clcp
