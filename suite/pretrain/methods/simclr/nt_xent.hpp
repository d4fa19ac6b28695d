// NT-Xent, SimCLR's loss (Chen et al. 2020, Eq. 1; methods_reference.md §3.1), as lightly 1.6.0's NTXentLoss without
// a memory bank: the 2N projections of N images (two views each) are L2-normalised; each of the 2N views is a query
// whose positive is the other view of its image and whose negatives are the other 2N − 2 views; the loss is the mean
// over the 2N queries of −log softmax(cos / τ) at the positive (the query itself is excluded from the softmax).
// Chance level (every similarity equal): ln(2N − 1).
//
// Data parallel (rows): rank r holds views a and b of images [r·b, (r+1)·b) of the global batch of N; with keys
// gathered from every rank (dist::gather_with_grad) its 2b queries are scored against all 2N keys, so that the mean of
// the rank terms is the one-process loss on N images (global negatives, as lightly's gather_distributed=True).
#pragma once
#include <torch/torch.h>

#include <cstdint>

namespace clcp {

/// z_a, z_b [N, D] (any float dtype): the loss above (0-dim, differentiable). Throws UserError for N < 2, mismatched
/// shapes or tau <= 0.
torch::Tensor nt_xent(const torch::Tensor& z_a, const torch::Tensor& z_b, double tau);

/// The rank term: queries q_a, q_b [b, D] are rows [offset, offset + b) of keys k_a, k_b [N, D]. b = N, offset 0 is
/// nt_xent's value.
torch::Tensor nt_xent_rows(const torch::Tensor& q_a, const torch::Tensor& q_b, const torch::Tensor& k_a,
                           const torch::Tensor& k_b, double tau, int64_t offset);

/// The fraction of the 2N queries whose most similar other view (cosine) is their positive; chance 1 / (2N − 1).
double positive_pair_accuracy(const torch::Tensor& z_a, const torch::Tensor& z_b);

/// The collapse monitor (solo-learn's z_std, methods_reference.md §5 item 6): the mean over dimensions of the std
/// over the 2N rows of the L2-normalised projections. ≈ 1/√D for well-spread embeddings, 0 when all are equal.
double normalised_std(const torch::Tensor& z_a, const torch::Tensor& z_b);

}  // namespace clcp
