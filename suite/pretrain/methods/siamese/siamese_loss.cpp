#include "suite/pretrain/methods/siamese/siamese_loss.hpp"

#include <cmath>

#include "models/state_dict.hpp"
#include "suite/core/error.hpp"

namespace clcp::siamese {
namespace F = torch::nn::functional;

namespace {
void check_pair(const torch::Tensor& p, const torch::Tensor& z, const char* what) {
  if (p.dim() != 2 || p.sizes() != z.sizes() || p.size(0) < 1)
    fail("{}: predictions {} and targets {}: expected two [N, D] tensors of the same shape, N >= 1", what,
         shape_str(p), shape_str(z));
}
double pi() { return std::acos(-1.0); }
}  // namespace

torch::Tensor negative_cosine(const torch::Tensor& p, const torch::Tensor& z) {
  check_pair(p, z, "negative_cosine");
  return -F::cosine_similarity(p, z.detach(), F::CosineSimilarityFuncOptions().dim(1).eps(1e-8)).mean();
}

torch::Tensor simsiam_loss(const torch::Tensor& p1, const torch::Tensor& p2, const torch::Tensor& z1,
                           const torch::Tensor& z2) {
  return 0.5 * (negative_cosine(p1, z2) + negative_cosine(p2, z1));
}

torch::Tensor fastsiam_loss(const std::vector<torch::Tensor>& p, const std::vector<torch::Tensor>& z) {
  const auto m = static_cast<int64_t>(p.size());
  if (m < 2 || z.size() != p.size())
    fail("fastsiam_loss: {} predictions and {} targets: expected M >= 2 views of each", p.size(), z.size());
  torch::Tensor sum;
  for (int64_t j = 0; j < m; ++j)
    for (int64_t k = 0; k < m; ++k) {
      if (j == k) continue;
      const auto d = negative_cosine(p[static_cast<size_t>(j)], z[static_cast<size_t>(k)]);
      sum = sum.defined() ? sum + d : d;
    }
  return sum / static_cast<double>(m * (m - 1));
}

torch::Tensor byol_loss(const torch::Tensor& p1, const torch::Tensor& p2, const torch::Tensor& t1,
                        const torch::Tensor& t2) {
  return 4.0 + 2.0 * (negative_cosine(p1, t2) + negative_cosine(p2, t1));
}

DisiamTerms disiam_loss(const std::vector<torch::Tensor>& p_online, const std::vector<torch::Tensor>& p_assistant,
                        const std::vector<torch::Tensor>& z_assistant) {
  if (p_online.size() != z_assistant.size())
    fail("disiam_loss: {} online predictions for {} views of the assistant", p_online.size(), z_assistant.size());
  DisiamTerms t;
  // ½·D_x = ½ · 2·fastsiam = fastsiam: the per-branch terms are FastSiam averages (SimSiam's loss for M = 2).
  t.online = fastsiam_loss(p_online, z_assistant);
  t.assistant = fastsiam_loss(p_assistant, z_assistant);
  t.loss = t.online + t.assistant;
  return t;
}

double cosine_schedule(int64_t step, int64_t max_steps, double start, double end) {
  if (step < 0 || max_steps < 0) fail("cosine_schedule: step {} and max_steps {} must be >= 0", step, max_steps);
  if (max_steps <= 1 || step >= max_steps - 1) return end;
  return end - (end - start) * (std::cos(pi() * static_cast<double>(step) / static_cast<double>(max_steps - 1)) + 1) /
                   2;
}

void ema_update(const std::vector<torch::Tensor>& target, const std::vector<torch::Tensor>& online, double tau) {
  if (target.size() != online.size())
    fail("ema_update: {} target tensors for {} online tensors", target.size(), online.size());
  torch::NoGradGuard ng;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i].sizes() != online[i].sizes())
      fail("ema_update: tensor {}: target {} and online {} differ in shape", i, shape_str(target[i]),
           shape_str(online[i]));
    target[i].mul_(tau).add_(online[i], 1.0 - tau);
  }
}

}  // namespace clcp::siamese
