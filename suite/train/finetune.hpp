// The finetuning loop of one cell: SGD + poly lr, mmseg-style logging and checkpoints, exact resume.
// Reproduces the thesis recipe (clcp_reference.md §3.2): SGD lr 0.01, momentum 0.9, weight_decay 0, no nesterov,
// PolyLR power 0.9 / eta_min 1e-4 stepped per iteration, CE averaged over all pixels, "fb" = frozen backbone.
// The loop knows nothing of datasets or of the model's architecture: it takes a batch source and a model adapter.
#pragma once
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <torch/torch.h>

#include "models/precision.hpp"

#include "suite/train/checkpoint.hpp"
#include "suite/train/progress.hpp"

namespace clcp {

struct FinetuneConfig {
  int64_t max_iters = 80000;
  int64_t batch_size = 8;             ///< images per iteration (used for images_per_s only; batches come from outside)
  double lr = 0.01;                   ///< base lr of iteration 0
  double momentum = 0.9;
  double weight_decay = 0.0;
  double eta_min = 1e-4;              ///< poly floor, reached at the last iteration
  double power = 0.9;
  int64_t checkpoint_interval = 8000; ///< checkpoint after every N completed iterations (≤0: only at the end)
  int64_t log_interval = 100;         ///< train_log.jsonl line after every N completed iterations (≤0: only at the end)
  int64_t keep_last = 0;              ///< checkpoints kept besides the final one; ≤0 keeps all (as the thesis config)
  std::string mode = "full";          ///< "full" | "frozen" (backbone requires_grad=false and not in the optimiser)
  uint64_t seed = 0;                  ///< recorded in checkpoints; a resume with another seed is refused
  int threads = 0;                    ///< LibTorch threads, recorded in checkpoints; a resume with another count is
                                      ///< refused (the bits depend on it); 0 = not recorded, not checked
  torch::Device device = torch::kCPU;
  int64_t ignore_index = 255;
  /// bf16: the forward runs under autocast (models/precision.hpp); the loss is computed in fp32 from the logits.
  Precision precision = Precision::kFp32;
  /// Optional stop request (e.g. set by a SIGINT handler or a test): checked after each iteration; when set, the loop
  /// writes a checkpoint of the completed iterations and returns with completed=false. The run can be resumed.
  const std::atomic<bool>* stop = nullptr;
};

/// One images/labels batch as the loop consumes it (suite/data/loader.hpp's Batch adapts to this 1:1).
struct TrainBatch {
  torch::Tensor images;  ///< [B,3,H,W] float32, normalised
  torch::Tensor labels;  ///< [B,H,W] int64 trainIds, 255 = ignore
};
/// Batch of 0-based iteration t. Must be a pure function of t (and the cell's seed) for resume to be exact.
using BatchFn = std::function<TrainBatch(uint64_t iteration)>;

/// What the loop needs from a model. `module` owns the parameters; its clcp::state_dict() names
/// (models/state_dict.hpp) are the checkpoint keys unless state_dict/load_state_dict are given.
struct TrainableModel {
  torch::nn::Module* module = nullptr;
  std::function<torch::Tensor(const torch::Tensor&)> forward;  ///< images [B,3,H,W] → logits [B,K,h,w]
  std::function<void(uint64_t iteration)> before_step;          ///< optional; e.g. keys drop_path masks by iteration
  std::string backbone_prefix = "backbone.";                    ///< parameters frozen in mode "frozen"
  std::function<TensorMap()> state_dict;                        ///< optional override
  std::function<void(const TensorMap&)> load_state_dict;        ///< optional override (strict)
};

/// Per-iteration progress (iter = completed iterations, 1-based). images_per_s and eta_s are averages over this
/// process's iterations so far (not deterministic; display only).
struct TrainProgress {
  int64_t iter;
  int64_t max_iters;
  double loss;
  double lr;
  double images_per_s;
  double eta_s;
};
using TrainProgressFn = std::function<void(const TrainProgress&)>;

/// A TrainProgressFn that shows "finetune 120/500 | loss 1.234 | lr 9.1e-03 | 6.1 img/s | ETA 1m02s" on `line`.
/// `line` must outlive the returned function.
TrainProgressFn progress_printer(ProgressLine& line);

struct FinetuneResult {
  int64_t iterations_done = 0;        ///< completed iterations (== max_iters when completed)
  bool completed = false;             ///< false when stopped early via FinetuneConfig::stop
  int64_t resumed_from = 0;           ///< checkpoint iteration resumed from (0 = fresh start)
  double last_loss = 0.0;             ///< loss of the last iteration run in this process (NaN if none ran)
  CheckpointFiles last_checkpoint;    ///< newest checkpoint written or resumed from
};

/// Trains `model` on `next_batch` for cfg.max_iters iterations, writing into `cell_dir`:
///   train_log.jsonl  one JSON object per log point: {"iter","loss","lr","acc_seg"} (deterministic: bit-identical
///                    across runs with the same seed/threads) + {"images_per_s","time_s"} (wall clock);
///                    "iter" counts completed iterations; loss/lr/acc_seg are those of that iteration.
///   checkpoints/     see checkpoint.hpp.
/// Iteration t (0-based) calls next_batch(t), before_step(t), forward, seg_cross_entropy, backward, and an SGD step
/// with lr = poly_lr(t, …) (set before the step, as mmengine whose scheduler steps after each iteration).
/// Resume: if checkpoints/latest.json exists the model, momentum buffers and iteration N are restored, log lines with
/// iter > N are dropped, and training continues with t = N, giving the same final weights as an uninterrupted run.
/// Errors (UserError): bad config; a checkpoint of another seed or thread count; non-finite loss — "iteration N: loss is NaN/Inf; last
/// good checkpoint kept at <path>; lower the lr or check the labels" (nothing is saved from the bad state).
FinetuneResult finetune(const TrainableModel& model, const BatchFn& next_batch, const FinetuneConfig& cfg,
                        const std::filesystem::path& cell_dir, const TrainProgressFn& progress = {});

}  // namespace clcp
