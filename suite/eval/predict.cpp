#include "suite/eval/predict.hpp"

#include "suite/core/error.hpp"
#include "suite/data/transforms.hpp"

namespace clcp {
namespace F = torch::nn::functional;

torch::Tensor predict_labels(const LogitsFn& logits_fn, const cv::Mat& bgr_original, int scale_w, int scale_h,
                             const SlideOptions& slide, const std::array<float, 3>& mean,
                             const std::array<float, 3>& std, const torch::Device& device) {
  if (bgr_original.empty() || bgr_original.type() != CV_8UC3)
    fail("predict: image of type {} and size {}x{}: expected 8-bit BGR with 3 channels; check the image file",
         bgr_original.type(), bgr_original.cols, bgr_original.rows);
  const int H0 = bgr_original.rows, W0 = bgr_original.cols;
  const cv::Mat resized = resize_keep_ratio(bgr_original, scale_w, scale_h);
  const auto image = to_normalised_chw(resized, mean, std).unsqueeze(0).to(device);
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
