// Import of MinkUNet34-W32 weights into clcp::lidar::MinkUNet (minkunet.hpp): the public mmdet3d 1.4.0 checkpoint
// `minkunet34_w32_torchsparse_8xb2-amp-laser-polar-mix-3x_semantickitti_20230512_233511-bef6cad0.pth` (a torch.save
// zip holding `state_dict` and `meta`, read through models/import/checkpoint_reader.hpp) and the lidar tower of a
// CLCP Lightning checkpoint. Layouts recognised from the keys:
//   "mmdet3d-minkunet"  backbone.conv_input.0.net.0.kernel …  (+ decode_head.conv_seg.*, dropped: unused by CLCP)
//   "clcp-lightning"    point_cloud_encoder.model.backbone.* (HEAD) or lidar_encoder.model.backbone.* (the thesis
//                       runs, clcp_reference.md §1.9); the image tower, projections and temperature are dropped
//   "minkunet"          conv_input.0.net.0.kernel … (a bare backbone state dict, e.g. our own export)
// Refused with one line before any key check: a checkpoint of another width (conv_input.0.net.0.kernel not
// [27, 4, 32]: e.g. W16 → [27, 4, 16]) and the spconv / MinkowskiEngine layouts (5-D kernels [Cout, k, k, k, Cin] or
// `weight` names; their weights are not interchangeable with the torchsparse model, sparse_conv_reference.md §2.5).
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "models/lidar/minkunet.hpp"
#include "models/state_dict.hpp"

namespace clcp::lidar {

struct MappedMinkUNet {
  std::map<std::string, torch::Tensor> tensors;  ///< MinkUNet names (conv_input.0.net.0.kernel, …)
  std::string layout;                            ///< see above
  std::vector<std::string> dropped;              ///< file keys not carried over (sorted)
};

/// Maps a state dict onto MinkUNet names. Throws UserError (starting with `source`) for another width or a spconv /
/// MinkowskiEngine layout; keys it does not know are kept so the checked load names them.
MappedMinkUNet map_minkunet(const std::map<std::string, torch::Tensor>& file, const std::string& source);

/// Key group for reports: "conv_input", "encoder.N", "decoder.N" or "other".
std::string minkunet_key_group(const std::string& key);

/// One line listing every problem of a load by group, e.g. "encoder.2: 1 missing (encoder.2.3.net.0.kernel)".
std::string minkunet_grouped_summary(const LoadReport& report);

/// Reads, maps and loads `path` into `model` after checking every key, shape and value ("<path>: not a usable
/// MinkUNet34-W32 state dict (<layout>): <grouped summary>; …" before anything is copied). Checks the mmdet file
/// name's sha256 prefix ("…-bef6cad0.pth": the first 8 hex digits of the file's sha256) when the name has one.
/// Returns the mapping (tensors moved into the model).
MappedMinkUNet load_minkunet_checked(MinkUNetImpl& model, const std::filesystem::path& path);

/// The lines `clcp-bench weights inspect FILE` prints for a lidar checkpoint: format, layout, dropped keys, groups
/// with tensor and parameter counts, total tensors (380 in the public checkpoint) and parameters, sha256, the
/// registry entry it matches and whether it loads into MinkUNet34-W32.
std::vector<std::string> inspect_minkunet(const std::filesystem::path& path, const std::filesystem::path& registry);

/// True when the keys look like a MinkUNet checkpoint of any layout above (for `weights inspect` dispatch).
bool looks_like_minkunet(const std::map<std::string, torch::Tensor>& file);

}  // namespace clcp::lidar
