// The losses of the Siamese family (methods_reference.md §3.1), with D(p, z) = −cos(p, z) averaged over the rows, as
// lightly 1.6.0's NegativeCosineSimilarity (torch cosine_similarity, eps 1e-8). "sg" is the stop-gradient (detach).
// Every function takes [N, D] rows of any float dtype and returns a 0-dim tensor that is differentiable in the
// predictions p only; the targets z are always detached inside. Shape errors throw UserError.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace clcp::siamese {

/// D(p, z) = −mean_rows cos(p_i, sg z_i), in [−1, 1]; −1 when every prediction points at its target.
torch::Tensor negative_cosine(const torch::Tensor& p, const torch::Tensor& z);

/// SimSiam (Chen & He 2021, Alg. 1): ½·[D(p1, sg z2) + D(p2, sg z1)], with the ½ of facebookresearch/simsiam's
/// main_simsiam.py (the thesis's Alg. 3 drops it, doubling the step: methods_reference.md §5 item 10). Range [−1, 1];
/// an uninformed model scores ≈ 0, a collapsed one −1.
torch::Tensor simsiam_loss(const torch::Tensor& p1, const torch::Tensor& p2, const torch::Tensor& z1,
                           const torch::Tensor& z2);

/// FastSiam averaging over M ≥ 2 views (methods_reference.md §3.1, Alg. 4): −1/(M(M−1)) Σ_{j≠k} cos(p_j, sg z_k).
/// M = 2 is simsiam_loss.
torch::Tensor fastsiam_loss(const std::vector<torch::Tensor>& p, const std::vector<torch::Tensor>& z);

/// BYOL (Grill et al. 2020): the symmetrised regression of the online predictions onto the EMA target's projections
/// of the other view, Σ over both directions of ‖p̄ − z̄‖² = 2 − 2·cos: (2 − 2·cos(p1, sg t2)) + (2 − 2·cos(p2, sg t1)),
/// averaged over the rows. Range [0, 8]; an uninformed model scores ≈ 4, a perfect one 0. Equals 4 + 4·lightly's
/// 0.5·(NegativeCosineSimilarity(p1, t2) + NegativeCosineSimilarity(p2, t1)).
torch::Tensor byol_loss(const torch::Tensor& p1, const torch::Tensor& p2, const torch::Tensor& t1,
                        const torch::Tensor& t2);

/// DiSiam (Hierhager §3.3, Eq. 3.2–3.5): the target is the assistant under stop-gradient; with
/// D_x = 2/(M(M−1)) · Σ_{j≠k} D(p_j^x, sg z_k^assistant) for x ∈ {online, assistant} (M = 2: D(p1, sg z2) + D(p2, sg z1),
/// Eq. 3.3–3.4), L = ½·(D_online + D_assistant). Its assistant term ½·D_assistant is simsiam_loss on the assistant
/// alone (fastsiam_loss for M > 2: DiSiam+, Alg. 7). p_online and p_assistant hold one [N, D] tensor per view (D is
/// the assistant's projection width: the online head outputs it).
struct DisiamTerms {
  torch::Tensor loss, online, assistant;  ///< L, ½·D_online, ½·D_assistant (loss = online + assistant)
};
DisiamTerms disiam_loss(const std::vector<torch::Tensor>& p_online, const std::vector<torch::Tensor>& p_assistant,
                        const std::vector<torch::Tensor>& z_assistant);

/// lightly 1.6.0's cosine_schedule(step, max_steps, start, end) without period: end − (end − start)·(cos(π·step /
/// (max_steps − 1)) + 1)/2, and `end` from step max_steps − 1 on (and when max_steps ≤ 1). BYOL's momentum τ_k from
/// 0.996 to 1 over the run's optimizer steps.
double cosine_schedule(int64_t step, int64_t max_steps, double start, double end);

/// The EMA update of BYOL's target, ξ ← τ·ξ + (1 − τ)·θ, in place and without autograd, tensor by tensor in the given
/// order (lightly's update_momentum). Shapes must match pairwise (UserError otherwise).
void ema_update(const std::vector<torch::Tensor>& target, const std::vector<torch::Tensor>& online, double tau);

}  // namespace clcp::siamese
