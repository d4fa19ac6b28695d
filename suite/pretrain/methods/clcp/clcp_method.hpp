// CLCP as a pretraining method (clcp_reference.md §1.5–1.9): symmetric InfoNCE between the image tower and the lidar
// tower of a ClcpModel (models/clcp/) on camera–lidar pairs. What it adds to the generic loop (pretrain.hpp):
//   parameters  one AdamW group with weight decay; the clip form's logit_scale in a second group without; a
//               "frozen" lidar backbone has requires_grad off, is not in the optimizer and runs without autograd,
//               its BatchNorm in train mode (lidar_bn "train", as the thesis) or eval
//   step        images → image tower, clouds → lidar tower, InfoNCE at the learned temperature (world W > 1:
//               distributed.hpp's rank term under `negatives`); the projection head's dropout key is StepKeys::key()
//   step_record {"temperature" (raw t or s), "tau" (effective τ)}
//   validate    {"val_loss" (mean over the val batches), "chance_loss" = ln B, "temperature", "tau", "loss_floor" (the
//               lowest loss the current scale allows, info_nce.hpp), "retrieval" (retrieval.hpp on the val pairs)}
//   epoch_record {"grad_norm": {"image", "lidar"} (mean over steps of the global L2 norm of each tower's gradients);
//               W > 1: "negatives_per_query", "train_chance_loss" = ln(negatives + 1); "speed": data, image and lidar
//               forward (voxelize, kernel maps, network) and loss seconds}
// Exported encoder: image_encoder.model.* with the prefix stripped (timm names, as the thesis's
// extract_image_encoder.py).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/clcp/clcp_model.hpp"
#include "suite/data/pair_loader.hpp"
#include "suite/pretrain/method.hpp"

namespace clcp {

/// Batches of one split: PairBatch (suite/data/pair_loader.hpp) holds images [b, 3, 224, 224] float32 and b clouds
/// [N_i, 4] float32 (x, y, z, reflectance), each non-empty; b = this rank's rows. batch(epoch, index) must be a pure
/// function of its arguments.
struct PairSource {
  int64_t batches = 0;  ///< batches per epoch (drop_last)
  std::function<PairBatch(int64_t epoch, int64_t index)> batch;
};

struct ClcpMethodOptions {
  std::string lidar_mode = "trainable";  ///< "trainable" | "frozen"
  std::string lidar_bn = "train";        ///< frozen tower's BatchNorm mode: "train" | "eval"
  std::string temperature = "inv_exp";   ///< "inv_exp" | "clip" (models/clcp/info_nce.hpp)
  std::vector<int64_t> retrieval_ks{1, 5, 10};
  std::string negatives = "local";       ///< world > 1: "local" | "global" (suite/pretrain/distributed.hpp)
};

class ClcpMethod final : public PretrainMethod {
 public:
  /// Shares the model (a ModuleHolder); the sources own what they read from. Throws UserError for a bad lidar mode /
  /// BatchNorm mode, or a split with no batch (naming which).
  ClcpMethod(ClcpModel model, PairSource train, PairSource val, ClcpMethodOptions options);

  torch::nn::Module& model() override { return *model_; }
  std::string image_encoder_prefix() const override { return "image_encoder.model."; }
  std::string sample_unit() const override { return "pairs"; }
  void bind(const MethodContext& ctx) override;
  MethodParameters parameters() override;
  int64_t train_batches() const override { return train_.batches; }
  int64_t val_batches() const override { return val_.batches; }
  void set_training(bool training) override;
  torch::Tensor train_loss(int64_t epoch, int64_t index, const StepKeys& keys) override;
  void after_backward() override;
  void after_optimizer_step() override;
  nlohmann::json step_record() const override;
  nlohmann::json validate(int64_t epoch) override;
  nlohmann::json epoch_record(int64_t steps) override;

 private:
  ClcpModel model_;
  PairSource train_, val_;
  ClcpMethodOptions o_;
  MethodContext ctx_;
  std::vector<torch::Tensor> image_params_, lidar_params_;
  // per-epoch accumulators (epoch_record resets them)
  double gn_image_ = 0, gn_lidar_ = 0;
  double t_data_ = 0, t_image_ = 0, t_lidar_ = 0, t_loss_ = 0, t_voxelize_ = 0, t_maps_ = 0, t_network_ = 0;
};

}  // namespace clcp
