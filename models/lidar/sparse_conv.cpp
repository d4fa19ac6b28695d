#include "models/lidar/sparse_conv.hpp"

#include <cmath>

#include "models/init.hpp"
#include "models/state_dict.hpp"
#include "suite/core/error.hpp"

namespace clcp::lidar {

namespace {

// out (zeros or a first dense term) += Σ over offsets of in[in_rows] · W[k] scattered to out_rows.
torch::Tensor gather_gemm_scatter(torch::Tensor out, const torch::Tensor& in, const torch::Tensor& kernel,
                                  const std::vector<OffsetPairs>& offsets, bool swap_rows, size_t first,
                                  int64_t& macs) {
  for (size_t j = first; j < offsets.size(); ++j) {
    const auto& p = offsets[j];
    macs += p.in_rows.size(0) * kernel.size(1) * kernel.size(2);
    const auto& src = swap_rows ? p.out_rows : p.in_rows;
    const auto& dst = swap_rows ? p.in_rows : p.out_rows;
    out = out.index_add(0, dst, in.index_select(0, src).mm(kernel[p.k]));
  }
  return out;
}

const DownsampleMap& cached_downsample(const SparseTensor& x) {
  auto& cache = x.ctx->downsample;
  auto it = cache.find(x.stride);
  if (it == cache.end()) {
    it = cache.emplace(x.stride, downsample_map(x.coords, x.stride)).first;
    x.ctx->coords.emplace(2 * x.stride, it->second.out_coords);
  }
  return it->second;
}

}  // namespace

SparseTensor sparse_conv3d(const SparseTensor& x, const torch::Tensor& kernel, const SparseConvOptions& o) {
  if (!x.ctx) fail("sparse_conv3d: the input has no context; build it with SparseTensor::from_voxels");
  const int64_t cin = o.kernel_size == 1 ? kernel.size(0) : kernel.size(1);
  if (x.feats.size(1) != cin)
    fail("sparse_conv3d: input has {} channels, the kernel {} expects {}", x.feats.size(1), shape_str(kernel), cin);
  const int64_t cout = kernel.size(-1);
  if (o.kernel_size == 1) {
    x.ctx->macs += x.feats.size(0) * kernel.size(0) * kernel.size(1);
    return x.with_feats(x.feats.mm(kernel));
  }

  if (o.kernel_size == 3) {
    auto& cache = x.ctx->submanifold;
    auto it = cache.find(x.stride);
    if (it == cache.end()) it = cache.emplace(x.stride, submanifold_map(x.coords, x.stride)).first;
    const KernelMap& m = it->second;
    // Centre offset first as one dense GEMM (identity map), then the others in ascending k (§1.7).
    auto out = x.feats.mm(kernel[13]);
    x.ctx->macs += x.feats.size(0) * kernel.size(1) * kernel.size(2);
    return x.with_feats(gather_gemm_scatter(out, x.feats, kernel, m.offsets, false, 1, x.ctx->macs));
  }

  if (!o.transposed) {
    const DownsampleMap& m = cached_downsample(x);
    auto out = torch::zeros({m.out_coords.size(0), cout}, x.feats.options());
    return SparseTensor{gather_gemm_scatter(out, x.feats, kernel, m.offsets, false, 0, x.ctx->macs), m.out_coords, 2 * x.stride,
                        x.ctx};
  }

  if (x.stride < 2 || x.stride % 2 != 0)
    fail("transposed sparse_conv3d: input at tensor stride {} cannot be upsampled by 2", x.stride);
  const int64_t fine = x.stride / 2;
  const auto it = x.ctx->downsample.find(fine);
  if (it == x.ctx->downsample.end())
    fail("transposed sparse_conv3d: no downsampling from stride {} to {} in this forward; an upsampling conv needs "
         "the map of its encoder's downsampling (torchsparse KeyError)", fine, x.stride);
  const DownsampleMap& m = it->second;
  if (m.out_coords.size(0) != x.feats.size(0))
    fail("transposed sparse_conv3d: input has {} rows, the stride-{} coordinate set {}", x.feats.size(0), x.stride,
         m.out_coords.size(0));
  const auto& fine_coords = x.ctx->coords.at(fine);
  auto out = torch::zeros({fine_coords.size(0), cout}, x.feats.options());
  return SparseTensor{gather_gemm_scatter(out, x.feats, kernel, m.offsets, true, 0, x.ctx->macs), fine_coords, fine, x.ctx};
}

SparseConv3dImpl::SparseConv3dImpl(const SparseConvOptions& o) : options_(o) {
  const bool ok = (o.kernel_size == 3 && o.stride == 1 && !o.transposed) ||
                  (o.kernel_size == 1 && o.stride == 1 && !o.transposed) || (o.kernel_size == 2 && o.stride == 2);
  if (!ok || o.in_channels < 1 || o.out_channels < 1)
    fail("SparseConv3d: kernel {} stride {}{} with {}→{} channels is not a MinkUNet convolution (k3 s1, k1 s1, k2 s2, "
         "k2 s2 transposed)", o.kernel_size, o.stride, o.transposed ? " transposed" : "", o.in_channels,
         o.out_channels);
  const int64_t volume = o.kernel_size * o.kernel_size * o.kernel_size;
  kernel = register_parameter("kernel", volume == 1 ? torch::zeros({o.in_channels, o.out_channels})
                                                    : torch::zeros({volume, o.in_channels, o.out_channels}));
}

SparseTensor SparseConv3dImpl::forward(const SparseTensor& x) { return sparse_conv3d(x, kernel, options_); }

void SparseConv3dImpl::reset_parameters(uint64_t seed, const std::string& name) {
  const int64_t volume = options_.kernel_size * options_.kernel_size * options_.kernel_size;
  const double bound =
      1.0 / std::sqrt(static_cast<double>((options_.transposed ? options_.out_channels : options_.in_channels) * volume));
  init::uniform_(kernel, -bound, bound, seed, name);
}

SparseTensor SparseTensor::from_voxels(torch::Tensor feats, torch::Tensor coords) {
  if (feats.dim() != 2 || !feats.is_floating_point() || feats.size(0) != coords.size(0))
    fail("sparse tensor: features must be float [N, C] with one row per coordinate, got {} for {} coordinates",
         shape_str(feats), coords.dim() > 0 ? coords.size(0) : 0);
  check_coords(coords, "sparse tensor");
  auto ctx = std::make_shared<SparseContext>();
  auto c = coords.to(feats.device(), torch::kLong);
  ctx->coords.emplace(1, c);
  return SparseTensor{std::move(feats), c, 1, ctx};
}

SparseTensor cat_feats(const SparseTensor& a, const SparseTensor& b) {
  if (a.feats.size(0) != b.feats.size(0) || a.stride != b.stride)
    fail("sparse cat: {} rows at stride {} vs {} rows at stride {}; both must lie on one coordinate set",
         a.feats.size(0), a.stride, b.feats.size(0), b.stride);
  return a.with_feats(torch::cat({a.feats, b.feats}, 1));
}

}  // namespace clcp::lidar
