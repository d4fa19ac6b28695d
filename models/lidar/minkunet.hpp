// MinkUNet34-W32, the lidar encoder of CLCP: mmdet3d 1.4.0 `MinkUNetBackbone` with the torchsparse backend
// (clcp_reference.md §1.6; sparse_conv_reference.md §2.1–2.4), with mmdet3d's state-dict names below `backbone.`,
// so the public SemanticKITTI checkpoint (…_20230512_233511-bef6cad0.pth) loads key for key:
//   conv_input.{0,1}          ConvModule k3 (4→32, 32→32): net.0 conv (`kernel`), net.1 BatchNorm1d, ReLU
//   encoder.{i}.0             ConvModule k2 s2 (C→C, C = 32, 32, 64, 128): downsampling
//   encoder.{i}.{1..n_i}      BasicBlock, n = [2, 3, 4, 6], channels 32, 64, 128, 256: net.{0,1,3,4} = conv k3, BN,
//                             conv k3, BN; downsample.{0,1} = conv k1 + BN when Cin ≠ Cout; out = ReLU(net(x) + skip)
//   decoder.{i}.0             ConvModule k2 s2 transposed (256→256, 256→128, 128→96, 96→96)
//   decoder.{i}.1.{0,1}       two BasicBlocks on cat(up, lateral) (up first): 384→256, 192→128, 128→96, 128→96
// Laterals = [conv_input out, encoder.0, encoder.1, encoder.2] used in reverse order; encoder.3 is the bottleneck.
// BatchNorm1d over all voxels of the batch (eps 1e-5, momentum 0.1; in train mode statistics over every voxel of
// every sample, as torchsparse's shared feature matrix). 37,873,280 learnable parameters (63 conv kernels and 63
// BatchNorms; the checkpoint's 37,875,123 include decode_head.conv_seg, which the encoder does not use).
#pragma once
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <vector>

#include "models/lidar/sparse_conv.hpp"
#include "models/lidar/sparse_tensor.hpp"

namespace clcp::lidar {

struct MinkUNetOptions {
  int64_t in_channels = 4;   ///< (x, y, z, reflectance) of the voxel's representative point
  int64_t base_channels = 32;
  std::array<int64_t, 4> encoder_channels{32, 64, 128, 256};
  std::array<int64_t, 4> encoder_blocks{2, 3, 4, 6};  ///< MinkUNet34 (MinkUNet18: 2, 2, 2, 2)
  std::array<int64_t, 4> decoder_channels{256, 128, 96, 96};
  std::array<int64_t, 4> decoder_blocks{2, 2, 2, 2};
  double bn_eps = 1e-5, bn_momentum = 0.1;
};

/// TorchSparseConvModule: conv → BatchNorm1d → ReLU, parameters under net.0 / net.1.
class SparseConvBlockImpl : public torch::nn::Module {
 public:
  SparseConvBlockImpl(const SparseConvOptions& conv, const MinkUNetOptions& o);
  SparseTensor forward(const SparseTensor& x);
  SparseConv3d conv{nullptr};
  torch::nn::BatchNorm1d bn{nullptr};
};
TORCH_MODULE(SparseConvBlock);

/// TorchSparseBasicBlock: ReLU(BN(conv(ReLU(BN(conv(x))))) + skip(x)), skip = conv k1 + BN when Cin ≠ Cout.
class SparseBasicBlockImpl : public torch::nn::Module {
 public:
  SparseBasicBlockImpl(int64_t in_channels, int64_t out_channels, const MinkUNetOptions& o);
  SparseTensor forward(const SparseTensor& x);
  SparseConv3d conv1{nullptr}, conv2{nullptr}, skip_conv{nullptr};
  torch::nn::BatchNorm1d bn1{nullptr}, bn2{nullptr}, skip_bn{nullptr};
};
TORCH_MODULE(SparseBasicBlock);

class MinkUNetImpl : public torch::nn::Module {
 public:
  explicit MinkUNetImpl(const MinkUNetOptions& options = {});

  /// x: the voxelised batch (voxelize.hpp): feats [N, 4] float32, coords (x, y, z, b) at stride 1.
  /// Returns [N, decoder_channels[3]] (96) per-voxel features at stride 1, in the input voxel order (mmdet3d's
  /// `decoder_outs[-1].F`).
  torch::Tensor forward(const SparseTensor& x);

  /// torchsparse/PyTorch defaults keyed by (seed, parameter name): kernels U(±1/√(Cin·K)) (models/init.hpp), BN
  /// weight 1, bias 0, running mean 0, var 1.
  void init_weights(uint64_t seed);
  const MinkUNetOptions& options() const { return options_; }

  std::vector<SparseConvBlock> conv_input;
  std::vector<SparseConvBlock> encoder_down;
  std::vector<std::vector<SparseBasicBlock>> encoder_blocks;
  std::vector<SparseConvBlock> decoder_up;
  std::vector<std::vector<SparseBasicBlock>> decoder_blocks;

 private:
  MinkUNetOptions options_;
};
TORCH_MODULE(MinkUNet);

/// Learnable parameters of MinkUNet34-W32 (kernels + BN affine): 37,873,280.
int64_t parameter_count(const MinkUNetImpl& model);

}  // namespace clcp::lidar
