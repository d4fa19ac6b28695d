// A pretraining method, as the generic loop (pretrain.hpp) sees it. A method owns its data sources, its model and
// its objective; the loop owns everything a method must not re-implement: the schedule, AdamW, resume, data-parallel
// broadcast and gradient averaging, the NaN stop, logs, checkpoints, exports and progress. A method lives in one
// folder, suite/pretrain/methods/<name>/, and registers itself by name (methods/registry.hpp).
//
// Calls, in order (one object per cell and rank):
//   bind(ctx)                 once, after the model was moved to ctx.device
//   parameters()              once: what AdamW trains (named as in the checkpoint) and which group each is in
//   per epoch:  set_training(true); per step: train_loss → (loop: backward, gradient averaging) → after_backward →
//               (loop: optimizer step) → after_optimizer_step → step_record
//               then, on rank 0: set_training(false); validate (under NoGradGuard); epoch_record
// Every deterministic number a method returns must be a pure function of (build, thread count, seed, inputs,
// epoch, step): batch (epoch, i) is the same bytes whenever it is asked for (resume at any epoch), and any randomness
// of a step is keyed by StepKeys (DESIGN.md "Determinism").
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "suite/dist/comm.hpp"

namespace clcp {

/// What a method needs to know of the run it is in.
struct MethodContext {
  torch::Device device = torch::kCPU;
  dist::Comm* comm = nullptr;  ///< never null once bound: a one-process run gets a world-1 group
  int64_t batch_size = 0;      ///< the global batch B (rank r trains rows [r·B/W, (r+1)·B/W))
  uint64_t seed = 0;
};

/// The identity of one optimizer step, for keyed randomness (dropout, augmentation drawn on the fly):
/// key = step · world + rank, so every rank draws differently and a resumed run draws the same.
struct StepKeys {
  uint64_t seed = 0;
  int64_t step = 0;  ///< optimizer steps taken before this one
  int world = 1, rank = 0;
  uint64_t key() const { return static_cast<uint64_t>(step) * static_cast<uint64_t>(world) + static_cast<uint64_t>(rank); }
};

/// Parameters AdamW trains, each with its checkpoint name (the AdamW state is saved as <name>.exp_avg/.exp_avg_sq).
struct MethodParameters {
  std::vector<std::pair<std::string, torch::Tensor>> named;  ///< every trained parameter, in optimizer order
  std::vector<torch::Tensor> decay;     ///< group 0: the protocol's weight decay
  std::vector<torch::Tensor> no_decay;  ///< group 1 (omitted when empty): weight decay 0
  /// The last group (omitted when empty): the protocol's weight decay at the base lr for the whole run, never
  /// scheduled — SimSiam's --fix-pred-lr for its predictor (facebookresearch/simsiam, methods_reference.md §3.3).
  std::vector<torch::Tensor> fixed_lr;
};

class PretrainMethod {
 public:
  virtual ~PretrainMethod() = default;

  /// Everything checkpointed: its state_dict names are the checkpoint's (models/state_dict.hpp).
  virtual torch::nn::Module& model() = 0;
  /// The state-dict prefix of the ViT-S/16 image encoder inside model() (e.g. "image_encoder.model."): the export
  /// strips it, leaving timm's names.
  virtual std::string image_encoder_prefix() const = 0;
  /// "pairs", "images", …: the unit of the throughput the loop reports (<unit>_per_s).
  virtual std::string sample_unit() const = 0;

  /// Checks the run's settings against the method (e.g. enough samples per rank for its negatives); UserError.
  virtual void bind(const MethodContext& ctx) = 0;
  virtual MethodParameters parameters() = 0;
  virtual int64_t train_batches() const = 0;  ///< steps per epoch (≥ 1)
  virtual int64_t val_batches() const = 0;    ///< validation batches per epoch (≥ 1)
  virtual void set_training(bool training) = 0;

  /// Fetches batch (epoch, index) of this rank, runs the forward pass and returns this rank's loss term (0-dim,
  /// requires grad). With world W > 1 the step's objective is the mean of the W terms.
  virtual torch::Tensor train_loss(int64_t epoch, int64_t index, const StepKeys& keys) = 0;
  /// After the gradients were averaged over the ranks, before the optimizer step (e.g. gradient norms).
  virtual void after_backward() {}
  /// After the optimizer step (e.g. clamping a temperature).
  virtual void after_optimizer_step() {}
  /// Deterministic scalars added to this step's train_log.jsonl line (e.g. the temperature).
  virtual nlohmann::json step_record() const { return nlohmann::json::object(); }

  /// Rank 0, eval mode, no grad: the epoch's validation — "val_loss" (required), "chance_loss" (optional: the loss
  /// of an uninformed model, drawn as the report's chance line), "diagnostic" {name, value, chance} (optional: the
  /// report's column) and the method's own keys. A record with "collapse" (a one-line description) stops the run
  /// before this epoch is checkpointed.
  virtual nlohmann::json validate(int64_t epoch) = 0;
  /// Rank 0: the epoch's train-side scalars (means over its `steps` steps, e.g. gradient norms) and, under "speed",
  /// its wall-clock split (data, forward parts, loss); resets the method's per-epoch accumulators. Every rank calls it.
  virtual nlohmann::json epoch_record(int64_t steps) = 0;
};

}  // namespace clcp
