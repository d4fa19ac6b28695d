// The CLCP pretraining model (clcp_reference.md §1.5–1.7): two towers mapping a camera image and its lidar point cloud
// to one 384-d embedding each, with the thesis's Lightning state-dict names so a real CLCP `.ckpt` and ours load the
// same way:
//   image_encoder.model.*                 ViT-S/16 (timm names, models/vit.hpp); embedding = CLS token after the
//                                         final norm
//   image_encoder.projection.{weight,bias}  Linear(384 → 384)
//   point_cloud_encoder.model.backbone.*  MinkUNet34-W32 (mmdet3d names, models/lidar/minkunet.hpp) on the voxelised
//                                         cloud (voxel 0.05 m)
//   point_cloud_encoder.projection.*      per-voxel head BEFORE pooling: linear Linear(96 → 384) or mlp (96 → 192 →
//                                         384, projection_head.hpp); then the mean over each sample's voxels
//                                         (torch_scatter scatter_mean over the batch index: every voxel weighs 1)
//   temperature                           0-dim, form "inv_exp": logits = cos / exp(t), t₀ = 0.07 (the thesis's code)
//   logit_scale                           0-dim, form "clip": logits = cos · exp(s), s₀ = ln(1/0.07) (OpenCLIP)
// (The thesis's point_cloud_encoder.model.decode_head.conv_seg is unused and absent here; an import drops it.)
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/clcp/projection_head.hpp"
#include "models/lidar/minkunet.hpp"
#include "models/lidar/voxelize.hpp"
#include "models/vit.hpp"

namespace clcp {

struct ClcpModelOptions {
  std::string head = "linear";          ///< lidar projection: "linear" | "mlp"
  int64_t embed_dim = 384;
  std::string temperature = "inv_exp";  ///< "inv_exp" | "clip" (info_nce.hpp)
  double temperature_init = 0.07;       ///< inv_exp: t₀; clip: s₀ = ln(1/temperature_init)
  double voxel_size = 0.05;             ///< metres
  double mlp_dropout = 0.1;
};

class ImageTowerImpl : public torch::nn::Module {
 public:
  explicit ImageTowerImpl(int64_t embed_dim);
  /// images [B,3,224,224] float32 ImageNet-normalised RGB → [B, embed_dim] (not normalised).
  torch::Tensor forward(const torch::Tensor& images);
  VisionTransformer model{nullptr};
  ProjectionHead projection{nullptr};
};
TORCH_MODULE(ImageTower);

class LidarTowerImpl : public torch::nn::Module {
 public:
  LidarTowerImpl(const std::string& head, int64_t embed_dim, double mlp_dropout, double voxel_size);
  /// B clouds [N_b, 4] float32 (x, y, z, reflectance), each non-empty → [B, embed_dim] (not normalised): voxelise,
  /// MinkUNet, project every voxel, mean over each sample's voxels.
  torch::Tensor forward(const std::vector<torch::Tensor>& points);
  /// The same from an already voxelised batch of `batch` samples (for timing the stages separately).
  torch::Tensor forward_voxels(const lidar::VoxelBatch& voxels, int64_t batch);
  /// Wall-clock split of the last forward (speed reports only): voxelisation, kernel maps, the rest of the network
  /// and the head with pooling.
  struct Timing {
    double voxelize_s = 0, maps_s = 0, network_s = 0;
  } last_timing;
  /// When true, the backbone runs under NoGradGuard (its parameters are frozen) — its BatchNorm mode is the caller's.
  bool backbone_frozen = false;
  std::shared_ptr<torch::nn::Module> model;  ///< container "model" holding "backbone"
  lidar::MinkUNet backbone{nullptr};
  ProjectionHead projection{nullptr};
  double voxel_size;
};
TORCH_MODULE(LidarTower);

class ClcpModelImpl : public torch::nn::Module {
 public:
  /// Throws UserError for an unknown head or temperature form.
  explicit ClcpModelImpl(const ClcpModelOptions& options);
  /// Keyed random init of everything (ViT as timm, MinkUNet as torchsparse, heads as PyTorch) and the temperature at
  /// its initial value. Loading weights afterwards overrides parts of it.
  void init_weights(uint64_t seed);
  /// The raw temperature parameter (t or s, 0-dim).
  torch::Tensor temperature_param() const { return temperature_; }
  const ClcpModelOptions& options() const { return options_; }

  ImageTower image_encoder{nullptr};
  LidarTower point_cloud_encoder{nullptr};

 private:
  ClcpModelOptions options_;
  torch::Tensor temperature_;
};
TORCH_MODULE(ClcpModel);

}  // namespace clcp
