#include "models/clcp/info_nce.hpp"

#include <cmath>

#include "models/state_dict.hpp"
#include "suite/core/error.hpp"

namespace clcp {

torch::Tensor logit_scale(const torch::Tensor& param, const std::string& form) {
  if (form == "inv_exp") return torch::exp(-param);
  if (form == "clip") return torch::exp(param);
  fail("temperature form \"{}\": expected \"inv_exp\" or \"clip\"", form);
}

double effective_tau(const torch::Tensor& param, const std::string& form) {
  return 1.0 / logit_scale(param.detach().to(torch::kDouble), form).item<double>();
}

torch::Tensor info_nce_logits(const torch::Tensor& z_img, const torch::Tensor& z_lid, const torch::Tensor& scale) {
  if (z_img.dim() != 2 || z_img.sizes() != z_lid.sizes() || z_img.size(0) < 1)
    fail("info_nce: image embeddings {} and lidar embeddings {} must both be [B, D] with B ≥ 1", shape_str(z_img),
         shape_str(z_lid));
  namespace F = torch::nn::functional;
  const auto a = F::normalize(z_img, F::NormalizeFuncOptions().dim(1));
  const auto b = F::normalize(z_lid, F::NormalizeFuncOptions().dim(1));
  return scale * a.mm(b.t());
}

torch::Tensor info_nce(const torch::Tensor& z_img, const torch::Tensor& z_lid, const torch::Tensor& scale) {
  const auto logits = info_nce_logits(z_img, z_lid, scale);
  const auto labels = torch::arange(logits.size(0), torch::TensorOptions(torch::kLong).device(logits.device()));
  return 0.5 * (torch::nn::functional::cross_entropy(logits, labels) +
                torch::nn::functional::cross_entropy(logits.t(), labels));
}

double info_nce_floor(double scale, int64_t batch) {
  return std::log1p(static_cast<double>(batch - 1) * std::exp(-2.0 * scale));
}

void clamp_temperature(torch::Tensor& param, const std::string& form) {
  if (form != "clip") return;
  torch::NoGradGuard ng;
  param.clamp_(0.0, std::log(100.0));
}

}  // namespace clcp
