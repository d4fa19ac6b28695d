#include "models/vit.hpp"

#include <cmath>

#include "models/attention.hpp"
#include "models/init.hpp"
#include "suite/core/error.hpp"

namespace clcp {

namespace F = torch::nn::functional;

PatchEmbedImpl::PatchEmbedImpl(int64_t in_chans, int64_t embed_dim, int64_t patch_size) {
  proj = register_module("proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_chans, embed_dim, patch_size)
                                                       .stride(patch_size)
                                                       .bias(true)));
}

torch::Tensor PatchEmbedImpl::forward(const torch::Tensor& x) {
  return proj->forward(x).flatten(2).transpose(1, 2);  // [B,C,h,w] → [B,h·w,C], row-major (h, then w)
}

VitAttentionImpl::VitAttentionImpl(int64_t dim, int64_t heads) : num_heads(heads) {
  qkv = register_module("qkv", torch::nn::Linear(torch::nn::LinearOptions(dim, 3 * dim).bias(true)));
  proj = register_module("proj", torch::nn::Linear(dim, dim));
}

torch::Tensor VitAttentionImpl::forward(const torch::Tensor& x) {
  const int64_t B = x.size(0), N = x.size(1), C = x.size(2);
  auto qkv_out = torch::linear(x, qkv->weight, qkv->bias).view({B, N, 3, num_heads, C / num_heads})
                     .permute({2, 0, 3, 1, 4});  // [3,B,h,N,d]
  auto y = attention(qkv_out[0], qkv_out[1], qkv_out[2]);  // scale = d^-½ (timm default)
  y = y.transpose(1, 2).reshape({B, N, C});
  return torch::linear(y, proj->weight, proj->bias);
}

VitMlpImpl::VitMlpImpl(int64_t dim, int64_t hidden) {
  fc1 = register_module("fc1", torch::nn::Linear(dim, hidden));
  fc2 = register_module("fc2", torch::nn::Linear(hidden, dim));
}

torch::Tensor VitMlpImpl::forward(const torch::Tensor& x) {
  return torch::linear(torch::gelu(torch::linear(x, fc1->weight, fc1->bias)), fc2->weight, fc2->bias);
}

VitBlockImpl::VitBlockImpl(int64_t dim, int64_t heads, int64_t hidden, double ln_eps, double rate, uint64_t idx)
    : drop_path_rate(rate), index(idx) {
  norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(ln_eps)));
  attn = register_module("attn", VitAttention(dim, heads));
  norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(ln_eps)));
  mlp = register_module("mlp", VitMlp(dim, hidden));
}

torch::Tensor VitBlockImpl::forward(const torch::Tensor& x, const std::optional<DropPathKey>& key) {
  auto h = x + drop_path(attn->forward(norm1->forward(x)), drop_path_rate, is_training(), key, 2 * index);
  return h + drop_path(mlp->forward(norm2->forward(h)), drop_path_rate, is_training(), key, 2 * index + 1);
}

VisionTransformerImpl::VisionTransformerImpl(const VitOptions& o) : options_(o) {
  if (o.img_size % o.patch_size != 0 || o.embed_dim % o.num_heads != 0)
    fail("VitOptions: img_size {} must be a multiple of patch_size {} and embed_dim {} of num_heads {}", o.img_size,
         o.patch_size, o.embed_dim, o.num_heads);
  const int64_t g = o.img_size / o.patch_size;
  cls_token = register_parameter("cls_token", torch::zeros({1, 1, o.embed_dim}));
  pos_embed = register_parameter("pos_embed", torch::zeros({1, 1 + g * g, o.embed_dim}));
  patch_embed = register_module("patch_embed", PatchEmbed(o.in_chans, o.embed_dim, o.patch_size));
  blocks = register_module("blocks", torch::nn::ModuleList());
  const auto hidden = static_cast<int64_t>(std::llround(o.embed_dim * o.mlp_ratio));
  for (int64_t i = 0; i < o.depth; ++i) {
    const double rate = o.depth > 1 ? o.drop_path_rate * static_cast<double>(i) / static_cast<double>(o.depth - 1)
                                    : 0.0;  // linspace(0, rate, depth)
    blocks->push_back(VitBlock(o.embed_dim, o.num_heads, hidden, o.ln_eps, rate, static_cast<uint64_t>(i)));
  }
  norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.embed_dim}).eps(o.ln_eps)));
}

torch::Tensor VisionTransformerImpl::forward_features(const torch::Tensor& x) {
  if (x.dim() != 4 || x.size(1) != options_.in_chans || x.size(2) != options_.img_size ||
      x.size(3) != options_.img_size)
    fail("VisionTransformer input {}: expected [B,{},{},{}] (pos_embed grid {}×{} is fixed); resize or crop the "
         "images to {}×{}", fmt::format("{}", fmt::join(x.sizes().vec(), ",")), options_.in_chans, options_.img_size,
         options_.img_size, grid_size(), grid_size(), options_.img_size, options_.img_size);
  auto t = patch_embed->forward(x);
  t = torch::cat({cls_token.expand({t.size(0), -1, -1}), t}, 1) + pos_embed;
  for (const auto& m : *blocks) t = m->as<VitBlockImpl>()->forward(t, drop_path_key_);
  return norm->forward(t);
}

void VisionTransformerImpl::init_weights(uint64_t seed) {
  torch::NoGradGuard no_grad;
  init::trunc_normal_(pos_embed, 0.02, seed, "pos_embed");
  init::normal_(cls_token, 1e-6, seed, "cls_token");
  init::torch_default_(patch_embed->proj->weight, patch_embed->proj->bias, seed, "patch_embed.proj");
  for (auto& item : named_modules(/*name_prefix=*/"", /*include_self=*/false)) {
    if (auto* lin = item.value()->as<torch::nn::LinearImpl>()) {
      init::trunc_normal_(lin->weight, 0.02, seed, item.key() + ".weight");
      if (lin->bias.defined()) lin->bias.zero_();
    } else if (auto* ln = item.value()->as<torch::nn::LayerNormImpl>()) {
      ln->weight.fill_(1.0);
      ln->bias.zero_();
    }
  }
}

torch::Tensor resize_pos_embed(const torch::Tensor& pos_embed, int64_t new_grid, bool antialias) {
  const int64_t n = pos_embed.dim() == 3 ? pos_embed.size(1) - 1 : -1;
  const auto g = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(std::max<int64_t>(n, 0)))));
  if (pos_embed.dim() != 3 || pos_embed.size(0) != 1 || n < 1 || g * g != n)
    fail("pos_embed {}: expected [1, 1+g·g, C] (cls token + square grid); check the checkpoint",
         fmt::format("[{}]", fmt::join(pos_embed.sizes().vec(), ",")));
  if (g == new_grid) return pos_embed;
  const int64_t C = pos_embed.size(2);
  auto prefix = pos_embed.slice(1, 0, 1);
  auto grid = pos_embed.slice(1, 1).to(torch::kFloat32).reshape({1, g, g, C}).permute({0, 3, 1, 2});
  grid = F::interpolate(grid, F::InterpolateFuncOptions()
                                  .size(std::vector<int64_t>{new_grid, new_grid})
                                  .mode(torch::kBicubic)
                                  .align_corners(false)
                                  .antialias(antialias));
  grid = grid.permute({0, 2, 3, 1}).reshape({1, new_grid * new_grid, C}).to(pos_embed.scalar_type());
  return torch::cat({prefix, grid}, 1);
}

}  // namespace clcp
