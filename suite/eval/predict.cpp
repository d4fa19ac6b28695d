#include "suite/eval/predict.hpp"

#include <algorithm>
#include <opencv2/imgproc.hpp>

#include "suite/core/error.hpp"

namespace clcp {
namespace F = torch::nn::functional;

cv::Size keep_ratio_size(int width, int height, int scale_w, int scale_h) {
  if (width <= 0 || height <= 0 || scale_w <= 0 || scale_h <= 0)
    fail("keep-ratio resize: image {}x{} into scale {}x{}: expected positive sizes; fix the test scale", width,
         height, scale_w, scale_h);
  const double long_edge = std::max(scale_w, scale_h), short_edge = std::min(scale_w, scale_h);
  const double s = std::min(long_edge / std::max(width, height), short_edge / std::min(width, height));
  return {static_cast<int>(width * s + 0.5), static_cast<int>(height * s + 0.5)};
}

torch::Tensor predict_labels(const LogitsFn& logits_fn, const cv::Mat& bgr_original, int scale_w, int scale_h,
                             const SlideOptions& slide, const std::array<float, 3>& mean,
                             const std::array<float, 3>& std, const torch::Device& device) {
  if (bgr_original.empty() || bgr_original.type() != CV_8UC3)
    fail("predict: image of type {} and size {}x{}: expected 8-bit BGR with 3 channels; check the image file",
         bgr_original.type(), bgr_original.cols, bgr_original.rows);
  const int H0 = bgr_original.rows, W0 = bgr_original.cols;
  const cv::Size size = keep_ratio_size(W0, H0, scale_w, scale_h);
  cv::Mat resized = bgr_original;
  if (size != bgr_original.size()) cv::resize(bgr_original, resized, size, 0, 0, cv::INTER_LINEAR);
  cv::Mat rgb;
  cv::cvtColor(resized, rgb, cv::COLOR_BGR2RGB);
  cv::Mat f32;
  rgb.convertTo(f32, CV_32FC3);
  cv::subtract(f32, cv::Scalar(mean[0], mean[1], mean[2]), f32);
  cv::divide(f32, cv::Scalar(std[0], std[1], std[2]), f32);
  // HWC (borrowed from cv::Mat) → [1,3,H,W]; .to(device)/.contiguous() copies before f32 goes out of scope.
  auto image = torch::from_blob(f32.data, {1, size.height, size.width, 3}, torch::kFloat32)
                   .permute({0, 3, 1, 2})
                   .to(device)
                   .contiguous();
  torch::NoGradGuard no_grad;
  auto logits = slide_inference(logits_fn, image, slide);
  if (logits.size(2) != H0 || logits.size(3) != W0)
    logits = F::interpolate(logits, F::InterpolateFuncOptions()
                                        .size(std::vector<int64_t>{H0, W0})
                                        .mode(torch::kBilinear)
                                        .align_corners(false));
  return logits.argmax(1).squeeze(0).to(torch::kCPU, torch::kUInt8);
}

}  // namespace clcp
