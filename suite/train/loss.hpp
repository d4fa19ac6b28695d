// Segmentation loss and training accuracy, as mmseg 1.2.2 SegmenterMaskTransformerHead.loss_by_feat with
// CrossEntropyLoss(avg_non_ignore=False) (mmseg_reference.md §1.4, clcp_reference.md §3.1).
#pragma once
#include <cstdint>
#include <torch/torch.h>

namespace clcp {

/// Bilinear resize (align_corners=false) of logits [B,K,h,w] float32 to the label size [H,W]; a no-op if the sizes
/// already match. This is the resize mmseg applies before the loss and before decode.acc_seg.
torch::Tensor upsample_logits(const torch::Tensor& logits, int64_t height, int64_t width);

/// Cross-entropy of logits [B,K,h,w] float32 against labels [B,H,W] int64 (trainIds 0..K−1, `ignore_index` ignored).
/// Logits are first upsampled to H×W (bilinear, align_corners=false). Per-pixel softmax CE, no class weights; ignored
/// pixels contribute 0 and the SUM is divided by the TOTAL number of label pixels B·H·W, ignored ones included
/// (mmseg avg_non_ignore=False; not PyTorch's mean over valid pixels). Returns a 0-dim float32 tensor with autograd.
/// Throws UserError on shape/dtype mismatch or a label value outside [0,K) other than ignore_index.
torch::Tensor seg_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels, int64_t ignore_index = 255);

/// decode.acc_seg: top-1 pixel accuracy in percent (0..100) over the non-ignored pixels, after the same upsampling.
/// Returns 0 when every pixel is ignored (mmseg's accuracy() then also reports 0). No gradient.
double pixel_accuracy(const torch::Tensor& logits, const torch::Tensor& labels, int64_t ignore_index = 255);

}  // namespace clcp
