#include "suite/cells/threads.hpp"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <thread>

#include "suite/core/error.hpp"

namespace clcp::cells {

int parse_threads(const std::string& arg) {
  if (arg == "auto") return 0;
  int n = 0;
  const auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), n);
  if (ec != std::errc() || end != arg.data() + arg.size() || n < 1 || n > 4096)
    fail("--threads {}: expected a count from 1 to 4096 or 'auto' (the CPUs this process may use); results are "
         "bit-identical only for the same count",
         arg);
  return n;
}

int resolve_threads(int requested) {
  if (requested > 0) return requested;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

}  // namespace clcp::cells
