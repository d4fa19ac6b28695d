// Import of encoder weights into clcp-bench's ViT-S/16: read (checkpoint_reader) → map names (key_map) → checked
// load with a preflight that names every problem by key group, so a finetune never starts on silently random
// weights (mmseg#1288, mmseg_reference.md §2.1). Also the report behind `clcp-bench weights inspect`.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "models/import/checkpoint_reader.hpp"
#include "models/import/key_map.hpp"
#include "models/state_dict.hpp"
#include "models/vit.hpp"

namespace clcp {

struct ImportedWeights {
  CheckpointFile file;   ///< container, wrapper, placeholders (tensors moved into `mapped`)
  MappedWeights mapped;  ///< timm ViT names
};

/// Reads `path` and maps it onto timm ViT names for a grid×grid patch grid. Throws UserError (see the two stages).
ImportedWeights import_vit_weights(const std::filesystem::path& path, int64_t grid = 14);

/// One line listing every problem of a load, grouped by vit_key_group in model order (patch_embed,
/// pos_embed/cls_token, blocks.0 … blocks.11, norm, other), e.g.
/// "blocks.3: 1 missing (blocks.3.attn.qkv.weight); other: 2 unexpected (fc_norm.weight, fc_norm.bias)".
/// Keys may carry a prefix ("backbone.") which is ignored for grouping.
std::string grouped_summary(const LoadReport& report);

/// Copies `weights` into `vit` after checking them all: missing/unexpected keys, shape mismatches and non-finite
/// values stop with one UserError line "<source>: not a usable ViT-S/16 state dict (<layout>): <grouped_summary>;
/// …" before anything is copied.
void load_vit_checked(VisionTransformerImpl& vit, const MappedWeights& weights, const std::string& source);

/// The lines `clcp-bench weights inspect FILE` prints: file, container, detected layout, dropped keys, notes, key
/// groups with shapes, parameter count, sha256, the registry init it matches (by sha256; else "unregistered
/// ViT-S/16 (<layout> layout)") and whether it loads into ViT-S/16.
std::vector<std::string> inspect_weights(const std::filesystem::path& path, const std::filesystem::path& registry);

}  // namespace clcp
