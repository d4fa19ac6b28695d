// The supervised positive control's model: the ViT-S/16 image encoder (models/vit.hpp, timm names) and a linear
// classifier on its patch tokens (Segmenter's linear decoder, Strudel et al. 2021: Linear(384 → classes) per token of
// the 14×14 grid after the final norm, CLS dropped), the logits upsampled bilinearly to the input size. State-dict
// names: encoder.* (timm's; the export strips "encoder."), head.weight [classes, 384], head.bias [classes].
#pragma once
#include <torch/torch.h>

#include <cstdint>

#include "models/vit.hpp"

namespace clcp {

class SupervisedModelImpl : public torch::nn::Module {
 public:
  SupervisedModelImpl(int64_t image_size, int64_t classes);
  /// images [N, 3, S, S] float32 normalised RGB → logits [N, classes, S, S] float32 (bilinear, align_corners false).
  torch::Tensor forward(const torch::Tensor& images);
  /// Keyed init: the ViT as timm (VisionTransformerImpl::init_weights); the head as timm's/Segmenter's linear layers:
  /// weight trunc_normal(std 0.02) keyed by "head", bias 0.
  void init_weights(uint64_t seed);

  VisionTransformer encoder{nullptr};
  torch::nn::Linear head{nullptr};
};
TORCH_MODULE(SupervisedModel);

/// Cross-entropy of logits [N, C, H, W] against labels [N, H, W] int64 (0 … C−1, 255 ignore), averaged over the
/// pixels that are not ignored (PyTorch's cross_entropy with ignore_index 255, reduction mean); 0 (with gradient)
/// when every pixel is ignored, where PyTorch would give NaN.
torch::Tensor segmentation_loss(const torch::Tensor& logits, const torch::Tensor& labels);

/// Confusion counts [C, C] int64 (row: label, column: argmax prediction) of the pixels that are not ignored.
torch::Tensor confusion_counts(const torch::Tensor& logits, const torch::Tensor& labels);

}  // namespace clcp
