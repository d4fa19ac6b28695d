// The thesis's finetuning model (clcp_reference.md §3.1): timm ViT-S/16 backbone (all 197 tokens after the final
// norm) → drop the cls token → row-major [B,384,14,14] grid (the thesis's EncoderDecoder.extract_feat patch) → mmseg
// 1.2.2 Segmenter mask head → logits at 1/16 resolution. State-dict names: `backbone.<timm names>` (150 tensors) +
// `decode_head.<mmseg names>`.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "models/segmenter_head.hpp"
#include "models/vit.hpp"

namespace clcp {

struct SegmenterOptions {
  int64_t num_classes = 19, img_size = 224, patch_size = 16, embed_dim = 384, depth = 12, num_heads = 6;
  double backbone_drop_path_rate = 0.0;  // timm default (thesis)
  int64_t head_layers = 2, head_heads = 6;
  double head_drop_path_rate = 0.1;  // mmseg head default (thesis)
};

class SegmenterImpl : public torch::nn::Module {
 public:
  explicit SegmenterImpl(const SegmenterOptions& options = {});

  /// images: [B,3,img,img] float32 ImageNet-normalised RGB → logits [B,K,img/16,img/16] float32.
  /// Throws UserError for any other input size. Training forwards with drop-path need set_drop_path_key first.
  torch::Tensor forward(const torch::Tensor& images);

  /// Call after construction (constructed parameters are placeholders) unless a state dict is loaded.
  /// Backbone: timm init (VisionTransformerImpl::init_weights); head: mmseg init (MaskTransformerHeadImpl::init_weights).
  /// Same seed → bit-identical parameters.
  void init_weights(uint64_t seed);
  /// Drop-path masks for the next training forwards come from Stream(seed, "drop_path", step, layer)
  /// (layer ids in models/drop_path.hpp). Call once per training step.
  void set_drop_path_key(uint64_t seed, uint64_t step);
  std::vector<torch::Tensor> backbone_parameters() const;
  std::vector<torch::Tensor> head_parameters() const;
  /// requires_grad=false on every backbone parameter (the thesis's "fb" mode, clcp_reference.md §3.1).
  void freeze_backbone();

  const SegmenterOptions& options() const { return options_; }

  VisionTransformer backbone{nullptr};
  MaskTransformerHead decode_head{nullptr};

 private:
  SegmenterOptions options_;
};
TORCH_MODULE(Segmenter);

}  // namespace clcp
