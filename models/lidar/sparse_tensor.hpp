// Sparse voxel tensors with torchsparse 1.4.0 semantics (sparse_conv_reference.md §1.1): features [N, C] on a set of
// integer voxel coordinates [N, 4] = (x, y, z, b) with the batch index LAST; at tensor stride s the coordinates stay
// in level-0 voxel units and are multiples of s (never divided). Every tensor derived from one input shares a
// SparseContext that caches, per stride, the coordinate set and the kernel maps (torchsparse's cmaps/kmaps), so each
// level's maps are built once per forward and reused by every convolution at that level, and a transposed
// convolution finds the coordinates and map of the matching downsampling.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>

#include "models/lidar/kernel_map.hpp"

namespace clcp::lidar {

/// Per-forward cache shared by all tensors derived from one input (torchsparse `cmaps` / `kmaps`).
struct SparseContext {
  std::map<int64_t, torch::Tensor> coords;        ///< stride → int64 [N_s, 4] coordinates (x, y, z, b)
  std::map<int64_t, KernelMap> submanifold;       ///< stride → the 3×3×3 stride-1 map at that stride
  std::map<int64_t, DownsampleMap> downsample;    ///< input stride s → the 2×2×2 stride-2 map s → 2s
  int64_t macs = 0;  ///< multiply-accumulates of every convolution run on this context (Σ pairs · Cin · Cout)
  double map_seconds = 0;  ///< wall time spent building kernel maps (for speed breakdowns)
};

struct SparseTensor {
  torch::Tensor feats;   ///< [N, C] float (float32 in the product; float64 in tests)
  torch::Tensor coords;  ///< [N, 4] int64 (x, y, z, b); x, y, z ≥ 0, multiples of `stride`; same device as feats
  int64_t stride = 1;    ///< tensor stride (1, 2, 4, 8, 16)
  std::shared_ptr<SparseContext> ctx;

  /// A new tensor at stride 1 with a fresh context. feats [N, C] float, coords [N, 4] integer (x, y, z, b) with
  /// 0 ≤ x, y, z < 2^18 and 0 ≤ b < 512 (kernel_map.hpp's key packing). Throws UserError for other shapes or ranges.
  static SparseTensor from_voxels(torch::Tensor feats, torch::Tensor coords);

  /// Same coordinates, stride and context, other features (ReLU, BatchNorm, residual sums).
  SparseTensor with_feats(torch::Tensor f) const { return SparseTensor{std::move(f), coords, stride, ctx}; }
};

/// torchsparse.cat: features concatenated along channels in argument order, coordinates of `a` (unchecked in
/// torchsparse; here both must have the same row count and stride, else UserError).
SparseTensor cat_feats(const SparseTensor& a, const SparseTensor& b);

}  // namespace clcp::lidar
