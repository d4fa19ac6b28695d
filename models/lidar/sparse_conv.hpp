// Sparse 3-D convolution as torchsparse 1.4.0 `spnn.Conv3d` (sparse_conv_reference.md §1.2–1.7), the four kinds
// MinkUNet uses:
//   kernel 3, stride 1   submanifold: output coordinates = input coordinates, neighbours at ±1·tensor stride;
//   kernel 1, stride 1   feats · kernel, no map;
//   kernel 2, stride 2   downsampling s → 2s onto floor(c / 2s)·2s (rows sorted by (b, x, y, z));
//   kernel 2, stride 2, transposed   upsampling 2s → s onto the cached finer coordinates, through the map of the
//                        downsampling whose input had stride s (a transposed conv without one is an error, as the
//                        KeyError of torchsparse).
// Weight parameter `kernel`: [K, Cin, Cout] for K = 27 or 8 (offset order of kernel_map.hpp), [Cin, Cout] for 1×1×1;
// no bias (MinkUNet never sets one). Cross-correlation: out[o] = Σ_k in[o + s·offset_k] · kernel[k].
// Computation: gather → GEMM → scatter per offset on LibTorch ops (index_select, mm, index_add_), wrapped in one
// custom autograd function per layer whose backward gathers the output gradient through the same map
// (grad_in[src] += grad_out[dst]·W[k]ᵀ, grad_W[k] = in[src]ᵀ·grad_out[dst]); the centre offset of a submanifold
// conv is one dense GEMM first, then the other offsets in ascending k — the summation order of torchsparse's CUDA
// kernel (§1.7).
// On CPU index_add_ is sequential, so results are bit-identical run to run for a fixed thread count; on CUDA it uses
// atomics (not bitwise deterministic, like torchsparse, §5.4).
#pragma once
#include <torch/torch.h>

#include <cstdint>

#include "models/lidar/sparse_tensor.hpp"

namespace clcp::lidar {

struct SparseConvOptions {
  int64_t in_channels = 0, out_channels = 0;
  int64_t kernel_size = 3;  ///< 1, 2 or 3
  int64_t stride = 1;       ///< 1 (kernel 1 or 3) or 2 (kernel 2)
  bool transposed = false;  ///< only with kernel 2, stride 2
};

class SparseConv3dImpl : public torch::nn::Module {
 public:
  /// Throws UserError for a combination MinkUNet does not use (e.g. kernel 3 with stride 2).
  explicit SparseConv3dImpl(const SparseConvOptions& options);
  /// x.feats [N, Cin] → [N', Cout]; coordinates per the kind above. Throws UserError when Cin differs from the
  /// kernel's, or (transposed) when no downsampling map onto stride x.stride/2 exists in x.ctx.
  SparseTensor forward(const SparseTensor& x);
  /// torchsparse reset_parameters: U(±1/√(Cin·K)) (Cout·K for transposed), keyed by (seed, name) (models/init.hpp).
  void reset_parameters(uint64_t seed, const std::string& name);

  const SparseConvOptions& options() const { return options_; }
  torch::Tensor kernel;

 private:
  SparseConvOptions options_;
};
TORCH_MODULE(SparseConv3d);

/// The functional form behind SparseConv3d (for tests and the dense-emulation oracle). kernel as above.
SparseTensor sparse_conv3d(const SparseTensor& x, const torch::Tensor& kernel, const SparseConvOptions& options);

}  // namespace clcp::lidar
