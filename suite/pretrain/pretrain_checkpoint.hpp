// Pretraining checkpoints and exported image encoders in a pretrain cell's bundle (DESIGN.md "Result bundle").
//   checkpoints/epoch_<NN>.safetensors        the whole model of the method (CLCP: ClcpModel) after 0-based epoch NN, the thesis's Lightning
//                                             names (image_encoder.model.*, point_cloud_encoder.model.backbone.*, …,
//                                             temperature), float32; metadata {"format": "clcp-bench/pretrain/1",
//                                             "epoch", "seed", "fingerprint", "threads" (LibTorch's thread count;
//                                             absent in checkpoints written before it was recorded)}
//   checkpoints/epoch_<NN>.state.safetensors  AdamW state: <param>.exp_avg, <param>.exp_avg_sq; metadata as above +
//                                             "step" (optimizer steps taken, the same for every parameter)
//   checkpoints/latest.json                   {"format", "epoch", "weights", "state"}: the newest complete checkpoint,
//                                             written last (each file atomically), so a torn save is never picked up
//   export/image_encoder_epoch<NN>.safetensors  the ViT-S/16 alone with timm's 150 names (image_encoder.model.*
//                                             stripped, as the thesis's extract_image_encoder.py), loadable by the
//                                             importer (--init) and by timm; metadata {"format":
//                                             "clcp-bench/encoder/1", "epoch", "pretrain_cell", "fingerprint"}
// Retention: the weights and exports of `keep_epochs` and of the newest epoch are kept, older others pruned; only the
// newest epoch keeps its optimiser state (a resume starts from the newest, and the state is twice the weights).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace clcp {

inline constexpr const char* kPretrainCheckpointFormat = "clcp-bench/pretrain/1";
inline constexpr const char* kEncoderExportFormat = "clcp-bench/encoder/1";

using TensorDict = std::map<std::string, torch::Tensor>;

struct PretrainCheckpoint {
  int64_t epoch = -1;  ///< the completed 0-based epoch
  std::filesystem::path weights, state;
};

struct LoadedPretrainCheckpoint {
  PretrainCheckpoint files;
  uint64_t seed = 0;
  int64_t step = 0;
  int threads = 0;  ///< LibTorch threads of the run that wrote it; 0 = not recorded (older checkpoints)
  std::string fingerprint;
  TensorDict model, optimizer;
};

/// Writes epoch `epoch`'s two files, then latest.json, then prunes per `keep_epochs`. `threads` (LibTorch's thread
/// count, > 0) is recorded so that a resume with another count can be refused; 0 records none. Throws UserError
/// (naming the file) when a write fails.
PretrainCheckpoint save_pretrain_checkpoint(const std::filesystem::path& dir, int64_t epoch, uint64_t seed,
                                            int64_t step, const std::string& fingerprint, const TensorDict& model,
                                            const TensorDict& optimizer, const std::vector<int64_t>& keep_epochs,
                                            int threads = 0);
/// The checkpoint latest.json names, or nullopt when there is none; UserError for a malformed latest.json.
std::optional<PretrainCheckpoint> find_latest_pretrain_checkpoint(const std::filesystem::path& dir);
/// Reads both files; UserError naming the file if it is not clcp-bench/pretrain/1 or disagrees with latest.json.
LoadedPretrainCheckpoint load_pretrain_checkpoint(const PretrainCheckpoint& files);

/// export/image_encoder_epoch<NN>.safetensors under `bundle_dir`.
std::filesystem::path encoder_export_path(const std::filesystem::path& bundle_dir, int64_t epoch);
/// Writes the image encoder of `model` (the keys starting with `prefix`, e.g. "image_encoder.model.", stripped) and
/// prunes older exports not in keep_epochs. Returns the file. Throws UserError when the model has no such key.
std::filesystem::path export_image_encoder(const std::filesystem::path& bundle_dir, int64_t epoch,
                                           const TensorDict& model, const std::string& prefix,
                                           const std::string& pretrain_cell,
                                           const std::string& fingerprint, const std::vector<int64_t>& keep_epochs);

}  // namespace clcp
