#include "suite/data/pair_loader.hpp"

#include <cstring>
#include <stdexcept>

#include "suite/core/error.hpp"
#include "suite/core/rng.hpp"

namespace clcp {

PairLoader::PairLoader(PairSplit split, PairPipelineOptions options, PairMode mode, uint64_t seed, int64_t batch_size,
                       int threads, int prefetch, PairRows rows)
    : split_(std::move(split)),
      options_(options),
      mode_(mode),
      seed_(seed),
      batch_size_(batch_size),
      first_row_(rows.first),
      rows_(rows.count == 0 ? batch_size : rows.count),
      batches_per_epoch_(0),
      prefetch_(prefetch),
      undistorter_(split_.camera) {
  if (batch_size < 1 || threads < 0 || prefetch < 0)
    throw std::invalid_argument("PairLoader: batch_size must be >= 1, threads and prefetch >= 0");
  if (first_row_ < 0 || rows_ < 1 || first_row_ + rows_ > batch_size)
    throw std::invalid_argument("PairLoader: rows must lie inside [0, batch_size)");
  crop_side(options_, split_.camera);  // bad crop → one line now, not in a worker
  batches_per_epoch_ = static_cast<int64_t>(split_.records.size()) / batch_size_;
  if (batches_per_epoch_ == 0)
    fail("{}: A2D2 {} split holds {} pairs, fewer than one batch of {} (batches drop the remainder); use a smaller "
         "batch size or more data", split_.root.string(), split_.name, split_.records.size(), batch_size_);
  for (int t = 0; t < threads; ++t) workers_.emplace_back([this] { worker(); });
}

PairLoader::~PairLoader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& w : workers_) w.join();
}

const std::vector<uint32_t>& PairLoader::order(uint64_t epoch) {
  auto it = orders_.find(epoch);
  if (it != orders_.end()) return it->second;
  const size_t n = split_.records.size();
  std::vector<uint32_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint32_t>(i);
  if (mode_ == PairMode::kTrain) {
    Stream s(seed_, "a2d2/order", epoch);
    for (size_t j = n - 1; j >= 1; --j)
      std::swap(p[j], p[static_cast<size_t>(s.randint(0, static_cast<int64_t>(j) + 1))]);
  }
  while (orders_.size() > 4) orders_.erase(orders_.begin());
  return orders_.emplace(epoch, std::move(p)).first->second;
}

size_t PairLoader::record_at(uint64_t epoch, int64_t q) {
  std::lock_guard<std::mutex> lock(order_mutex_);
  return order(epoch)[static_cast<size_t>(q)];
}

std::shared_ptr<PairLoader::Slot> PairLoader::make_slot() {
  auto slot = std::make_shared<Slot>();
  const int64_t s = options_.out_size;
  slot->batch.images = torch::empty({rows_, 3, s, s}, torch::kFloat32);
  slot->batch.points.resize(static_cast<size_t>(rows_));
  slot->batch.indices.resize(static_cast<size_t>(rows_));
  slot->remaining = rows_;
  return slot;
}

void PairLoader::fill_sample(Slot& slot, uint64_t g, int64_t k) {
  const uint64_t epoch = g / static_cast<uint64_t>(batches_per_epoch_);
  const int64_t i = static_cast<int64_t>(g % static_cast<uint64_t>(batches_per_epoch_));
  const int64_t q = i * batch_size_ + first_row_ + k;  // k: the slot's row
  const size_t record = record_at(epoch, q);
  PairSample s;
  try {
    s = load_pair_sample(split_, undistorter_, options_, record, mode_, seed_, epoch, static_cast<uint64_t>(q));
  } catch (const UserError&) {
    throw;
  } catch (const std::exception& e) {
    std::string what = e.what();
    if (const size_t nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
    fail("{}: decoding the pair failed ({}); re-download or regenerate it", split_.records[record].lidar.string(), what);
  }
  // Raw copy, no torch op in a worker (torch's intra-op pool stays the trainer's).
  const int64_t plane = 3 * static_cast<int64_t>(options_.out_size) * options_.out_size;
  std::memcpy(slot.batch.images.data_ptr<float>() + k * plane, s.image.data_ptr<float>(), plane * sizeof(float));
  slot.batch.points[static_cast<size_t>(k)] = s.points;
  slot.batch.indices[static_cast<size_t>(k)] = s.record;
}

void PairLoader::worker() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    work_cv_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
    if (stop_) return;
    const auto [g, k] = *tasks_.begin();
    tasks_.erase(tasks_.begin());
    std::shared_ptr<Slot> slot = slots_.at(g);
    lock.unlock();
    std::exception_ptr error;
    try {
      fill_sample(*slot, g, k);
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

PairBatch PairLoader::batch(uint64_t epoch, int64_t i) {
  if (i < 0 || i >= batches_per_epoch_)
    throw std::invalid_argument("PairLoader::batch: batch index outside [0, batches_per_epoch)");
  const uint64_t g = epoch * static_cast<uint64_t>(batches_per_epoch_) + static_cast<uint64_t>(i);
  if (workers_.empty()) {
    auto slot = make_slot();
    for (int64_t k = 0; k < rows_; ++k) fill_sample(*slot, g, k);
    return std::move(slot->batch);
  }
  std::unique_lock<std::mutex> lock(mutex_);
  const uint64_t last = g + static_cast<uint64_t>(prefetch_);
  // Forget batches outside [g, last] (after a jump); samples already in flight finish into a slot nobody reads.
  for (auto it = slots_.begin(); it != slots_.end();) {
    if (it->first < g || it->first > last) {
      for (int64_t k = 0; k < rows_; ++k) tasks_.erase({it->first, k});
      it = slots_.erase(it);
    } else {
      ++it;
    }
  }
  for (uint64_t b = g; b <= last; ++b) {
    if (slots_.count(b)) continue;
    slots_.emplace(b, make_slot());
    for (int64_t k = 0; k < rows_; ++k) tasks_.emplace(b, k);
  }
  work_cv_.notify_all();
  std::shared_ptr<Slot> slot = slots_.at(g);
  done_cv_.wait(lock, [&] { return slot->done; });
  slots_.erase(g);
  lock.unlock();
  if (slot->error) std::rethrow_exception(slot->error);
  return std::move(slot->batch);
}

}  // namespace clcp
