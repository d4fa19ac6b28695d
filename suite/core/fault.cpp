#include "suite/core/fault.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>

namespace clcp {
namespace {

struct Plan {
  std::string text;  // "" = disabled
  long nth = 1;
};

Plan read_plan(const char* variable) {
  Plan q;
  const char* v = std::getenv(variable);
  if (!v || !*v) return q;
  q.text = v;
  if (const auto hash = q.text.rfind('#'); hash != std::string::npos) {
    q.nth = std::max(1L, std::strtol(q.text.c_str() + hash + 1, nullptr, 10));
    q.text.resize(hash);
  }
  return q;
}

// True when `name` is the plan's selected (nth matching) point; `hits` counts the matching points so far.
bool selected(const Plan& p, std::atomic<long>& hits, std::string_view name) {
  if (p.text.empty() || name.find(p.text) == std::string_view::npos) return false;
  return hits.fetch_add(1) + 1 == p.nth;
}

std::atomic<long> g_hits{0}, g_nan_hits{0};

}  // namespace

void fault_point(std::string_view name) {
  static const Plan p = read_plan("CLCP_FAULT_KILL");
  if (selected(p, g_hits, name)) ::kill(::getpid(), SIGKILL);
}

bool fault_nan(std::string_view name) {
  static const Plan p = read_plan("CLCP_FAULT_NAN");
  return selected(p, g_nan_hits, name);
}

}  // namespace clcp
