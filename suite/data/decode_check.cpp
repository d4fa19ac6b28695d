#include "suite/data/decode_check.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "suite/core/error.hpp"
#include "suite/data/sample_io.hpp"

namespace clcp {

std::vector<std::string> decode_check(const Split& split, int threads, const DecodeProgress& progress) {
  const size_t n = split.records.size();
  std::vector<std::string> problems(n);
  std::atomic<size_t> next{0}, done{0};
  auto work = [&] {
    for (size_t i = next++; i < n; i = next++) {
      try {
        load_sample(split.records[i]);
      } catch (const UserError& e) {
        problems[i] = e.what();
      } catch (const std::exception& e) {
        problems[i] = split.records[i].image.string() + ": " + e.what();
      }
      ++done;
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < std::max(1, threads); ++t) pool.emplace_back(work);
  // The caller's thread reports progress while the workers decode.
  while (done.load() < n) {
    if (progress) progress(done.load(), n);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (auto& t : pool) t.join();
  if (progress) progress(n, n);
  std::vector<std::string> out;
  for (auto& p : problems)
    if (!p.empty()) out.push_back(std::move(p));
  return out;
}

}  // namespace clcp
