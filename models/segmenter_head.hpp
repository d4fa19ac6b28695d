// Segmenter mask-transformer decode head, a re-statement of mmseg 1.2.2 `SegmenterMaskTransformerHead`
// (mmseg_reference.md §1.3) with mmseg's parameter names (without the parent's `decode_head.` prefix):
//   layers.{i}.ln1/ln2                       LayerNorm(C), eps 1e-5
//   layers.{i}.attn.attn.in_proj_weight      [3C,C] (q;k;v), in_proj_bias [3C], out_proj.{weight,bias}
//                                            (torch nn.MultiheadAttention semantics, q scaled by head_dim^-½)
//   layers.{i}.ffn.layers.0.0 / .layers.1    Linear(C→4C) → GELU(erf) → Linear(4C→C)
//   dec_proj (bias), cls_emb [1,K,C], patch_proj / classes_proj (no bias), decoder_norm [C], mask_norm [K]
// Each layer: x += attn(ln1 x); x += drop_path(ffn(ln2 x)) — drop_path on the FFN branch ONLY (mmcv quirk), rate
// linspace(0, head_drop_path_rate, num_layers)[i] (= [0, 0.1] for the thesis).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <optional>

#include "models/drop_path.hpp"

namespace clcp {

struct MaskHeadOptions {
  int64_t in_channels = 384, num_classes = 19, num_layers = 2, num_heads = 6, embed_dims = 384;
  double mlp_ratio = 4.0;
  double ln_eps = 1e-5;
  double drop_path_rate = 0.1;
};

/// torch.nn.MultiheadAttention (self-attention, batch_first) with its parameter names.
class MhaImpl : public torch::nn::Module {
 public:
  MhaImpl(int64_t dim, int64_t num_heads);
  torch::Tensor forward(const torch::Tensor& x);  // [B,N,C] → [B,N,C]
  torch::Tensor in_proj_weight, in_proj_bias;
  torch::nn::Linear out_proj{nullptr};
  int64_t num_heads;
};
TORCH_MODULE(Mha);

/// mmcv MultiheadAttention wrapper: holds `attn` (so keys read attn.attn.*); proj/attn dropout are 0.
class MmcvAttentionImpl : public torch::nn::Module {
 public:
  MmcvAttentionImpl(int64_t dim, int64_t num_heads);
  torch::Tensor forward(const torch::Tensor& x) { return attn->forward(x); }
  Mha attn{nullptr};
};
TORCH_MODULE(MmcvAttention);

/// mmcv FFN: `layers` = [Sequential(Linear(C→4C), GELU, Dropout 0), Linear(4C→C), Dropout 0].
class MmcvFfnImpl : public torch::nn::Module {
 public:
  MmcvFfnImpl(int64_t dim, int64_t hidden);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};  // registered as layers.0.0 and layers.1
};
TORCH_MODULE(MmcvFfn);

/// mmseg vit TransformerEncoderLayer (pre-norm).
class MaskHeadLayerImpl : public torch::nn::Module {
 public:
  MaskHeadLayerImpl(int64_t dim, int64_t num_heads, int64_t hidden, double ln_eps, double drop_path_rate,
                    uint64_t index);
  /// drop-path layer id: kHeadDropPathLayerBase + index.
  torch::Tensor forward(const torch::Tensor& x, const std::optional<DropPathKey>& key);
  torch::nn::LayerNorm ln1{nullptr}, ln2{nullptr};
  MmcvAttention attn{nullptr};
  MmcvFfn ffn{nullptr};
  double drop_path_rate;
  uint64_t index;
};
TORCH_MODULE(MaskHeadLayer);

class MaskTransformerHeadImpl : public torch::nn::Module {
 public:
  explicit MaskTransformerHeadImpl(const MaskHeadOptions& options = {});

  /// x: [B,C,h,w] float32 patch features (row-major grid) → logits [B,K,h,w] (mmseg §1.3 steps 1–11):
  /// dec_proj → append cls_emb after the patches → layers → decoder_norm → patch_proj / classes_proj →
  /// L2-normalise (eps 1e-12) → masks = patches·classesᵀ → mask_norm over K → [B,K,h,w].
  torch::Tensor forward(const torch::Tensor& x);

  /// Constructed parameters are placeholders (LibTorch defaults, zeros): call init_weights(seed) or load weights.
  /// mmseg head init_weights, keyed by `seed` (models/init.hpp; names without the `decode_head.` prefix):
  /// cls_emb, patch_proj, classes_proj and every Linear (dec_proj, FFN, out_proj): trunc_normal std 0.02 (abs bounds
  /// ±2), biases 0; in_proj_weight xavier_uniform, in_proj_bias 0; LayerNorms 1/0.
  void init_weights(uint64_t seed);
  void set_drop_path_key(std::optional<DropPathKey> key) { drop_path_key_ = key; }
  const MaskHeadOptions& options() const { return options_; }

  torch::nn::ModuleList layers{nullptr};
  torch::nn::Linear dec_proj{nullptr}, patch_proj{nullptr}, classes_proj{nullptr};
  torch::Tensor cls_emb;  // [1,K,C]
  torch::nn::LayerNorm decoder_norm{nullptr}, mask_norm{nullptr};

 private:
  MaskHeadOptions options_;
  std::optional<DropPathKey> drop_path_key_;
};
TORCH_MODULE(MaskTransformerHead);

}  // namespace clcp
