#include "models/lidar/sparse_conv.hpp"

#include <chrono>
#include <cmath>

#include "models/init.hpp"
#include "models/state_dict.hpp"
#include "suite/core/error.hpp"

namespace clcp::lidar {

namespace {

// One convolution through a kernel map, as a custom autograd function: autograd through per-offset index_select /
// index_add would allocate a full-size zero gradient per offset and record ~80 graph nodes per layer; here the
// backward is written out once (grad_in[src] += grad_out[dst] · W[k]ᵀ, grad_W[k] = in[src]ᵀ · grad_out[dst]) and
// only the input, the kernel and the map's row tensors are kept.
// Forward order, deterministic for a fixed thread count: the centre offset of a submanifold map as one dense GEMM,
// then every other offset in ascending k, gathered (src rows), multiplied and added to the dst rows.
struct MapArgs {
  const std::vector<OffsetPairs>* offsets;
  bool swap;          // transposed: gather the map's output rows, scatter to its input rows
  size_t first;       // 1 when offsets[0] is the identity centre (computed densely)
  int64_t n_out;
};

class SparseConvFunction : public torch::autograd::Function<SparseConvFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& in,
                               const torch::Tensor& kernel, MapArgs a) {
    c10::List<torch::Tensor> src, dst;
    std::vector<int64_t> ks;
    for (size_t j = a.first; j < a.offsets->size(); ++j) {
      const auto& p = (*a.offsets)[j];
      src.push_back(a.swap ? p.out_rows : p.in_rows);
      dst.push_back(a.swap ? p.in_rows : p.out_rows);
      ks.push_back(p.k);
    }
    auto out = a.first == 1 ? in.mm(kernel[13]) : torch::zeros({a.n_out, kernel.size(2)}, in.options());
    for (size_t j = 0; j < ks.size(); ++j)
      out.index_add_(0, dst.get(j), in.index_select(0, src.get(j)).mm(kernel[ks[j]]));
    ctx->save_for_backward({in, kernel});
    ctx->saved_data["src"] = src;
    ctx->saved_data["dst"] = dst;
    ctx->saved_data["ks"] = ks;
    ctx->saved_data["centre"] = a.first == 1;
    return out;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& in = saved[0];
    const auto& kernel = saved[1];
    const auto& g = grads[0];
    const auto src = ctx->saved_data["src"].toTensorList();
    const auto dst = ctx->saved_data["dst"].toTensorList();
    const auto ks = ctx->saved_data["ks"].toIntVector();
    torch::Tensor grad_in, grad_w;
    const bool need_in = ctx->needs_input_grad(0), need_w = ctx->needs_input_grad(1);
    if (need_w) grad_w = torch::zeros_like(kernel);
    if (ctx->saved_data["centre"].toBool()) {
      if (need_in) grad_in = g.mm(kernel[13].t());
      if (need_w) grad_w[13].copy_(in.t().mm(g));
    } else if (need_in) {
      grad_in = torch::zeros_like(in);
    }
    for (size_t j = 0; j < ks.size(); ++j) {
      const auto go = g.index_select(0, dst.get(j));
      if (need_w) grad_w[ks[j]].add_(in.index_select(0, src.get(j)).t().mm(go));
      if (need_in) grad_in.index_add_(0, src.get(j), go.mm(kernel[ks[j]].t()));
    }
    return {grad_in, grad_w, torch::Tensor()};
  }
};

// out = Σ over the map's offsets (see MapArgs); counts the multiply-accumulates into `macs`.
torch::Tensor gather_gemm_scatter(const torch::Tensor& in, const torch::Tensor& kernel,
                                  const std::vector<OffsetPairs>& offsets, bool swap, size_t first, int64_t n_out,
                                  int64_t& macs) {
  for (size_t j = 0; j < offsets.size(); ++j) macs += offsets[j].in_rows.size(0) * kernel.size(1) * kernel.size(2);
  return SparseConvFunction::apply(in, kernel, MapArgs{&offsets, swap, first, n_out});
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

const DownsampleMap& cached_downsample(const SparseTensor& x) {
  auto& cache = x.ctx->downsample;
  auto it = cache.find(x.stride);
  if (it == cache.end()) {
    const auto t0 = std::chrono::steady_clock::now();
    it = cache.emplace(x.stride, downsample_map(x.coords, x.stride)).first;
    x.ctx->map_seconds += seconds_since(t0);
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
  if (o.kernel_size == 1) {
    x.ctx->macs += x.feats.size(0) * kernel.size(0) * kernel.size(1);
    return x.with_feats(x.feats.mm(kernel));
  }

  if (o.kernel_size == 3) {
    auto& cache = x.ctx->submanifold;
    auto it = cache.find(x.stride);
    if (it == cache.end()) {
      const auto t0 = std::chrono::steady_clock::now();
      it = cache.emplace(x.stride, submanifold_map(x.coords, x.stride)).first;
      x.ctx->map_seconds += seconds_since(t0);
    }
    const KernelMap& m = it->second;
    // Centre offset first as one dense GEMM (identity map), then the others in ascending k (§1.7).
    return x.with_feats(gather_gemm_scatter(x.feats, kernel, m.offsets, false, 1, x.feats.size(0), x.ctx->macs));
  }

  if (!o.transposed) {
    const DownsampleMap& m = cached_downsample(x);
    return SparseTensor{gather_gemm_scatter(x.feats, kernel, m.offsets, false, 0, m.out_coords.size(0), x.ctx->macs),
                        m.out_coords, 2 * x.stride, x.ctx};
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
  return SparseTensor{gather_gemm_scatter(x.feats, kernel, m.offsets, true, 0, fine_coords.size(0), x.ctx->macs),
                      fine_coords, fine, x.ctx};
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
