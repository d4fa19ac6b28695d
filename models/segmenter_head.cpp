#include "models/segmenter_head.hpp"

#include <cmath>

#include "models/attention.hpp"
#include "models/init.hpp"
#include "suite/core/error.hpp"

namespace clcp {

namespace F = torch::nn::functional;

MhaImpl::MhaImpl(int64_t dim, int64_t heads) : num_heads(heads) {
  in_proj_weight = register_parameter("in_proj_weight", torch::zeros({3 * dim, dim}));
  in_proj_bias = register_parameter("in_proj_bias", torch::zeros({3 * dim}));
  out_proj = register_module("out_proj", torch::nn::Linear(dim, dim));
}

torch::Tensor MhaImpl::forward(const torch::Tensor& x) {
  const int64_t B = x.size(0), N = x.size(1), C = x.size(2);
  auto qkv = torch::linear(x, in_proj_weight, in_proj_bias).view({B, N, 3, num_heads, C / num_heads})
                 .permute({2, 0, 3, 1, 4});  // [3,B,h,N,d]
  auto y = attention(qkv[0], qkv[1], qkv[2]);
  return torch::linear(y.transpose(1, 2).reshape({B, N, C}), out_proj->weight, out_proj->bias);
}

MmcvAttentionImpl::MmcvAttentionImpl(int64_t dim, int64_t heads) { attn = register_module("attn", Mha(dim, heads)); }

MmcvFfnImpl::MmcvFfnImpl(int64_t dim, int64_t hidden) {
  fc1 = torch::nn::Linear(dim, hidden);
  fc2 = torch::nn::Linear(hidden, dim);
  auto list = torch::nn::ModuleList();
  list->push_back(torch::nn::Sequential(fc1));  // layers.0.0
  list->push_back(fc2);                         // layers.1
  register_module("layers", list);
}

torch::Tensor MmcvFfnImpl::forward(const torch::Tensor& x) {
  return torch::linear(torch::gelu(torch::linear(x, fc1->weight, fc1->bias)), fc2->weight, fc2->bias);
}

MaskHeadLayerImpl::MaskHeadLayerImpl(int64_t dim, int64_t heads, int64_t hidden, double ln_eps, double rate,
                                     uint64_t idx)
    : drop_path_rate(rate), index(idx) {
  ln1 = register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(ln_eps)));
  attn = register_module("attn", MmcvAttention(dim, heads));
  ln2 = register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(ln_eps)));
  ffn = register_module("ffn", MmcvFfn(dim, hidden));
}

torch::Tensor MaskHeadLayerImpl::forward(const torch::Tensor& x, const std::optional<DropPathKey>& key) {
  auto h = x + attn->forward(ln1->forward(x));
  return h + drop_path(ffn->forward(ln2->forward(h)), drop_path_rate, is_training(), key,
                       kHeadDropPathLayerBase + index);
}

MaskTransformerHeadImpl::MaskTransformerHeadImpl(const MaskHeadOptions& o) : options_(o) {
  if (o.embed_dims % o.num_heads != 0 || o.num_classes < 1)
    fail("MaskHeadOptions: embed_dims {} must be a multiple of num_heads {} and num_classes {} ≥ 1", o.embed_dims,
         o.num_heads, o.num_classes);
  const int64_t C = o.embed_dims;
  const auto hidden = static_cast<int64_t>(std::llround(C * o.mlp_ratio));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < o.num_layers; ++i) {
    const double rate = o.num_layers > 1 ? o.drop_path_rate * static_cast<double>(i) /
                                               static_cast<double>(o.num_layers - 1)
                                         : 0.0;  // linspace(0, rate, num_layers)
    layers->push_back(MaskHeadLayer(C, o.num_heads, hidden, o.ln_eps, rate, static_cast<uint64_t>(i)));
  }
  dec_proj = register_module("dec_proj", torch::nn::Linear(o.in_channels, C));
  cls_emb = register_parameter("cls_emb", torch::zeros({1, o.num_classes, C}));
  patch_proj = register_module("patch_proj", torch::nn::Linear(torch::nn::LinearOptions(C, C).bias(false)));
  classes_proj = register_module("classes_proj", torch::nn::Linear(torch::nn::LinearOptions(C, C).bias(false)));
  decoder_norm = register_module("decoder_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({C}).eps(o.ln_eps)));
  mask_norm = register_module("mask_norm",
                              torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.num_classes}).eps(o.ln_eps)));
}

torch::Tensor MaskTransformerHeadImpl::forward(const torch::Tensor& x) {
  if (x.dim() != 4 || x.size(1) != options_.in_channels)
    fail("MaskTransformerHead input {}: expected [B,{},h,w] patch features",
         fmt::format("[{}]", fmt::join(x.sizes().vec(), ",")), options_.in_channels);
  const int64_t B = x.size(0), h = x.size(2), w = x.size(3), K = options_.num_classes;
  auto t = x.permute({0, 2, 3, 1}).reshape({B, h * w, x.size(1)});
  t = torch::linear(t, dec_proj->weight, dec_proj->bias);
  t = torch::cat({t, cls_emb.expand({B, -1, -1})}, 1);
  for (const auto& m : *layers) t = m->as<MaskHeadLayerImpl>()->forward(t, drop_path_key_);
  t = decoder_norm->forward(t);
  auto patches = torch::linear(t.slice(1, 0, h * w), patch_proj->weight);
  auto classes = torch::linear(t.slice(1, h * w), classes_proj->weight);
  patches = F::normalize(patches, F::NormalizeFuncOptions().p(2).dim(-1).eps(1e-12));
  classes = F::normalize(classes, F::NormalizeFuncOptions().p(2).dim(-1).eps(1e-12));
  auto masks = mask_norm->forward(torch::bmm(patches, classes.transpose(1, 2)));  // [B,hw,K]
  return masks.permute({0, 2, 1}).reshape({B, K, h, w});
}

void MaskTransformerHeadImpl::init_weights(uint64_t seed) {
  torch::NoGradGuard no_grad;
  init::trunc_normal_(cls_emb, 0.02, seed, "cls_emb");
  for (auto& item : named_modules(/*name_prefix=*/"", /*include_self=*/false)) {
    if (auto* lin = item.value()->as<torch::nn::LinearImpl>()) {
      init::trunc_normal_(lin->weight, 0.02, seed, item.key() + ".weight");
      if (lin->bias.defined()) lin->bias.zero_();
    } else if (auto* ln = item.value()->as<torch::nn::LayerNormImpl>()) {
      ln->weight.fill_(1.0);
      ln->bias.zero_();
    } else if (auto* mha = item.value()->as<MhaImpl>()) {
      init::xavier_uniform_(mha->in_proj_weight, seed, item.key() + ".in_proj_weight");
      mha->in_proj_bias.zero_();
    }
  }
}

}  // namespace clcp
