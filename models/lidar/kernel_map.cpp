#include "models/lidar/kernel_map.hpp"

#include "models/state_dict.hpp"
#include "suite/core/error.hpp"

namespace clcp::lidar {

namespace {

// Rows of `query` keys found in `keys` (any order, unique): the row index into `keys`, or −1. `valid` marks queries
// whose coordinates were inside the packing range (others cannot exist and are −1).
torch::Tensor lookup(const torch::Tensor& keys, const torch::Tensor& query, const torch::Tensor& valid) {
  const auto [sorted, order] = keys.sort();
  const int64_t n = keys.size(0);
  auto pos = torch::searchsorted(sorted, query).clamp_max(n - 1);
  auto found = sorted.index_select(0, pos.flatten()).view_as(query).eq(query).logical_and_(valid);
  return torch::where(found, order.index_select(0, pos.flatten()).view_as(query), torch::full_like(query, -1));
}

}  // namespace

void check_coords(const torch::Tensor& coords, const char* what) {
  if (coords.dim() != 2 || coords.size(1) != 4 || coords.is_floating_point() || coords.is_complex())
    fail("{}: expected integer coordinates [N, 4] (x, y, z, b), got {} {}", what, shape_str(coords),
         c10::toString(coords.scalar_type()));
  if (coords.size(0) == 0) return;
  const auto c = coords.to(torch::kLong);
  const auto lo = std::get<0>(c.min(0)), hi = std::get<0>(c.max(0));
  for (int a = 0; a < 3; ++a)
    if (lo[a].item<int64_t>() < 0 || hi[a].item<int64_t>() >= kAxisLimit)
      fail("{}: voxel coordinate {} spans [{}, {}], expected [0, {}); subtract the per-sample minimum (voxelize does)",
           what, "xyz"[a], lo[a].item<int64_t>(), hi[a].item<int64_t>(), kAxisLimit);
  if (lo[3].item<int64_t>() < 0 || hi[3].item<int64_t>() >= kBatchLimit)
    fail("{}: batch index spans [{}, {}], expected [0, {}); split the batch", what, lo[3].item<int64_t>(),
         hi[3].item<int64_t>(), kBatchLimit);
}

torch::Tensor pack_keys(const torch::Tensor& c) {
  const auto l = c.to(torch::kLong);
  return ((l.select(1, 3) * kAxisLimit + l.select(1, 0)) * kAxisLimit + l.select(1, 1)) * kAxisLimit + l.select(1, 2);
}

torch::Tensor unpack_keys(const torch::Tensor& keys) {
  const auto z = keys.remainder(kAxisLimit);
  const auto y = keys.div(kAxisLimit, "floor").remainder(kAxisLimit);
  const auto x = keys.div(kAxisLimit * kAxisLimit, "floor").remainder(kAxisLimit);
  const auto b = keys.div(kAxisLimit * kAxisLimit * kAxisLimit, "floor");
  return torch::stack({x, y, z, b}, 1);
}

std::vector<std::array<int64_t, 3>> kernel_offsets(int64_t kernel_size) {
  std::vector<std::array<int64_t, 3>> off;
  if (kernel_size == 3) {
    for (int64_t dz = -1; dz <= 1; ++dz)
      for (int64_t dy = -1; dy <= 1; ++dy)
        for (int64_t dx = -1; dx <= 1; ++dx) off.push_back({dx, dy, dz});
  } else if (kernel_size == 2) {
    for (int64_t dx = 0; dx <= 1; ++dx)
      for (int64_t dy = 0; dy <= 1; ++dy)
        for (int64_t dz = 0; dz <= 1; ++dz) off.push_back({dx, dy, dz});
  } else if (kernel_size == 1) {
    off.push_back({0, 0, 0});
  } else {
    fail("kernel_size {}: MinkUNet uses only 1, 2 and 3", kernel_size);
  }
  return off;
}

KernelMap submanifold_map(const torch::Tensor& coords, int64_t stride) {
  check_coords(coords, "submanifold_map");
  KernelMap m;
  const int64_t n = coords.size(0);
  m.n_in = m.n_out = n;
  if (n == 0) return m;
  const auto c = coords.to(torch::kLong);
  const auto keys = pack_keys(c);
  const auto opts = c.options();
  const auto offs = kernel_offsets(3);
  std::vector<int64_t> flat;
  for (const auto& o : offs) flat.insert(flat.end(), {o[0] * stride, o[1] * stride, o[2] * stride, 0});
  const auto delta = torch::tensor(flat, torch::kLong).view({27, 1, 4}).to(c.device());
  const auto q = c.unsqueeze(0) + delta;                                       // [27, N, 4]
  const auto xyz = q.narrow(2, 0, 3);
  const auto valid = xyz.ge(0).all(2).logical_and(xyz.lt(kAxisLimit).all(2));  // [27, N]
  const auto qk = pack_keys(q.clamp(0, kAxisLimit - 1).view({27 * n, 4})).view({27, n});
  const auto found = lookup(keys, qk, valid);                                  // [27, N] input row or −1
  const auto rows = torch::arange(n, opts);
  m.centre_identity = true;
  m.offsets.push_back({13, rows, rows});
  for (int64_t k = 0; k < 27; ++k) {
    if (k == 13) continue;
    const auto hit = found[k].ge(0);
    const auto out_rows = hit.nonzero().flatten();  // ascending output rows
    if (out_rows.numel() == 0) continue;
    m.offsets.push_back({k, found[k].index_select(0, out_rows), out_rows});
  }
  return m;
}

DownsampleMap downsample_map(const torch::Tensor& coords, int64_t stride) {
  check_coords(coords, "downsample_map");
  DownsampleMap m;
  const auto c = coords.to(torch::kLong);
  const int64_t n = c.size(0);
  const auto xyz = c.narrow(1, 0, 3);
  const auto pxyz = xyz.div(2 * stride, "floor") * (2 * stride);
  const auto parents = torch::cat({pxyz, c.narrow(1, 3, 1)}, 1);
  const auto bits = (xyz - pxyz).div(stride, "floor");  // each 0 or 1 (coords are multiples of stride)
  m.child = bits.select(1, 0) * 4 + bits.select(1, 1) * 2 + bits.select(1, 2);
  if (n == 0) {
    m.out_coords = parents;
    m.parent = torch::empty({0}, c.options());
    return m;
  }
  const auto [uniq, inverse, counts] = at::_unique2(pack_keys(parents), /*sorted=*/true, /*return_inverse=*/true);
  m.out_coords = unpack_keys(uniq);
  m.parent = inverse;
  for (int64_t k = 0; k < 8; ++k) {
    const auto in_rows = m.child.eq(k).nonzero().flatten();
    if (in_rows.numel() == 0) continue;
    m.offsets.push_back({k, in_rows, m.parent.index_select(0, in_rows)});
  }
  return m;
}

}  // namespace clcp::lidar
