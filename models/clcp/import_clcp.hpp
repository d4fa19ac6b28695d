// Loading whole CLCP pretraining checkpoints into ClcpModel (clcp_model.hpp): the thesis's Lightning `.ckpt`
// (state_dict with image_encoder.model.*, image_encoder.projection.*, point_cloud_encoder.model.backbone.*,
// point_cloud_encoder.model.decode_head.conv_seg.* (unused, dropped), point_cloud_encoder.projection.*, temperature;
// the thesis-era runs used the prefix lidar_encoder. for point_cloud_encoder., clcp_reference.md §1.9) and
// clcp-bench's own checkpoints/epoch_NN.safetensors (the same names). Read through models/import/checkpoint_reader.hpp.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "models/clcp/clcp_model.hpp"

namespace clcp {

struct ClcpImport {
  std::string layout;                 ///< "clcp-lightning" (+ " (lidar_encoder.)" for the thesis-era prefix)
  std::vector<std::string> dropped;   ///< keys not carried over (decode_head.conv_seg.*)
  size_t tensors = 0;                 ///< tensors loaded
};

/// Checks every key, shape and value, then loads. Throws UserError "<path>: not a CLCP checkpoint for this model
/// (<head> head, <temperature form>): <problems by tower>; …" before anything is copied — e.g. an mlp checkpoint
/// into a linear-head model names the projection keys.
ClcpImport load_clcp_checkpoint(ClcpModelImpl& model, const std::filesystem::path& path);

}  // namespace clcp
