// Multi-head scaled dot-product attention for the ViT blocks and the Segmenter mask head.
#pragma once
#include <torch/torch.h>

namespace clcp {

/// softmax(q·kᵀ·d^-½)·v for q, k, v of shape [B, heads, N, d] (same dtype and device) → [B, heads, N, d], no mask, no
/// dropout. The formula is fixed; the kernel is chosen for speed:
///   - LibTorch's fused scaled_dot_product_attention (its CPU flash kernel) in fp32 and on CUDA;
///   - on the CPU in bfloat16 (bf16 inputs, which is what bf16 autocast's linear layers produce) the unfused form,
///     as timm 1.0's Attention with fused_attn=False: q·d^-½, then q·kᵀ, softmax over the last axis, then ·v. Forward +
///     backward of [8, 6, 197, 64] take 8.4 ms against the flash kernel's 20.9 ms (AMD EPYC, avx512_bf16, 2
///     threads; docs/performance.md#where-a-train-step-spends-its-time); in fp32 the flash kernel is the faster one.
torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v);

}  // namespace clcp
