// The generic pretraining loop of one cell: it runs any PretrainMethod (method.hpp) and knows none. What it owns:
// AdamW (the method's two parameter groups: its weight decay, and none), the lr set at the start of every epoch from
// schedule.hpp, resume, data parallelism, the NaN stop, logs, checkpoints and the exported image encoder.
//
// Per step: train_log.jsonl {"epoch", "step", "loss", "lr", + the method's step_record()} (deterministic) +
// {"time_s"}. Per epoch (rank 0): pretrain_log.jsonl {"epoch", "lr", "steps", "train_loss" (mean over the epoch's
// steps), + the method's validate() ("val_loss", its diagnostics) and epoch_record()} — all deterministic for a fixed
// build, thread count and inputs — plus "speed": {"<unit>_per_s", "time_s", "epoch_s", "backward_s",
// "optimizer_s", "val_s", + the method's parts} (wall clock). Checkpoints every epoch (pretrain_checkpoint.hpp) and
// the exported image encoder (the method names its state-dict prefix). Resume: from checkpoints/latest.json, the
// next epoch starts from the saved model, AdamW state and step count; an epoch interrupted half-way is run again from
// its start, giving the same bytes as an uninterrupted run.
//
// Data parallel (PretrainConfig::comm of world W > 1, every rank calling pretrain() together): parameters and buffers
// are broadcast from rank 0 at the start (after rank 0 resumed, with its AdamW state); the method's batch (e, i) on
// rank r holds rows [r·B/W, (r+1)·B/W) of global batch i (B must divide by W); the logged loss is the mean of the
// rank terms (= the step's objective); gradients are averaged over the ranks in 25 MB buckets before the optimizer
// step, so parameters and AdamW state stay identical on every rank; buffers (BatchNorm running statistics) are
// broadcast from rank 0 after every step — each rank's BatchNorm normalises with the statistics of its own rows, as
// DDP without SyncBatchNorm. Only rank 0 reads checkpoints, validates and writes logs, checkpoints and exports; the
// other ranks write nothing. The stop flag and a non-finite loss are agreed on by all ranks each step, so they stop
// together.
#pragma once
#include <torch/torch.h>

#include "models/precision.hpp"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "suite/dist/comm.hpp"
#include "suite/pretrain/method.hpp"
#include "suite/pretrain/schedule.hpp"

namespace clcp {

struct PretrainConfig {
  int64_t epochs = 68, batch_size = 256;
  EpochScheduleSpec schedule;
  double weight_decay = 1e-2, beta1 = 0.9, beta2 = 0.98, eps = 1e-8;
  std::vector<int64_t> keep_epochs;      ///< checkpoints and exports kept besides the newest
  uint64_t seed = 0;
  std::string fingerprint;               ///< recorded in checkpoints; a resume with another one is refused
  int threads = 0;                       ///< LibTorch threads, recorded in checkpoints; a resume with another count
                                         ///< is refused (bits depend on it); 0 = unknown, neither recorded nor checked
  std::string cell_id;                   ///< recorded in exports
  torch::Device device = torch::kCPU;
  /// bf16: each step's train_loss runs under autocast (models/precision.hpp); validation stays fp32.
  Precision precision = Precision::kFp32;
  const std::atomic<bool>* stop = nullptr;  ///< checked after every step
  dist::Comm* comm = nullptr;            ///< data parallel: this rank's group (null or world 1: one process)
};

struct PretrainProgress {
  int64_t epoch, epochs, step_in_epoch, steps_per_epoch;
  double loss, lr, samples_per_s, eta_s;
};

struct PretrainResult {
  int64_t epochs_done = 0;    ///< completed epochs (== epochs when completed)
  bool completed = false;     ///< false when stopped via PretrainConfig::stop
  int64_t resumed_from = -1;  ///< epoch of the checkpoint resumed from (−1: fresh start)
  double samples_per_s = 0;   ///< this process's training throughput (wall clock), in the method's sample_unit()
};

/// Trains `method` for cfg.epochs epochs into `cell_dir` (see above). Errors (UserError): bad config (epochs < 1,
/// batch < 2, a batch size that does not split into W equal parts: "pretrain: batch size B does not split into W
/// equal per-rank parts …"); whatever the method's bind() refuses; a checkpoint of another seed, fingerprint or
/// thread count; a non-finite loss — "epoch E step S: loss is NaN/Inf; last good epoch checkpoint kept at …".
PretrainResult pretrain(PretrainMethod& method, const PretrainConfig& cfg, const std::filesystem::path& cell_dir,
                        const std::function<void(const PretrainProgress&)>& progress = {});

}  // namespace clcp
