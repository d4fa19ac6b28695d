#include "suite/train/loss.hpp"

#include "suite/core/error.hpp"

namespace clcp {
namespace F = torch::nn::functional;

namespace {
void check_inputs(const torch::Tensor& logits, const torch::Tensor& labels) {
  if (logits.dim() != 4) fail("logits: expected [B,K,h,w], got {} dims; the head must return a 4-D tensor", logits.dim());
  if (labels.dim() != 3 || labels.scalar_type() != torch::kInt64)
    fail("labels: expected [B,H,W] int64, got {} dims of {}; convert the label batch with .to(torch::kInt64)",
         labels.dim(), std::string(c10::toString(labels.scalar_type())));
  if (labels.size(0) != logits.size(0))
    fail("labels: batch size {} differs from the logits' {}; feed images and labels from the same batch",
         labels.size(0), logits.size(0));
}
}  // namespace

torch::Tensor upsample_logits(const torch::Tensor& logits, int64_t height, int64_t width) {
  if (logits.size(2) == height && logits.size(3) == width) return logits;
  return F::interpolate(logits, F::InterpolateFuncOptions()
                                    .size(std::vector<int64_t>{height, width})
                                    .mode(torch::kBilinear)
                                    .align_corners(false));
}

torch::Tensor seg_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels, int64_t ignore_index) {
  check_inputs(logits, labels);
  const auto up = upsample_logits(logits, labels.size(1), labels.size(2));
  {
    torch::NoGradGuard ng;
    const auto valid = labels != ignore_index;
    if (valid.any().item<bool>()) {
      const auto v = labels.masked_select(valid);
      const int64_t lo = v.min().item<int64_t>(), hi = v.max().item<int64_t>();
      if (lo < 0 || hi >= logits.size(1))
        fail("labels: value {} outside [0,{}) and not ignore_index {}; check the label encoding (trainIds expected)",
             lo < 0 ? lo : hi, logits.size(1), ignore_index);
    }
  }
  const auto per_pixel = F::cross_entropy(
      up, labels, F::CrossEntropyFuncOptions().ignore_index(ignore_index).reduction(torch::kNone));
  // mmseg 1.2.2 divides by avg_factor = label.numel() (+ float eps, which vanishes in float32 for counts > 1).
  return per_pixel.sum() / static_cast<double>(labels.numel());
}

double pixel_accuracy(const torch::Tensor& logits, const torch::Tensor& labels, int64_t ignore_index) {
  check_inputs(logits, labels);
  torch::NoGradGuard ng;
  const auto up = upsample_logits(logits, labels.size(1), labels.size(2));
  const auto pred = up.argmax(1);
  const auto valid = labels != ignore_index;
  const int64_t n = valid.sum().item<int64_t>();
  if (n == 0) return 0.0;
  const int64_t correct = (pred.eq(labels) & valid).sum().item<int64_t>();
  return 100.0 * static_cast<double>(correct) / static_cast<double>(n);
}

}  // namespace clcp
