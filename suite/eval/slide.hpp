// Sliding-window inference, as mmseg 1.2.2 EncoderDecoder.slide_inference (mmseg_reference.md §6, §1.5;
// clcp_reference.md §3.2: crop 224, stride 168). The model is reached only through LogitsFn, so this file knows
// nothing of models.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace clcp {

/// The model as eval sees it: windows [N,3,crop_h,crop_w] float32 (normalised RGB, on the image's device) →
/// logits [N,K,h,w] at any resolution (e.g. 14×14 for ViT-S/16 at 224). K must be the same for every call.
using LogitsFn = std::function<torch::Tensor(const torch::Tensor& windows)>;

/// One window, half-open pixel box [y1,y2) × [x1,x2) in the (resized) image.
struct Window {
  int64_t y1, x1, y2, x2;
};

struct SlideOptions {
  int64_t crop_h = 224;      ///< window height, pixels
  int64_t crop_w = 224;      ///< window width, pixels
  int64_t stride_h = 168;    ///< vertical step, pixels
  int64_t stride_w = 168;    ///< horizontal step, pixels
  int64_t batch_windows = 8; ///< windows per LogitsFn call (memory vs speed; does not change the result beyond
                             ///< floating-point summation order inside the model)
};

/// Window boxes in mmseg order (row-major: all x for y-row 0, then row 1, …):
///   h_grids = max(H − crop_h + stride_h − 1, 0) / stride_h + 1 (likewise w);
///   y1 = i·stride_h, y2 = min(y1 + crop_h, H), y1 = max(y2 − crop_h, 0) — the last window is shifted back inside.
/// An image smaller than the crop along an axis gets one window spanning that whole axis.
/// Examples: 1024×2048 → 6×12 = 72 windows (last y1 = 800, last x1 = 1824); 1024×1820 → 66.
/// Throws UserError if a size or stride is not positive.
std::vector<Window> slide_windows(int64_t H, int64_t W, int64_t crop_h, int64_t crop_w, int64_t stride_h,
                                  int64_t stride_w);

/// Averaged window logits over the whole image.
/// image: [1,3,H,W] float32, normalised RGB, any device. Returns logits [1,K,H,W] float32 on the image's device:
/// each window's logits are resized bilinearly (align_corners=false) to the window size, summed into a canvas and
/// divided by the per-pixel window count (logits are averaged, not probabilities), as mmseg.
/// DEVIATION from mmseg: mmseg feeds a window smaller than the crop (image smaller than the crop) at its own size;
/// our ViT needs exactly crop_h×crop_w, so such a window is zero-padded bottom/right to the crop size, run, its
/// logits resized to the crop size and then cropped back to the window. Windows of normal images are unaffected.
/// Runs under torch::NoGradGuard. Throws UserError on a bad image shape or a LogitsFn result of the wrong shape.
torch::Tensor slide_inference(const LogitsFn& logits_fn, const torch::Tensor& image, const SlideOptions& opts = {});

}  // namespace clcp
