// Finetuning checkpoints in a cell's `checkpoints/` folder (DESIGN.md "Result bundle"; mmengine CheckpointHook
// analogue, clcp_reference.md §3.2). One checkpoint after N completed iterations is two files plus a pointer:
//   iter_<N>.safetensors        model state dict, the model's own key names (backbone.*, decode_head.*), float32;
//                               metadata {"format":"clcp-bench/1","iteration":"N","seed":"S","threads":"T"}
//                               (threads: LibTorch's thread count, omitted when unknown); loadable by Python
//                               safetensors (safetensors.torch.load_file).
//   iter_<N>.state.safetensors  optimiser state: the SGD momentum buffer of every parameter that has one, keyed by
//                               the parameter's name; metadata as above plus "kind":"sgd_momentum".
//   latest.json                 {"format","iteration","weights","state"}: the newest COMPLETE checkpoint. Each file is
//                               written atomically and latest.json last, so an interrupted save is never picked up.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <torch/torch.h>

namespace clcp {

inline constexpr const char* kCheckpointFormat = "clcp-bench/1";

using TensorMap = std::map<std::string, torch::Tensor>;

/// Which older checkpoints survive a save. keep_last ≤ 0 keeps all (the thesis config keeps all ten); otherwise the
/// newest keep_last are kept, plus iteration `final_iteration` (the end of the schedule) whenever it exists.
struct CheckpointRetention {
  int64_t keep_last = 0;
  int64_t final_iteration = -1;
};

struct CheckpointFiles {
  int64_t iteration = 0;             ///< completed iterations
  std::filesystem::path weights;     ///< iter_<N>.safetensors
  std::filesystem::path state;       ///< iter_<N>.state.safetensors
};

struct LoadedCheckpoint {
  CheckpointFiles files;
  uint64_t seed = 0;
  int threads = 0;        ///< LibTorch threads of the run that wrote it (metadata "threads"); 0 = not recorded
  TensorMap model_state;  ///< CPU tensors, model key names
  TensorMap momentum;     ///< CPU tensors, parameter names
};

/// Writes iter_<iteration>.{safetensors,state.safetensors} into `dir` (created if needed), then latest.json, then
/// prunes older checkpoints per `retention`. Tensors may live on any device; they are saved as contiguous CPU copies.
/// Throws UserError if the folder is not writable or a tensor has a dtype safetensors cannot hold here.
CheckpointFiles save_checkpoint(const std::filesystem::path& dir, int64_t iteration, uint64_t seed,
                                const TensorMap& model_state, const TensorMap& momentum,
                                const CheckpointRetention& retention = {}, int threads = 0);

/// The checkpoint latest.json points at, or nullopt if there is no latest.json. Throws UserError if latest.json is
/// malformed or names a missing file.
std::optional<CheckpointFiles> find_latest_checkpoint(const std::filesystem::path& dir);

/// Reads both files of a checkpoint. Throws UserError naming the file if it is unreadable or not clcp-bench/1.
LoadedCheckpoint load_checkpoint(const CheckpointFiles& files);

}  // namespace clcp
