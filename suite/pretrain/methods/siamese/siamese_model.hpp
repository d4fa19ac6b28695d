// One branch of a Siamese network (methods_reference.md §3.1, §3.3): a ViT image encoder (models/vit.hpp; the
// embedding is its CLS token after the final norm, as CLCP's and SimCLR's), a projector and, on online branches, a
// predictor — the heads of lightly 1.6.0 (models/modules/heads.py), layer for layer, so that their Sequential indices
// are lightly's `layers.<i>`:
//   simsiam projector  Linear(C→h, no bias) BN ReLU · Linear(h→h, no bias) BN ReLU · Linear(h→out, no bias)
//                      BN(out, affine=False)                               (SimSiamProjectionHead)
//   byol projector     Linear(C→h, no bias) BN ReLU · Linear(h→out)       (BYOLProjectionHead)
//   predictor          Linear(out→q, no bias) BN ReLU · Linear(q→out)     (SimSiamPredictionHead = BYOLPredictionHead)
// State-dict names: encoder.* (timm's), projector.<i>.*, predictor.<i>.*.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "models/vit.hpp"

namespace clcp::siamese {

struct BranchOptions {
  VitOptions encoder;            ///< ViT-S/16 for the exported network; a wider ViT for DiSiam's assistant
  std::string projector = "simsiam";  ///< "simsiam" (3 BN layers) | "byol" (2 layers)
  int64_t projector_hidden = 2048, out = 2048;
  int64_t predictor_hidden = 512;     ///< 0: no predictor (BYOL's target)
};

struct BranchOutput {
  torch::Tensor z;  ///< projections [N, out]
  torch::Tensor p;  ///< predictions [N, out] (undefined without a predictor)
};

class SiameseBranchImpl : public torch::nn::Module {
 public:
  /// UserError for widths < 1 or an unknown projector kind.
  explicit SiameseBranchImpl(BranchOptions options);
  /// images [N, 3, S, S] float32 normalised RGB (S = encoder.img_size) → projections and predictions.
  BranchOutput forward(const torch::Tensor& images);
  /// Keyed init (models/init.hpp): the ViT as timm, the Linears as PyTorch's defaults keyed by `<name>.<i>`, BN 1 / 0.
  void init_weights(uint64_t seed, const std::string& name);
  const BranchOptions& options() const { return options_; }

  VisionTransformer encoder{nullptr};
  torch::nn::Sequential projector{nullptr}, predictor{nullptr};

 private:
  BranchOptions options_;
};
TORCH_MODULE(SiameseBranch);

}  // namespace clcp::siamese
