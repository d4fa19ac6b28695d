#include "models/lidar/voxelize.hpp"

#include "models/lidar/kernel_map.hpp"
#include "models/state_dict.hpp"
#include "suite/core/error.hpp"

namespace clcp::lidar {

VoxelBatch voxelize(const std::vector<torch::Tensor>& points, double voxel_size) {
  if (points.empty()) fail("voxelize: the batch holds no point clouds");
  if (!(voxel_size > 0)) fail("voxelize: voxel_size {} m, expected > 0", voxel_size);
  std::vector<torch::Tensor> feats, coords, p2v;
  VoxelBatch out;
  int64_t offset = 0;
  for (size_t b = 0; b < points.size(); ++b) {
    const auto& p = points[b];
    if (p.dim() != 2 || p.size(1) != 4 || !p.is_floating_point())
      fail("voxelize: sample {} is {} {}, expected float [N, 4] (x, y, z, reflectance)", b, shape_str(p),
           c10::toString(p.scalar_type()));
    if (p.size(0) == 0) fail("voxelize: sample {} has no points; the pair pipeline must drop empty crops", b);
    const auto xyz = p.narrow(1, 0, 3);
    if (!torch::isfinite(xyz).all().item<bool>()) fail("voxelize: sample {} holds a NaN/Inf coordinate", b);
    auto c = torch::round(xyz / voxel_size).to(torch::kLong);  // round half to even, as torch.round
    c = c - std::get<0>(c.min(0));
    const auto extent = std::get<0>(c.max(0));
    if (extent.max().item<int64_t>() >= kAxisLimit)
      fail("voxelize: sample {} spans {} voxels on one axis ({} m at {} m), more than {}; crop the cloud", b,
           extent.max().item<int64_t>() + 1, (extent.max().item<int64_t>() + 1) * voxel_size, voxel_size, kAxisLimit);
    // x most significant, as mmdet3d's mixed-radix hash; a stable sort keeps the lowest point index first.
    const auto key = (c.select(1, 0) * kAxisLimit + c.select(1, 1)) * kAxisLimit + c.select(1, 2);
    const auto [sorted, perm] = key.sort(/*stable=*/true, /*dim=*/0, /*descending=*/false);
    auto first = torch::ones_like(sorted, torch::kBool);
    if (sorted.size(0) > 1) first.narrow(0, 1, sorted.size(0) - 1).copy_(sorted.narrow(0, 1, sorted.size(0) - 1) !=
                                                                         sorted.narrow(0, 0, sorted.size(0) - 1));
    const auto rep = perm.masked_select(first);  // first point of each voxel, voxels in key order
    const int64_t v = rep.size(0);
    // voxel row of each point: cumulative count of voxel starts along the sorted order, scattered back
    const auto rank_sorted = first.to(torch::kLong).cumsum(0) - 1;
    auto rank = torch::empty_like(rank_sorted);
    rank.index_put_({perm}, rank_sorted);
    feats.push_back(p.index_select(0, rep).to(torch::kFloat));
    coords.push_back(torch::cat({c.index_select(0, rep), torch::full({v, 1}, static_cast<int64_t>(b), c.options())}, 1));
    p2v.push_back(rank + offset);
    out.voxels_per_sample.push_back(v);
    offset += v;
  }
  out.feats = torch::cat(feats);
  out.coords = torch::cat(coords);
  out.batch_index = out.coords.select(1, 3).contiguous();
  out.point_to_voxel = torch::cat(p2v);
  return out;
}

}  // namespace clcp::lidar
