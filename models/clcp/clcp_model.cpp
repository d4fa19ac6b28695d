#include "models/clcp/clcp_model.hpp"

#include <chrono>
#include <cmath>

#include "suite/core/error.hpp"

namespace clcp {

ImageTowerImpl::ImageTowerImpl(int64_t embed_dim) {
  model = register_module("model", VisionTransformer(VitOptions{}));
  projection = register_module(
      "projection", ProjectionHead(ProjectionOptions{"linear", model->options().embed_dim, embed_dim, 0, 0.0, 1e-5,
                                                     "image"}));
}

torch::Tensor ImageTowerImpl::forward(const torch::Tensor& images) {
  const auto tokens = model->forward_features(images);  // [B, 197, 384] after the final norm
  return projection->forward(tokens.select(1, 0));       // CLS token (timm global_pool "token")
}

LidarTowerImpl::LidarTowerImpl(const std::string& head, int64_t embed_dim, double mlp_dropout, double vs)
    : voxel_size(vs) {
  model = register_module("model", std::make_shared<torch::nn::Module>());
  backbone = model->register_module("backbone", lidar::MinkUNet(lidar::MinkUNetOptions{}));
  projection = register_module(
      "projection", ProjectionHead(ProjectionOptions{head, backbone->options().decoder_channels[3], embed_dim, 192,
                                                     mlp_dropout, 1e-5, "lidar"}));
}

torch::Tensor LidarTowerImpl::forward(const std::vector<torch::Tensor>& points) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto voxels = lidar::voxelize(points, voxel_size);
  const double vs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto out = forward_voxels(voxels, static_cast<int64_t>(points.size()));
  last_timing.voxelize_s = vs;
  return out;
}

torch::Tensor LidarTowerImpl::forward_voxels(const lidar::VoxelBatch& v, int64_t batch) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto input = lidar::SparseTensor::from_voxels(v.feats, v.coords);
  torch::Tensor feats;
  if (backbone_frozen) {
    torch::NoGradGuard ng;
    feats = backbone->forward(input);
  } else {
    feats = backbone->forward(input);
  }
  last_timing.maps_s = input.ctx->map_seconds;
  last_timing.network_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() - last_timing.maps_s;
  const auto projected = projection->forward(feats);  // [V, D]: projection before pooling (clcp_reference.md §1.6)
  const auto index = v.batch_index.to(projected.device());
  auto sum = torch::zeros({batch, projected.size(1)}, projected.options()).index_add(0, index, projected);
  auto count = torch::zeros({batch}, projected.options()).index_add(0, index, torch::ones_like(index, projected.options()));
  return sum / count.clamp_min(1).unsqueeze(1);
}

ClcpModelImpl::ClcpModelImpl(const ClcpModelOptions& o) : options_(o) {
  if (o.temperature != "inv_exp" && o.temperature != "clip")
    fail("temperature form \"{}\": expected \"inv_exp\" (the thesis: logits / exp(t)) or \"clip\" (OpenCLIP: "
         "logits · exp(s), clamped)", o.temperature);
  if (!(o.temperature_init > 0)) fail("temperature init {}: expected > 0", o.temperature_init);
  image_encoder = register_module("image_encoder", ImageTower(o.embed_dim));
  point_cloud_encoder =
      register_module("point_cloud_encoder", LidarTower(o.head, o.embed_dim, o.mlp_dropout, o.voxel_size));
  temperature_ = register_parameter(o.temperature == "inv_exp" ? "temperature" : "logit_scale", torch::zeros({}));
}

void ClcpModelImpl::init_weights(uint64_t seed) {
  image_encoder->model->init_weights(seed);
  image_encoder->projection->init_weights(seed, "image_encoder.projection");
  point_cloud_encoder->backbone->init_weights(seed);
  point_cloud_encoder->projection->init_weights(seed, "point_cloud_encoder.projection");
  torch::NoGradGuard ng;
  temperature_.fill_(options_.temperature == "inv_exp" ? options_.temperature_init
                                                       : std::log(1.0 / options_.temperature_init));
}

}  // namespace clcp
