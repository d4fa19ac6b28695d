#include "suite/eval/image_evidence.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "suite/core/error.hpp"

namespace clcp {
namespace {

using Counts = std::array<int64_t, kNumClasses>;

// Histogram of values in 0..K−1; others are dropped, as torch.histc(bins=K, min=0, max=K−1) on integer values.
Counts class_histogram(const torch::Tensor& v) {
  const auto kept = v.masked_select((v >= 0).logical_and(v < kNumClasses));
  const auto h = torch::bincount(kept, {}, kNumClasses).to(torch::kCPU, torch::kInt64).contiguous();
  Counts out{};
  std::copy_n(h.data_ptr<int64_t>(), kNumClasses, out.begin());
  return out;
}

}  // namespace

ImageEvidence image_evidence(const torch::Tensor& pred, const torch::Tensor& label, const std::string& id,
                             const std::string& dataset, const std::string& condition) {
  if (pred.sizes() != label.sizes() || pred.dim() != 2)
    fail("{}: prediction {} and label {} must both be [H,W] of the same size; check the label file", id,
         fmt::format("{}", fmt::join(pred.sizes(), "x")), fmt::format("{}", fmt::join(label.sizes(), "x")));
  const auto p_all = pred.to(torch::kInt64).flatten();
  const auto l_all = label.to(pred.device(), torch::kInt64).flatten();
  const auto mask = l_all != static_cast<int64_t>(kIgnoreIndex);
  const auto p = p_all.masked_select(mask), l = l_all.masked_select(mask);
  ImageEvidence ev;
  ev.id = id;
  ev.dataset = dataset;
  ev.condition = condition;
  ev.intersect = class_histogram(p.masked_select(p == l));
  ev.pred_area = class_histogram(p);
  ev.label_area = class_histogram(l);
  return ev;
}

}  // namespace clcp
