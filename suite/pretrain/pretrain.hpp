// The CLCP pretraining loop of one cell (clcp_reference.md §1.5–1.9): symmetric InfoNCE between the image and lidar
// towers (models/clcp/), AdamW with one parameter group (the clip form's logit_scale in a second group without
// weight decay), the lr set at the start of every epoch from schedule.hpp, drop_last batches. The loop knows nothing
// of datasets: it pulls batches from two PairSources whose batch(epoch, i) must be pure functions of their arguments.
//
// Per step: train_log.jsonl {"epoch", "step", "loss", "lr", "temperature", "tau"} (deterministic) + {"time_s"}.
// Per epoch: pretrain_log.jsonl {"epoch", "lr", "train_loss" (mean over the epoch's steps), "val_loss" (mean over the
// val batches, eval mode), "chance_loss" = ln B, "temperature" (raw t or s), "tau" (effective τ), "loss_floor" (the
// lowest loss the current scale allows, info_nce.hpp), "grad_norm": {"image", "lidar"} (mean over steps of the global
// L2 norm of each tower's gradients), "retrieval" (retrieval.hpp on the val pairs)} — all deterministic for a fixed
// build, thread count and inputs — plus "speed": {"pairs_per_s", "time_s", "voxelize_s", …} (wall clock).
// Checkpoints every epoch (pretrain_checkpoint.hpp) and the exported image encoder.
// Lidar "frozen": requires_grad off, not in the optimiser, forward without autograd; its BatchNorm in train mode
// (lidar_bn "train", as the thesis) or eval. Resume: from checkpoints/latest.json, the next epoch starts from the
// saved model, AdamW state and step count; an epoch interrupted half-way is run again from its start, giving the same
// bytes as an uninterrupted run.
//
// Data parallel (PretrainConfig::comm of world W > 1, every rank calling pretrain() together): parameters and buffers
// are broadcast from rank 0 at the start (after rank 0 resumed, with its AdamW state); train.batch(e, i) returns this
// rank's rows [r·B/W, (r+1)·B/W) of global batch i (B must divide by W); the loss is distributed.hpp's rank term
// under cfg.negatives, and the logged loss is its mean over the ranks (= the step's objective); gradients are
// averaged over the ranks in 25 MB buckets before the optimiser step, so parameters and AdamW state stay identical
// on every rank; BatchNorm buffers (the lidar tower's running statistics) are broadcast from rank 0 after every
// step — each rank's BatchNorm normalises with the statistics of its own rows, as DDP without SyncBatchNorm; the
// projection head's dropout key is (seed, step·W + rank). Only rank 0 reads checkpoints, runs validation (on full
// batches of B, as one process) and writes logs, checkpoints and exports; the other ranks write nothing. The stop
// flag and a non-finite loss are agreed on by all ranks each step, so they stop together.
#pragma once
#include <torch/torch.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "models/clcp/clcp_model.hpp"
#include "suite/data/pair_loader.hpp"
#include "suite/dist/comm.hpp"
#include "suite/pretrain/schedule.hpp"

namespace clcp {

/// Batches of one split: PairBatch (suite/data/pair_loader.hpp) holds images [B, 3, 224, 224] float32 and B clouds
/// [N_b, 4] float32 (x, y, z, reflectance), each non-empty.
struct PairSource {
  int64_t batches = 0;  ///< batches per epoch (drop_last)
  std::function<PairBatch(int64_t epoch, int64_t index)> batch;
};

struct PretrainConfig {
  int64_t epochs = 68, batch_size = 256;
  EpochScheduleSpec schedule;
  double weight_decay = 1e-2, beta1 = 0.9, beta2 = 0.98, eps = 1e-8;
  std::string lidar_mode = "trainable";  ///< "trainable" | "frozen"
  std::string lidar_bn = "train";        ///< frozen tower's BatchNorm mode: "train" | "eval"
  std::string temperature = "inv_exp";   ///< "inv_exp" | "clip"
  std::vector<int64_t> keep_epochs;      ///< checkpoints and exports kept besides the newest
  std::vector<int64_t> retrieval_ks{1, 5, 10};
  uint64_t seed = 0;
  std::string fingerprint;               ///< recorded in checkpoints; a resume with another one is refused
  int threads = 0;                       ///< LibTorch threads, recorded in checkpoints; a resume with another count
                                         ///< is refused (bits depend on it); 0 = unknown, neither recorded nor checked
  std::string cell_id;                   ///< recorded in exports
  torch::Device device = torch::kCPU;
  const std::atomic<bool>* stop = nullptr;  ///< checked after every step
  dist::Comm* comm = nullptr;            ///< data parallel: this rank's group (null or world 1: one process)
  std::string negatives = "local";       ///< world > 1: "local" | "global" (suite/pretrain/distributed.hpp)
};

struct PretrainProgress {
  int64_t epoch, epochs, step_in_epoch, steps_per_epoch;
  double loss, lr, pairs_per_s, eta_s;
};

struct PretrainResult {
  int64_t epochs_done = 0;   ///< completed epochs (== epochs when completed)
  bool completed = false;    ///< false when stopped via PretrainConfig::stop
  int64_t resumed_from = -1; ///< epoch of the checkpoint resumed from (−1: fresh start)
  double pairs_per_s = 0;    ///< this process's training throughput (wall clock)
};

/// Trains `model` for cfg.epochs epochs into `cell_dir` (see above). Errors (UserError): bad config (a batch size
/// that does not split into W equal parts: "pretrain: batch size B does not split into W equal per-rank parts …"); a
/// train source
/// with no batch ("fewer pairs than one batch: drop_last would train on nothing"); a checkpoint of another seed or
/// fingerprint; a non-finite loss — "epoch E step S: loss is NaN/Inf; last good epoch checkpoint kept at …".
PretrainResult pretrain(ClcpModelImpl& model, const PairSource& train, const PairSource& val,
                        const PretrainConfig& cfg, const std::filesystem::path& cell_dir,
                        const std::function<void(const PretrainProgress&)>& progress = {});

}  // namespace clcp
