// The finetuning train loader: mmengine InfiniteSampler(shuffle) + the train pipeline + SegDataPreProcessor, made
// deterministic (DESIGN.md "Determinism"). Batch i is a pure function of (split, options, seed, batch_size, i):
//  - the sample order is an infinite sequence of epochs, epoch e a permutation of the split drawn from
//    Stream(seed, "order", e) by Fisher–Yates (for j = n−1 … 1: swap(p[j], p[randint(0, j+1)]));
//  - batch i holds the global positions [i·B, (i+1)·B), position q → epoch q / n, record perm_e[q % n];
//  - the sample at batch position k is augmented with apply_train_pipeline(…, seed, iteration = i, sample_index = k).
// So batch(i) gives the same tensors whatever the thread count, prefetch depth or call order (resume at any i).
//
// Threads: `threads` worker std::threads decode and augment the samples of upcoming batches (up to `prefetch`
// batches beyond the one requested), writing straight into preallocated batch tensors; torch ops are not used in the
// workers and torch's intra-op thread setting is left untouched. OpenCV's own thread pool is also left as configured
// (cv::setNumThreads is process-global and would change the eval stage too): its resize/cvtColor/flip give identical
// bytes for any thread count, and calls that arrive while its pool is busy run serially in the caller, so the
// workers do not oversubscribe the machine by more than the pool size.
//
// Cost: decoding the 2048×1024 Cityscapes PNG dominates (≈ 0.12 s per sample measured on the shared 2-core dev box
// under load; resize + crop + flip + photometric ≈ 0.03 s), so a batch of 8 takes ≈ 1.2 s of one core. With
// threads ≥ 2 and prefetch ≥ 1 the loader keeps up with a ViT-S forward+backward of 1–2 s per batch.
#pragma once
#include <torch/torch.h>

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "suite/data/dataset.hpp"
#include "suite/data/transforms.hpp"

namespace clcp {

struct Batch {
  torch::Tensor images;         ///< [B,3,crop_h,crop_w] float32, normalised RGB, padded bottom/right with 0
  torch::Tensor labels;         ///< [B,crop_h,crop_w] int64 trainIds 0..18, 255 = ignore (also the padding)
  std::vector<size_t> indices;  ///< record index in split.records of each sample
};

class TrainLoader {
 public:
  /// batch_size ≥ 1; threads ≥ 0 (0 = decode in the caller of batch(), no workers); prefetch ≥ 0 batches ahead.
  /// Throws UserError if the split is empty, std::invalid_argument for a bad batch_size/threads/prefetch.
  TrainLoader(Split split, TrainPipelineOptions options, uint64_t seed, int64_t batch_size, int threads,
              int prefetch);
  ~TrainLoader();
  TrainLoader(const TrainLoader&) = delete;
  TrainLoader& operator=(const TrainLoader&) = delete;

  /// The batch for `iteration` (0-based). Blocks until it is ready and schedules the next `prefetch` batches.
  /// Errors from load_sample (UserError naming the file) are rethrown here.
  Batch batch(uint64_t iteration);

  /// Batches at or after `end` (the schedule's length) are never prefetched: a sample after the last iteration is
  /// neither decoded for nothing nor able to fail where no one would see it. Default: no end.
  void set_end(uint64_t end) { end_ = end; }

  /// Record index at position k of batch `iteration` (the sampler alone, no decoding).
  size_t record_index(uint64_t iteration, int64_t k);

  const Split& split() const { return split_; }
  int64_t batch_size() const { return batch_size_; }

 private:
  struct Slot {
    Batch batch;
    int64_t remaining = 0;
    bool done = false;
    std::exception_ptr error;
  };

  const std::vector<uint32_t>& permutation(uint64_t epoch);  // requires order_mutex_
  std::shared_ptr<Slot> make_slot(uint64_t iteration);
  void fill_sample(Slot& slot, uint64_t iteration, int64_t k);
  void worker();

  Split split_;
  TrainPipelineOptions options_;
  uint64_t seed_;
  int64_t batch_size_;
  int prefetch_;
  uint64_t end_ = UINT64_MAX;

  std::mutex order_mutex_;
  std::map<uint64_t, std::vector<uint32_t>> permutations_;  // a few recent epochs

  std::mutex mutex_;
  std::condition_variable work_cv_, done_cv_;
  std::map<uint64_t, std::shared_ptr<Slot>> slots_;  // scheduled batches by iteration
  std::set<std::pair<uint64_t, int64_t>> tasks_;     // (iteration, k) not yet started, earliest first
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace clcp
