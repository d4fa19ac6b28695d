// The contrastive objective of one data-parallel step (scaleout_reference.md §2.4). The global batch of B pairs is
// split by rank without overlap: rank r holds rows [r·b, (r+1)·b) with b = B / W. Each rank returns its term loss_r;
// the step's loss is mean_r loss_r, and with the parameter gradients averaged over the ranks
// (dist::average_gradients) every rank holds the gradient of that mean. Two settings, recorded in the cell's spec:
//   local   loss_r = info_nce over the rank's own b pairs (negatives per query: b − 1). What the thesis's Lightning
//           DDP did (clcp_reference.md §1.6): the objective changes with W.
//   global  the embeddings are all-gathered with gradient (dist::gather_with_grad: backward = reduce-scatter sum);
//           rank r's b image queries are scored against all B lidar keys and its b lidar queries against all B image
//           keys, labels r·b + i: loss_r = ½ (CE_img→lid + CE_lid→img), each a mean over the b rows (negatives per
//           query: B − 1). mean_r loss_r is the single-process loss on the B pairs (as OpenCLIP's local_loss +
//           gather_with_grad), so loss and gradients equal one process with batch B up to float rounding — as long
//           as nothing else couples the samples of a batch (BatchNorm in train mode computes its statistics per rank).
// World 1: both are the single-process info_nce (models/clcp/info_nce.hpp), bit for bit.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "suite/dist/comm.hpp"

namespace clcp {

/// The symmetric InfoNCE of b query pairs against N key pairs: q_img, q_lid [b, D], k_img, k_lid [N, D] (normalised
/// inside), scale 0-dim; query i's positive is key row `offset` + i. b = N, offset 0 gives info_nce's value.
torch::Tensor info_nce_rows(const torch::Tensor& q_img, const torch::Tensor& q_lid, const torch::Tensor& k_img,
                            const torch::Tensor& k_lid, const torch::Tensor& scale, int64_t offset);

/// This rank's term loss_r (see above) from its b rows z_img, z_lid [b, D]. negatives "local" | "global" (UserError
/// otherwise).
torch::Tensor rank_contrastive_loss(dist::Comm& comm, const torch::Tensor& z_img, const torch::Tensor& z_lid,
                                    const torch::Tensor& scale, const std::string& negatives);

/// Negatives each query is scored against: global B − 1, local B / W − 1.
int64_t negatives_per_query(int64_t batch, int world, const std::string& negatives);

}  // namespace clcp
