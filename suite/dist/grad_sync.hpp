// What DDP does around the optimiser step, written out (scaleout_reference.md §2.2): parameters and buffers broadcast
// from rank 0, gradients summed over the ranks in flat buckets and divided by W. Tensors are packed in the order
// given, consecutive tensors of one dtype and device sharing a bucket of at most bucket_bytes (one bigger tensor gets
// a bucket of its own), so every rank issues the same collectives in the same order.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "suite/dist/comm.hpp"

namespace clcp::dist {

constexpr int64_t kBucketBytes = 25 * 1024 * 1024;  ///< DDP's default bucket_cap_mb = 25

/// Every tensor := root's values, in place (no autograd). World 1: nothing.
void broadcast_tensors(Comm& comm, const std::vector<torch::Tensor>& tensors, int root = 0,
                       int64_t bucket_bytes = kBucketBytes);
/// The module's parameters and then its buffers (named order, recursive) from root.
void broadcast_module(Comm& comm, torch::nn::Module& module, int root = 0);
/// The module's buffers only (BatchNorm running_mean/var, num_batches_tracked) from root.
void broadcast_buffers(Comm& comm, torch::nn::Module& module, int root = 0);

/// After backward, on every rank with the same `params` list: p.grad := (Σ_r p.grad_r) / W. A gradient that is
/// undefined on some rank counts as zeros there; a parameter gets the averaged gradient on every rank when at least
/// one rank had one and stays without one when none had (one small all-reduce of the "has a gradient" flags comes
/// first, so the optimiser steps the same parameters everywhere). World 1: nothing.
void average_gradients(Comm& comm, const std::vector<torch::Tensor>& params, int64_t bucket_bytes = kBucketBytes);

}  // namespace clcp::dist
