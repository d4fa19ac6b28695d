// ViT-S/16 backbone, a re-statement of timm 1.0.31 `vit_small_patch16_224` (timm/models/vision_transformer.py) with
// timm's parameter names, so a timm state dict (e.g. the 150-key CLCP/LIP-Loc extracts, clcp_reference.md §2) loads
// 1:1. Architecture: patch embed Conv2d(3→384, k16, s16, bias) → [cls_token; patches] + pos_embed (all 197 tokens)
// → 12 pre-norm blocks (x += drop_path(attn(norm1 x)); x += drop_path(mlp(norm2 x))), LayerNorm eps 1e-6,
// qkv with bias, exact (erf) GELU, no layer-scale → final `norm`.
// Inputs must be exactly img_size×img_size (224×224 → 14×14 grid; no pos_embed interpolation at forward time, as the
// thesis's TIMMBackbone, clcp_reference.md §3.1). Import 384-px weights (24×24 grid) through resize_pos_embed.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <optional>

#include "models/drop_path.hpp"

namespace clcp {

struct VitOptions {
  int64_t img_size = 224, patch_size = 16, in_chans = 3, embed_dim = 384, depth = 12, num_heads = 6;
  double mlp_ratio = 4.0;
  double ln_eps = 1e-6;
  /// Stochastic depth: block i uses linspace(0, rate, depth)[i] on BOTH residual branches (timm semantics).
  double drop_path_rate = 0.0;
};

/// timm PatchEmbed: `proj` Conv2d(in_chans→embed_dim, kernel=stride=patch). [B,3,H,W] → [B, H/p·W/p, C] row-major.
class PatchEmbedImpl : public torch::nn::Module {
 public:
  PatchEmbedImpl(int64_t in_chans, int64_t embed_dim, int64_t patch_size);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d proj{nullptr};
};
TORCH_MODULE(PatchEmbed);

/// timm Attention: fused `qkv` Linear(C→3C) laid out [q; k; v] × heads × head_dim, SDPA with scale head_dim^-½, `proj`.
class VitAttentionImpl : public torch::nn::Module {
 public:
  VitAttentionImpl(int64_t dim, int64_t num_heads);
  torch::Tensor forward(const torch::Tensor& x);  // [B,N,C] → [B,N,C]
  torch::nn::Linear qkv{nullptr}, proj{nullptr};
  int64_t num_heads;
};
TORCH_MODULE(VitAttention);

/// timm Mlp: fc1 → GELU(erf) → fc2.
class VitMlpImpl : public torch::nn::Module {
 public:
  VitMlpImpl(int64_t dim, int64_t hidden);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(VitMlp);

/// timm Block (pre-norm, no layer-scale).
class VitBlockImpl : public torch::nn::Module {
 public:
  VitBlockImpl(int64_t dim, int64_t num_heads, int64_t hidden, double ln_eps, double drop_path_rate, uint64_t index);
  /// key: drop-path key (used only in training with rate > 0); layers 2·index (attn) and 2·index+1 (mlp).
  torch::Tensor forward(const torch::Tensor& x, const std::optional<DropPathKey>& key);
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  VitAttention attn{nullptr};
  VitMlp mlp{nullptr};
  double drop_path_rate;
  uint64_t index;
};
TORCH_MODULE(VitBlock);

class VisionTransformerImpl : public torch::nn::Module {
 public:
  explicit VisionTransformerImpl(const VitOptions& options = {});

  /// x: [B,3,img,img] float32 (ImageNet-normalised RGB) → [B, 1+grid², C] tokens after the final norm, token 0 = cls
  /// (what timm's forward_features returns). Throws UserError if H or W differ from img_size.
  torch::Tensor forward_features(const torch::Tensor& x);
  torch::Tensor forward(const torch::Tensor& x) { return forward_features(x); }

  /// Constructed parameters are placeholders (LibTorch defaults, zeros): call init_weights(seed) or load weights.
  /// timm init_weights (mode ''), keyed by `seed` (see models/init.hpp):
  /// pos_embed trunc_normal(std .02, abs bounds ±2); cls_token normal(std 1e-6); every Linear trunc_normal(std .02),
  /// bias 0; LayerNorm 1/0; patch_embed.proj keeps PyTorch's default Conv2d init (U(±1/√fan_in) for weight and bias),
  /// because timm calls init_weights(needs_reset=False) and PatchEmbed has no init of its own.
  void init_weights(uint64_t seed);
  void set_drop_path_key(std::optional<DropPathKey> key) { drop_path_key_ = key; }

  const VitOptions& options() const { return options_; }
  int64_t grid_size() const { return options_.img_size / options_.patch_size; }

  torch::Tensor cls_token, pos_embed;  // [1,1,C], [1,1+grid²,C]
  PatchEmbed patch_embed{nullptr};
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm norm{nullptr};

 private:
  VitOptions options_;
  std::optional<DropPathKey> drop_path_key_;
};
TORCH_MODULE(VisionTransformer);

/// timm resample_abs_pos_embed with one prefix (cls) token: pos_embed [1, 1+g·g, C] (any square grid g) →
/// [1, 1+new_grid², C]. The grid part is reshaped to [1,C,g,g], resized with bicubic interpolation (align_corners
/// false; antialias true like timm's checkpoint_filter_fn — mmseg's load-time resize uses antialias false), and the
/// cls entry is kept unchanged in front. Returns the input when the grid already matches. Float32 computation, result
/// in the input dtype. Throws UserError if the token count minus 1 is not a square.
torch::Tensor resize_pos_embed(const torch::Tensor& pos_embed, int64_t new_grid, bool antialias = true);

}  // namespace clcp
