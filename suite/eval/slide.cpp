#include "suite/eval/slide.hpp"

#include <algorithm>

#include "suite/core/error.hpp"

namespace clcp {
namespace F = torch::nn::functional;

std::vector<Window> slide_windows(int64_t H, int64_t W, int64_t crop_h, int64_t crop_w, int64_t stride_h,
                                  int64_t stride_w) {
  if (H <= 0 || W <= 0 || crop_h <= 0 || crop_w <= 0 || stride_h <= 0 || stride_w <= 0)
    fail("slide windows: image {}x{}, crop {}x{}, stride {}x{}: expected all positive; fix the inference settings",
         H, W, crop_h, crop_w, stride_h, stride_w);
  const int64_t h_grids = std::max<int64_t>(H - crop_h + stride_h - 1, 0) / stride_h + 1;
  const int64_t w_grids = std::max<int64_t>(W - crop_w + stride_w - 1, 0) / stride_w + 1;
  std::vector<Window> out;
  out.reserve(static_cast<size_t>(h_grids * w_grids));
  for (int64_t i = 0; i < h_grids; ++i) {
    for (int64_t j = 0; j < w_grids; ++j) {
      const int64_t y2 = std::min(i * stride_h + crop_h, H);
      const int64_t x2 = std::min(j * stride_w + crop_w, W);
      out.push_back({std::max<int64_t>(y2 - crop_h, 0), std::max<int64_t>(x2 - crop_w, 0), y2, x2});
    }
  }
  return out;
}

torch::Tensor slide_inference(const LogitsFn& logits_fn, const torch::Tensor& image, const SlideOptions& opts) {
  if (image.dim() != 4 || image.size(0) != 1 || image.size(1) != 3)
    fail("slide inference: image of shape {}: expected [1,3,H,W]; pass one normalised RGB image",
         fmt::format("{}", fmt::join(image.sizes(), ",")));
  if (opts.batch_windows <= 0) fail("slide inference: batch_windows {}: expected > 0", opts.batch_windows);
  torch::NoGradGuard no_grad;
  const int64_t H = image.size(2), W = image.size(3);
  const auto windows = slide_windows(H, W, opts.crop_h, opts.crop_w, opts.stride_h, opts.stride_w);
  const torch::Tensor img = image.to(torch::kFloat32);

  torch::Tensor sum;  // [1,K,H,W], allocated once K is known
  auto count = torch::zeros({1, 1, H, W}, img.options());
  for (size_t start = 0; start < windows.size(); start += static_cast<size_t>(opts.batch_windows)) {
    const size_t end = std::min(windows.size(), start + static_cast<size_t>(opts.batch_windows));
    std::vector<torch::Tensor> crops;
    crops.reserve(end - start);
    for (size_t w = start; w < end; ++w) {
      const Window& b = windows[w];
      auto crop = img.slice(2, b.y1, b.y2).slice(3, b.x1, b.x2);
      const int64_t pad_h = opts.crop_h - (b.y2 - b.y1), pad_w = opts.crop_w - (b.x2 - b.x1);
      if (pad_h > 0 || pad_w > 0)  // image smaller than the crop: see the DEVIATION note in the header
        crop = F::pad(crop, F::PadFuncOptions({0, pad_w, 0, pad_h}).mode(torch::kConstant).value(0.0));
      crops.push_back(crop);
    }
    const auto batch = torch::cat(crops, 0);
    auto logits = logits_fn(batch);
    const auto n = static_cast<int64_t>(end - start);
    if (!logits.defined() || logits.dim() != 4 || logits.size(0) != n)
      fail("slide inference: model returned logits of shape {}: expected [{},K,h,w]; check the LogitsFn",
           logits.defined() ? fmt::format("{}", fmt::join(logits.sizes(), ",")) : "undefined", n);
    logits = logits.to(img.device(), torch::kFloat32);
    if (logits.size(2) != opts.crop_h || logits.size(3) != opts.crop_w)  // as encode_decode: resize to the input
      logits = F::interpolate(logits, F::InterpolateFuncOptions()
                                          .size(std::vector<int64_t>{opts.crop_h, opts.crop_w})
                                          .mode(torch::kBilinear)
                                          .align_corners(false));
    if (!sum.defined()) sum = torch::zeros({1, logits.size(1), H, W}, img.options());
    if (logits.size(1) != sum.size(1))
      fail("slide inference: model returned {} classes, earlier {}; the LogitsFn must be consistent",
           logits.size(1), sum.size(1));
    for (size_t w = start; w < end; ++w) {
      const Window& b = windows[w];
      const int64_t h = b.y2 - b.y1, wd = b.x2 - b.x1;
      const auto li = logits.slice(0, w - start, w - start + 1).slice(2, 0, h).slice(3, 0, wd);
      sum.slice(2, b.y1, b.y2).slice(3, b.x1, b.x2).add_(li);
      count.slice(2, b.y1, b.y2).slice(3, b.x1, b.x2).add_(1.0);
    }
  }
  return sum.div_(count);  // every pixel is covered by construction of slide_windows
}

}  // namespace clcp
