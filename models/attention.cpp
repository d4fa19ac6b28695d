#include "models/attention.hpp"

#include <cmath>

namespace clcp {

torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  if (!(q.is_cpu() && q.scalar_type() == torch::kBFloat16)) return at::scaled_dot_product_attention(q, k, v);
  // timm's unfused order (scale q first), so that bf16 results equal timm's with fused_attn=False bit for bit
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  return torch::matmul(q * scale, k.transpose(-2, -1)).softmax(-1).matmul(v);
}

}  // namespace clcp
