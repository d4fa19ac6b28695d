// All-gather with gradient for a contrastive loss over the whole global batch (scaleout_reference.md §2.4, as
// OpenCLIP's gather_with_grad with local_loss): forward all-gathers each rank's [B, D] into [W·B, D] (rank r's rows
// at r·B); backward reduce-scatters (sums) the incoming [W·B, D] gradient, so rank r receives
// Σ_s ∂loss_s/∂(rows of r). With every rank's loss_s and the parameter gradients averaged over the W ranks afterwards,
// the gradient equals that of mean_s loss_s computed in one process on the W·B rows (derivation in §2.4).
#pragma once
#include <torch/torch.h>

#include "suite/dist/comm.hpp"

namespace clcp::dist {

/// x [B, D] (any float dtype, on comm.device(), the same B on every rank) → [W·B, D], differentiable as above.
/// World 1: returns x itself.
torch::Tensor gather_with_grad(Comm& comm, const torch::Tensor& x);

}  // namespace clcp::dist
