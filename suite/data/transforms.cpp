#include "suite/data/transforms.hpp"

#include <algorithm>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

namespace clcp {

cv::Size keep_ratio_size(cv::Size old_size, int scale_w, int scale_h) {
  const int w = old_size.width, h = old_size.height;
  const double max_long = std::max(scale_w, scale_h), max_short = std::min(scale_w, scale_h);
  const double s = std::min(max_long / std::max(h, w), max_short / std::min(h, w));
  return {static_cast<int>(w * s + 0.5), static_cast<int>(h * s + 0.5)};
}

cv::Mat resize_keep_ratio(const cv::Mat& bgr, int scale_w, int scale_h) {
  cv::Mat out;
  cv::resize(bgr, out, keep_ratio_size(bgr.size(), scale_w, scale_h), 0, 0, cv::INTER_LINEAR);
  return out;
}

cv::Size random_resize(cv::Mat& img, cv::Mat& lbl, int scale_w, int scale_h, double ratio_min, double ratio_max,
                       Stream& stream) {
  // numpy: random_sample() * (max - min) + min
  const double r = stream.uniform() * (ratio_max - ratio_min) + ratio_min;
  const int tw = static_cast<int>(scale_w * r), th = static_cast<int>(scale_h * r);
  const cv::Size size = keep_ratio_size(img.size(), tw, th);
  cv::Mat img_out, lbl_out;
  cv::resize(img, img_out, size, 0, 0, cv::INTER_LINEAR);
  cv::resize(lbl, lbl_out, size, 0, 0, cv::INTER_NEAREST);
  img = img_out;
  lbl = lbl_out;
  return size;
}

bool crop_box_accepted(const cv::Mat& label_crop, double cat_max_ratio, int ignore_index) {
  std::array<int64_t, 256> count{};
  for (int y = 0; y < label_crop.rows; ++y) {
    const uint8_t* p = label_crop.ptr<uint8_t>(y);
    for (int x = 0; x < label_crop.cols; ++x) ++count[p[x]];
  }
  int64_t total = 0, max_count = 0;
  int labels = 0;
  for (int v = 0; v < 256; ++v) {
    if (v == ignore_index || count[v] == 0) continue;
    ++labels;
    total += count[v];
    max_count = std::max(max_count, count[v]);
  }
  return labels > 1 && static_cast<double>(max_count) / static_cast<double>(total) < cat_max_ratio;
}

cv::Rect random_crop(cv::Mat& img, cv::Mat& lbl, int crop_h, int crop_w, double cat_max_ratio, int ignore_index,
                     Stream& stream) {
  const int H = img.rows, W = img.cols;
  const int margin_h = std::max(H - crop_h, 0), margin_w = std::max(W - crop_w, 0);
  auto draw = [&] {
    const int oh = static_cast<int>(stream.randint(0, margin_h + 1));
    const int ow = static_cast<int>(stream.randint(0, margin_w + 1));
    // numpy slicing past the end truncates.
    return cv::Rect(ow, oh, std::min(ow + crop_w, W) - ow, std::min(oh + crop_h, H) - oh);
  };
  cv::Rect box = draw();
  if (cat_max_ratio < 1.0) {
    for (int i = 0; i < 10; ++i) {
      if (crop_box_accepted(lbl(box), cat_max_ratio, ignore_index)) break;
      box = draw();
    }
  }
  img = img(box);
  lbl = lbl(box);
  return box;
}

bool random_flip(cv::Mat& img, cv::Mat& lbl, double prob, Stream& stream) {
  if (!(stream.uniform() < prob)) return false;
  cv::Mat img_out, lbl_out;
  cv::flip(img, img_out, 1);
  cv::flip(lbl, lbl_out, 1);
  img = img_out;
  lbl = lbl_out;
  return true;
}

namespace {

// numpy convert(): (x.astype(float32) * alpha + beta).clip(0, 255).astype(uint8), as a 256-entry table (the result
// depends only on the input byte). Two separate float32 operations, as numpy does them.
cv::Mat convert_lut(float alpha, float beta) {
  cv::Mat lut(1, 256, CV_8U);
  for (int v = 0; v < 256; ++v) {
    volatile float prod = static_cast<float>(v) * alpha;  // volatile: forbid fusing into an FMA
    float f = prod + beta;
    f = std::min(std::max(f, 0.0f), 255.0f);
    lut.at<uint8_t>(v) = static_cast<uint8_t>(f);
  }
  return lut;
}

cv::Mat apply_lut(const cv::Mat& img, const cv::Mat& lut) {
  cv::Mat out;
  cv::LUT(img, lut, out);
  return out;
}

void contrast(cv::Mat& img, Stream& s, const PhotometricOptions& o) {
  if (s.randint(0, 2)) img = apply_lut(img, convert_lut(static_cast<float>(s.uniform(o.contrast_lower, o.contrast_upper)), 0.0f));
}

}  // namespace

void photometric_distortion(cv::Mat& img, Stream& s, const PhotometricOptions& o) {
  // brightness
  if (s.randint(0, 2))
    img = apply_lut(img, convert_lut(1.0f, static_cast<float>(s.uniform(-o.brightness_delta, o.brightness_delta))));
  const int64_t mode = s.randint(0, 2);
  if (mode == 1) contrast(img, s, o);
  // saturation
  if (s.randint(0, 2)) {
    const float alpha = static_cast<float>(s.uniform(o.saturation_lower, o.saturation_upper));
    cv::Mat hsv;
    cv::cvtColor(img, hsv, cv::COLOR_BGR2HSV);
    const cv::Mat lut = convert_lut(alpha, 0.0f);
    for (int y = 0; y < hsv.rows; ++y) {
      auto* p = hsv.ptr<cv::Vec3b>(y);
      for (int x = 0; x < hsv.cols; ++x) p[x][1] = lut.at<uint8_t>(p[x][1]);
    }
    cv::cvtColor(hsv, img, cv::COLOR_HSV2BGR);
  }
  // hue
  if (s.randint(0, 2)) {
    const int delta = static_cast<int>(s.randint(-o.hue_delta, o.hue_delta));
    cv::Mat hsv;
    cv::cvtColor(img, hsv, cv::COLOR_BGR2HSV);
    for (int y = 0; y < hsv.rows; ++y) {
      auto* p = hsv.ptr<cv::Vec3b>(y);
      for (int x = 0; x < hsv.cols; ++x) p[x][0] = static_cast<uint8_t>(((p[x][0] + delta) % 180 + 180) % 180);
    }
    cv::cvtColor(hsv, img, cv::COLOR_HSV2BGR);
  }
  if (mode == 0) contrast(img, s, o);
}

TrainSample apply_train_pipeline(const LoadedSample& sample, const TrainPipelineOptions& o, uint64_t seed,
                                 uint64_t iteration, uint64_t sample_index) {
  TrainSample t;
  cv::Mat img = sample.image, lbl = sample.label;  // headers only; every step below writes new buffers
  {
    Stream s(seed, "resize", iteration, sample_index);
    t.resized = random_resize(img, lbl, o.scale_w, o.scale_h, o.ratio_min, o.ratio_max, s);
  }
  {
    Stream s(seed, "crop", iteration, sample_index);
    t.crop = random_crop(img, lbl, o.crop_h, o.crop_w, o.cat_max_ratio, o.ignore_index, s);
  }
  {
    Stream s(seed, "flip", iteration, sample_index);
    t.flipped = random_flip(img, lbl, o.flip_prob, s);
  }
  if (o.photometric) {
    Stream s(seed, "photometric", iteration, sample_index);
    photometric_distortion(img, s, o.photometric_options);
  }
  t.image = img.isContinuous() ? img : img.clone();
  t.label = lbl.isContinuous() ? lbl : lbl.clone();
  return t;
}

void write_normalised_padded(const cv::Mat& bgr, const cv::Mat& label, const std::array<float, 3>& mean_rgb,
                             const std::array<float, 3>& std_rgb, int64_t h, int64_t w, float* dst,
                             int64_t* dst_label) {
  CV_Assert(bgr.type() == CV_8UC3);
  if (bgr.rows > h || bgr.cols > w || (!label.empty() && (label.rows > h || label.cols > w)))
    throw std::invalid_argument("write_normalised_padded: sample larger than the pad size");
  const int64_t plane = h * w;
  std::fill(dst, dst + 3 * plane, 0.0f);
  for (int y = 0; y < bgr.rows; ++y) {
    const uint8_t* p = bgr.ptr<uint8_t>(y);
    for (int c = 0; c < 3; ++c) {  // RGB channel c comes from BGR channel 2 − c
      float* d = dst + c * plane + y * w;
      const float m = mean_rgb[c], sd = std_rgb[c];
      for (int x = 0; x < bgr.cols; ++x) d[x] = (static_cast<float>(p[3 * x + 2 - c]) - m) / sd;
    }
  }
  if (dst_label) {
    std::fill(dst_label, dst_label + plane, int64_t{255});
    for (int y = 0; y < label.rows; ++y) {
      const uint8_t* p = label.ptr<uint8_t>(y);
      for (int x = 0; x < label.cols; ++x) dst_label[y * w + x] = p[x];
    }
  }
}

torch::Tensor to_normalised_chw(const cv::Mat& bgr, const std::array<float, 3>& mean_rgb,
                                const std::array<float, 3>& std_rgb) {
  auto t = torch::empty({3, bgr.rows, bgr.cols}, torch::kFloat32);
  write_normalised_padded(bgr, cv::Mat(), mean_rgb, std_rgb, bgr.rows, bgr.cols, t.data_ptr<float>(), nullptr);
  return t;
}

torch::Tensor label_to_tensor(const cv::Mat& label) {
  CV_Assert(label.type() == CV_8UC1);
  auto t = torch::empty({label.rows, label.cols}, torch::kInt64);
  int64_t* d = t.data_ptr<int64_t>();
  for (int y = 0; y < label.rows; ++y) {
    const uint8_t* p = label.ptr<uint8_t>(y);
    for (int x = 0; x < label.cols; ++x) d[static_cast<int64_t>(y) * label.cols + x] = p[x];
  }
  return t;
}

std::pair<torch::Tensor, torch::Tensor> pad_to(const torch::Tensor& image, const torch::Tensor& label, int64_t h,
                                               int64_t w) {
  const int64_t ih = image.size(1), iw = image.size(2), lh = label.size(0), lw = label.size(1);
  if (ih > h || iw > w || lh > h || lw > w) throw std::invalid_argument("pad_to: input larger than the pad size");
  auto img = torch::zeros({3, h, w}, torch::kFloat32);
  img.narrow(1, 0, ih).narrow(2, 0, iw).copy_(image);
  auto lbl = torch::full({h, w}, 255, torch::kInt64);
  lbl.narrow(0, 0, lh).narrow(1, 0, lw).copy_(label);
  return {img, lbl};
}

}  // namespace clcp
