// Voxelisation of point clouds for MinkUNet, as mmdet3d 1.4.0's `Det3DDataPreprocessor` with voxel_type 'minkunet'
// (sparse_conv_reference.md §2.2; clcp_reference.md §1.6, the thesis's voxelize.py):
//   per sample: c = round(xyz / voxel_size) (ties to even, torch.round), c −= c.min(0); one voxel per distinct c,
//   whose feature is the FIRST point (lowest index) in it (not an average); voxels sorted lexicographically by
//   (x, y, z) (mmdet3d's mixed-radix hash with x most significant + np.unique); the batch index appended as the LAST
//   coordinate column (batch_first=False); samples concatenated in order.
// No range filter and no max_voxels (declared but never applied in the thesis config).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace clcp::lidar {

struct VoxelBatch {
  torch::Tensor feats;                  ///< [V, 4] float32: (x, y, z, reflectance) of each voxel's first point, metres
  torch::Tensor coords;                 ///< [V, 4] int64 (x, y, z, b), voxel units, per-sample minimum 0
  std::vector<int64_t> voxels_per_sample;  ///< V_b per sample; Σ = V; rows of sample b are contiguous
  torch::Tensor batch_index;            ///< [V] int64 = coords[:, 3]
  torch::Tensor point_to_voxel;         ///< [Σ N_b] int64: the row of each input point's voxel (mmdet3d point2voxel_map)
};

/// points: B tensors [N_b, 4] float32 (x, y, z, reflectance), metres, on one device; voxel_size in metres (0.05).
/// Throws UserError naming the sample when a cloud is empty, not [N, 4] float, holds a non-finite coordinate, or
/// spans more than the kernel-map packing allows (2^18 voxels per axis).
VoxelBatch voxelize(const std::vector<torch::Tensor>& points, double voxel_size = 0.05);

}  // namespace clcp::lidar
