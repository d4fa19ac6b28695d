#include "suite/data/loader.hpp"

#include <algorithm>
#include <stdexcept>

#include "suite/core/error.hpp"
#include "suite/core/rng.hpp"
#include "suite/data/sample_io.hpp"

namespace clcp {

TrainLoader::TrainLoader(Split split, TrainPipelineOptions options, uint64_t seed, int64_t batch_size, int threads,
                         int prefetch)
    : split_(std::move(split)), options_(options), seed_(seed), batch_size_(batch_size), prefetch_(prefetch) {
  if (split_.records.empty())
    fail("{}: {} split '{}' has no records; check --data-root", split_.root.string(), split_.dataset, split_.name);
  if (batch_size < 1 || threads < 0 || prefetch < 0)
    throw std::invalid_argument("TrainLoader: batch_size must be >= 1, threads and prefetch >= 0");
  for (int t = 0; t < threads; ++t) workers_.emplace_back([this] { worker(); });
}

TrainLoader::~TrainLoader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& w : workers_) w.join();
}

const std::vector<uint32_t>& TrainLoader::permutation(uint64_t epoch) {
  auto it = permutations_.find(epoch);
  if (it != permutations_.end()) return it->second;
  const size_t n = split_.records.size();
  std::vector<uint32_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint32_t>(i);
  Stream s(seed_, "order", epoch);
  for (size_t j = n - 1; j >= 1; --j) std::swap(p[j], p[static_cast<size_t>(s.randint(0, static_cast<int64_t>(j) + 1))]);
  // Keep only epochs near this one (a batch spans at most two adjacent epochs unless B > n).
  while (permutations_.size() > 4) permutations_.erase(permutations_.begin());
  return permutations_.emplace(epoch, std::move(p)).first->second;
}

size_t TrainLoader::record_index(uint64_t iteration, int64_t k) {
  const uint64_t n = split_.records.size();
  const uint64_t q = iteration * static_cast<uint64_t>(batch_size_) + static_cast<uint64_t>(k);
  std::lock_guard<std::mutex> lock(order_mutex_);
  return permutation(q / n)[q % n];
}

std::shared_ptr<TrainLoader::Slot> TrainLoader::make_slot(uint64_t iteration) {
  auto slot = std::make_shared<Slot>();
  slot->batch.images = torch::empty({batch_size_, 3, options_.crop_h, options_.crop_w}, torch::kFloat32);
  slot->batch.labels = torch::empty({batch_size_, options_.crop_h, options_.crop_w}, torch::kInt64);
  slot->batch.indices.resize(static_cast<size_t>(batch_size_));
  for (int64_t k = 0; k < batch_size_; ++k) slot->batch.indices[static_cast<size_t>(k)] = record_index(iteration, k);
  slot->remaining = batch_size_;
  return slot;
}

void TrainLoader::fill_sample(Slot& slot, uint64_t iteration, int64_t k) {
  const size_t index = slot.batch.indices[static_cast<size_t>(k)];
  const LoadedSample loaded = load_sample(split_.records[index]);
  const TrainSample t = apply_train_pipeline(loaded, options_, seed_, iteration, static_cast<uint64_t>(k));
  const int64_t plane = static_cast<int64_t>(options_.crop_h) * options_.crop_w;
  write_normalised_padded(t.image, t.label, options_.mean_rgb, options_.std_rgb, options_.crop_h, options_.crop_w,
                          slot.batch.images.data_ptr<float>() + k * 3 * plane,
                          slot.batch.labels.data_ptr<int64_t>() + k * plane);
}

void TrainLoader::worker() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    work_cv_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
    if (stop_) return;
    const auto [iteration, k] = *tasks_.begin();
    tasks_.erase(tasks_.begin());
    std::shared_ptr<Slot> slot = slots_.at(iteration);  // a task is removed together with its slot
    lock.unlock();
    std::exception_ptr error;
    try {
      fill_sample(*slot, iteration, k);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (error && !slot->error) slot->error = error;
    if (--slot->remaining == 0) {
      slot->done = true;
      done_cv_.notify_all();
    }
  }
}

Batch TrainLoader::batch(uint64_t iteration) {
  if (workers_.empty()) {
    auto slot = make_slot(iteration);
    for (int64_t k = 0; k < batch_size_; ++k) fill_sample(*slot, iteration, k);
    return std::move(slot->batch);
  }
  std::unique_lock<std::mutex> lock(mutex_);
  const uint64_t last = std::max(iteration, std::min(iteration + static_cast<uint64_t>(prefetch_), end_ - 1));
  // Forget batches outside [iteration, last] (after a jump): drop their pending tasks; samples already in flight
  // finish into a slot nobody reads.
  for (auto it = slots_.begin(); it != slots_.end();) {
    if (it->first < iteration || it->first > last) {
      for (int64_t k = 0; k < batch_size_; ++k) tasks_.erase({it->first, k});
      it = slots_.erase(it);
    } else {
      ++it;
    }
  }
  for (uint64_t i = iteration; i <= last; ++i) {
    if (slots_.count(i)) continue;
    slots_.emplace(i, make_slot(i));
    for (int64_t k = 0; k < batch_size_; ++k) tasks_.emplace(i, k);
  }
  work_cv_.notify_all();
  std::shared_ptr<Slot> slot = slots_.at(iteration);
  done_cv_.wait(lock, [&] { return slot->done; });
  slots_.erase(iteration);
  lock.unlock();
  if (slot->error) std::rethrow_exception(slot->error);
  return std::move(slot->batch);
}

}  // namespace clcp
