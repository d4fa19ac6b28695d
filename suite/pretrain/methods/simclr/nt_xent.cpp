#include "suite/pretrain/methods/simclr/nt_xent.hpp"

#include <limits>

#include "models/state_dict.hpp"
#include "suite/core/error.hpp"

namespace clcp {
namespace F = torch::nn::functional;

torch::Tensor nt_xent_rows(const torch::Tensor& q_a, const torch::Tensor& q_b, const torch::Tensor& k_a,
                           const torch::Tensor& k_b, double tau, int64_t offset) {
  if (q_a.dim() != 2 || q_a.sizes() != q_b.sizes() || k_a.dim() != 2 || k_a.sizes() != k_b.sizes() ||
      q_a.size(1) != k_a.size(1) || q_a.size(0) < 1 || k_a.size(0) < 2 || offset < 0 ||
      offset + q_a.size(0) > k_a.size(0))
    fail("nt_xent: queries {} / {} and keys {} / {} at offset {}: expected [b, D] queries, [N, D] keys, N >= 2 and "
         "offset + b <= N", shape_str(q_a), shape_str(q_b), shape_str(k_a), shape_str(k_b), offset);
  if (!(tau > 0)) fail("nt_xent: temperature {} must be > 0", tau);
  const int64_t b = q_a.size(0), n = k_a.size(0);
  const auto norm = F::NormalizeFuncOptions().dim(1);
  const auto q = torch::cat({F::normalize(q_a, norm), F::normalize(q_b, norm)});  // [2b, D]
  const auto k = torch::cat({F::normalize(k_a, norm), F::normalize(k_b, norm)});  // [2N, D]
  const auto opts = torch::TensorOptions(torch::kLong).device(q.device());
  const auto rows = torch::arange(offset, offset + b, opts);
  const auto self = torch::cat({rows, rows + n});      // each query's own key column
  const auto positive = torch::cat({rows + n, rows});  // the other view of its image
  auto logits = q.mm(k.t()) / tau;
  const auto mask = torch::zeros_like(logits, torch::kBool).scatter_(1, self.unsqueeze(1), true);
  logits = logits.masked_fill(mask, -std::numeric_limits<double>::infinity());
  return F::cross_entropy(logits, positive);
}

torch::Tensor nt_xent(const torch::Tensor& z_a, const torch::Tensor& z_b, double tau) {
  if (z_a.dim() != 2 || z_a.size(0) < 2)
    fail("nt_xent: embeddings {}: expected [N, D] with N >= 2 (each query needs a negative)", shape_str(z_a));
  return nt_xent_rows(z_a, z_b, z_a, z_b, tau, 0);
}

double positive_pair_accuracy(const torch::Tensor& z_a, const torch::Tensor& z_b) {
  torch::NoGradGuard ng;
  const auto norm = F::NormalizeFuncOptions().dim(1);
  const auto z = torch::cat({F::normalize(z_a.to(torch::kDouble), norm), F::normalize(z_b.to(torch::kDouble), norm)});
  const int64_t n = z_a.size(0);
  auto sim = z.mm(z.t());
  sim.fill_diagonal_(-std::numeric_limits<double>::infinity());
  const auto best = sim.argmax(1);
  const auto idx = torch::arange(2 * n, torch::kLong);
  const auto positive = torch::remainder(idx + n, 2 * n);
  return best.eq(positive).to(torch::kDouble).mean().item<double>();
}

double normalised_std(const torch::Tensor& z_a, const torch::Tensor& z_b) {
  torch::NoGradGuard ng;
  const auto norm = F::NormalizeFuncOptions().dim(1);
  const auto z = torch::cat({F::normalize(z_a.to(torch::kDouble), norm), F::normalize(z_b.to(torch::kDouble), norm)});
  return z.std(0, /*unbiased=*/true).mean().item<double>();
}

}  // namespace clcp
