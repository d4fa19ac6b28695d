// The SimCLR model: the ViT-S/16 image encoder (models/vit.hpp; embedding = its CLS token after the final norm, as
// CLCP's image tower) and a projector as lightly 1.6.0's SimCLRProjectionHead(num_layers 2, batch_norm True):
// Linear(384 → hidden, no bias) → BatchNorm1d(hidden) → ReLU → Linear(hidden → out). State-dict names:
//   encoder.*        timm's names (the export strips "encoder.")
//   projector.0.weight, projector.1.{weight, bias, running_mean, running_var, num_batches_tracked}, projector.3.*
#pragma once
#include <torch/torch.h>

#include <cstdint>

#include "models/vit.hpp"

namespace clcp {

class SimclrModelImpl : public torch::nn::Module {
 public:
  SimclrModelImpl(int64_t hidden, int64_t out);
  /// images [N, 3, 224, 224] float32 normalised RGB → projections [N, out] (not normalised).
  torch::Tensor forward(const torch::Tensor& images);
  /// Keyed init: the ViT as timm (VisionTransformerImpl::init_weights), the Linears as PyTorch's defaults keyed by
  /// name, BatchNorm weight 1 and bias 0.
  void init_weights(uint64_t seed);

  VisionTransformer encoder{nullptr};
  torch::nn::Sequential projector{nullptr};
};
TORCH_MODULE(SimclrModel);

}  // namespace clcp
