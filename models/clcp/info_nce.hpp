// Symmetric InfoNCE of CLCP (clcp_reference.md §1.7) and its temperature parameterisations
// (pretraining_anchors.md §1.2, §6):
//   z_img, z_lid L2-normalised along the last dim; logits = scale · z_img · z_lidᵀ [B, B]; labels = arange(B);
//   loss = ½ (CE(logits, labels) + CE(logitsᵀ, labels)), each cross-entropy a mean over the B rows.
//   scale by form:  "inv_exp"  scale = exp(−t)  (logits / exp(t), the thesis's code; t₀ = 0.07 → τ_eff = e^0.07 ≈ 1.07)
//                   "clip"     scale = exp(s)   (OpenCLIP; s₀ = ln(1/0.07); s clamped to [0, ln 100] after each step)
// With scale σ the lowest loss B pairs can reach is ln(1 + (B − 1)·e^(−2σ)) (perfectly aligned pairs at cosine 1 and
// every negative at cosine −1) — the "loss floor" logged with the temperature.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace clcp {

/// The multiplicative logit scale of the raw temperature parameter `param` (0-dim) under `form`; differentiable.
/// Throws UserError for another form.
torch::Tensor logit_scale(const torch::Tensor& param, const std::string& form);
/// Effective temperature τ = 1 / scale as a number.
double effective_tau(const torch::Tensor& param, const std::string& form);

/// z_img, z_lid [B, D] (any float dtype; normalised inside), scale 0-dim → 0-dim loss. B ≥ 1; throws UserError for
/// mismatched shapes.
torch::Tensor info_nce(const torch::Tensor& z_img, const torch::Tensor& z_lid, const torch::Tensor& scale);
/// The B×B logits the loss uses (scale · normalised z_img · normalised z_lidᵀ).
torch::Tensor info_nce_logits(const torch::Tensor& z_img, const torch::Tensor& z_lid, const torch::Tensor& scale);

/// ln(1 + (B − 1)·e^(−2·scale)).
double info_nce_floor(double scale, int64_t batch);

/// The OpenCLIP clamp for form "clip": s ← clamp(s, 0, ln 100), in place, without autograd. A no-op for "inv_exp".
void clamp_temperature(torch::Tensor& param, const std::string& form);

}  // namespace clcp
