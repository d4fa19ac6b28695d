// Where a cell stands, read from its bundle alone (bundles are the truth; a scheduler's view only adds job ids):
// status.json for the state, stage and error line, train_log.jsonl for the last logged iteration and the recent
// speed, spec.json's recipe for max_iters and the batch size, metrics.json for a finished cell's headline numbers.
// A pretraining bundle (spec.json "kind": "pretrain", suite/results/pretrain_cell.hpp) is read the same way, with
// epochs for iterations: train_log.jsonl's last epoch and step, recipe.train.epochs, pretrain_log.jsonl's epoch
// times for the ETA, metrics.json "final" for the headline numbers.
#pragma once
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>

namespace clcp {

struct CellProgress {
  /// "done" | "running" | "interrupted" | "failed" | "never run" (no bundle folder). A folder without status.json
  /// (a cell that stopped before its first status) counts as "interrupted".
  std::string state = "never run";
  std::string stage;    ///< status.json "stage": finetune, eval, done
  std::string error;    ///< status.json "error" (failed or interrupted), "" when none
  std::string updated;  ///< status.json "updated", UTC ISO 8601
  int64_t iter = 0;     ///< last iteration in train_log.jsonl (0 when none)
  int64_t max_iters = 0;  ///< spec.json recipe.train.max_iters (0 when unknown)
  /// Seconds left for the finetune stage: (max_iters − iter) · batch_size / images_per_s of the last log line; for a
  /// running pretraining cell (epochs − epochs_done) × the mean epoch time so far. NaN when not running the finetune
  /// or pretrain stage or no speed has been logged yet.
  double eta_s = std::numeric_limits<double>::quiet_NaN();
  double miou_source = std::numeric_limits<double>::quiet_NaN();  ///< metrics.json, fraction 0..1 (done only)
  double miou_target = std::numeric_limits<double>::quiet_NaN();  ///< pooled target mIoU, fraction 0..1

  bool pretrain = false;  ///< a pretraining cell: the fields below instead of iter/max_iters and mIoU
  int64_t epoch = -1;     ///< 0-based epoch of the last train_log.jsonl step (-1 when none)
  int64_t step = 0;       ///< optimizer steps logged so far
  int64_t epochs = 0;     ///< spec.json recipe.train.epochs (0 when unknown)
  int64_t epochs_done = 0;  ///< lines in pretrain_log.jsonl (epochs validated and checkpointed)
  double val_loss = std::numeric_limits<double>::quiet_NaN();  ///< metrics.json final.val_loss (done only)
  double recall_at_1 = std::numeric_limits<double>::quiet_NaN();  ///< final retrieval image_to_lidar R@1 (done only)
};

/// Reads the bundle folder `dir` (which may not exist). Never throws for damaged files: an unreadable status.json is
/// reported as state "failed" with the reason in `error`.
CellProgress read_cell_progress(const std::filesystem::path& dir);

}  // namespace clcp
