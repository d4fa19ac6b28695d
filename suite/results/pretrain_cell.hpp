// A pretraining cell: one pretraining run of a method (CLCP, …) (protocol variant × inits × seed), content-addressed like the finetune
// cells (cell.hpp): its id hashes the protocol fingerprint (which covers the variant: head, lidar mode,
// augmentation), both inits and their weights' sha256, the seed and the A2D2 manifest hash. Its bundle lives at
// results/<protocol>/<id>/ and its exported encoders are named by the finetune side as
// "clcp-<variant>@ep<NN>" (e.g. clcp-b256-mlp-fb@ep19).
#pragma once
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace clcp {

struct PretrainCellSpec {
  std::string method = "clcp";             ///< the pretraining method (in the spec unless "clcp", whose ids predate it)
  std::string protocol, scale, fingerprint;
  std::string variant;                     ///< PretrainProtocol::variant_name(), e.g. "b256-lin-fb"
  std::string image_init, image_init_sha256;  ///< "random" or a ViT-S/16 init; sha256 "" for random
  std::string lidar_init, lidar_init_sha256;  ///< "random" or a MinkUNet34-W32 init
  int64_t seed = 0;
  nlohmann::json datasets;                 ///< {"a2d2": manifest hash}
  nlohmann::json recipe;                   ///< PretrainProtocol::recipe_json()
  /// Data-parallel runs only (world size > 1; absent otherwise, so a one-process spec is unchanged): world_size,
  /// negatives ("local" | "global"), negatives_per_query, rows_per_rank, grad_sync, bn_buffers. Part of the id.
  nlohmann::json distributed;

  nlohmann::json to_json() const;  ///< with "kind": "pretrain"
  static PretrainCellSpec from_json(const nlohmann::json& j);
  /// "<method>-<variant>.s<seed>-<12 hex of sha256(canonical spec without recipe)>".
  std::string id() const;
  /// The name finetune cells use for this cell's encoder after 0-based epoch `epoch`: "<method>-<variant>@ep<NN>".
  std::string encoder_name(int64_t epoch) const;
};

/// True when spec.json is a pretraining cell's (its "kind" is "pretrain").
bool is_pretrain_spec(const nlohmann::json& spec);

}  // namespace clcp
