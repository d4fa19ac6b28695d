#include "suite/data/notes.hpp"

#include <spdlog/spdlog.h>

#include <mutex>

namespace clcp {
namespace {
std::mutex g_mutex;
std::map<std::string, uint64_t> g_counts;
}  // namespace

void note_once(const std::string& kind, const std::string& line) {
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_counts[kind]++ > 0) return;
  }
  spdlog::warn("note: {}", line);
}

std::map<std::string, uint64_t> note_counts() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_counts;
}

}  // namespace clcp
