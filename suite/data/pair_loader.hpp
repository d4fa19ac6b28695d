// The CLCP pretraining loader: batches of camera/lidar pairs (a2d2_sample.hpp) as the thesis's a2d2_loader.py
// builds them — images stacked to [B, 3, S, S], point clouds kept as a list of B tensors [Ni, 4], drop_last for train
// and val, shuffled order for train and sequential for val (clcp_reference.md §1.4) — made deterministic
// (DESIGN.md "Determinism"):
//  - epoch e's order: train = a permutation drawn from Stream(seed, "a2d2/order", e) by Fisher–Yates
//    (for j = n−1 … 1: swap(p[j], p[randint(0, j+1)])), val = 0 … n−1;
//  - batch (e, i) holds positions [i·B, (i+1)·B) of that order (batches_per_epoch = n / B, the rest dropped);
//  - the sample at position q is load_pair_sample(…, record p[q], mode, seed, epoch e, position q).
// So batch (e, i) is a pure function of (split, options, mode, seed, B, e, i) whatever the thread count, the prefetch
// depth or the call order (resume at any batch).
// Rows (data-parallel pretraining): a loader given PairRows{first, count} returns, of every batch, only positions
// [i·B + first, i·B + first + count) — rank r of W takes first = r·B/W, count = B/W — and those samples are the same
// bytes as the same rows of the whole batch (each sample depends only on its position).
//
// Threads: `threads` workers decode the samples of upcoming batches (up to `prefetch` batches after the requested one,
// continuing into the next epoch), as suite/data/loader.hpp's TrainLoader. A failure while decoding — prefetch
// included — is kept with its batch and thrown when that batch is requested, as one line naming the file
// (UserError; other exceptions are wrapped into one).
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

#include "suite/data/a2d2.hpp"
#include "suite/data/a2d2_sample.hpp"

namespace clcp {

/// The rows of each batch a loader returns: count = 0 means all B.
struct PairRows {
  int64_t first = 0, count = 0;
};

struct PairBatch {
  torch::Tensor images;               ///< [B, 3, S, S] float32, normalised RGB (S = options.out_size)
  std::vector<torch::Tensor> points;  ///< B tensors [Ni, 4] float32 (x, y, z, reflectance), Ni ≥ 1
  std::vector<size_t> indices;        ///< record index (in split.records) each sample finally used (after retries)
};

class PairLoader {
 public:
  /// batch_size ≥ 1, threads ≥ 0 (0 = decode in the caller), prefetch ≥ 0, rows inside [0, batch_size). Throws
  /// UserError if the split holds fewer records than one batch (drop_last would leave no batch),
  /// std::invalid_argument for bad counts.
  PairLoader(PairSplit split, PairPipelineOptions options, PairMode mode, uint64_t seed, int64_t batch_size,
             int threads, int prefetch, PairRows rows = {});
  ~PairLoader();
  PairLoader(const PairLoader&) = delete;
  PairLoader& operator=(const PairLoader&) = delete;

  /// n / B: full batches per epoch.
  int64_t batches_per_epoch() const { return batches_per_epoch_; }

  /// Batch i (0 ≤ i < batches_per_epoch) of epoch `epoch` (its rows, see PairRows). Blocks until ready; schedules the
  /// next `prefetch`.
  /// Rethrows the first error of any of its samples (UserError naming the file).
  PairBatch batch(uint64_t epoch, int64_t i);

  /// The record at position q of epoch `epoch`'s order (before retries).
  size_t record_at(uint64_t epoch, int64_t q);

  const PairSplit& split() const { return split_; }

 private:
  struct Slot {
    PairBatch batch;
    int64_t remaining = 0;
    bool done = false;
    std::exception_ptr error;
  };

  const std::vector<uint32_t>& order(uint64_t epoch);  // requires order_mutex_
  std::shared_ptr<Slot> make_slot();
  void fill_sample(Slot& slot, uint64_t g, int64_t k);
  void worker();

  PairSplit split_;
  PairPipelineOptions options_;
  PairMode mode_;
  uint64_t seed_;
  int64_t batch_size_;
  int64_t first_row_, rows_;  // the rows of each batch returned
  int64_t batches_per_epoch_;
  int prefetch_;
  Undistorter undistorter_;

  std::mutex order_mutex_;
  std::map<uint64_t, std::vector<uint32_t>> orders_;  // a few recent epochs

  std::mutex mutex_;
  std::condition_variable work_cv_, done_cv_;
  std::map<uint64_t, std::shared_ptr<Slot>> slots_;  // by global batch number g = epoch·batches_per_epoch + i
  std::set<std::pair<uint64_t, int64_t>> tasks_;     // (g, k) not yet started, earliest first
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace clcp
