// --threads: a count ≥ 1 or "auto". LibTorch's intra-op thread count decides how its reductions are split, so the
// bits of every result depend on it (README "Determinism"); the count is therefore recorded in provenance.json and
// in every checkpoint, and a resume or a reuse of a finished cell with another count is refused (cell_guard.hpp).
#pragma once
#include <string>

namespace clcp::cells {

/// "auto" → 0 (resolved by resolve_threads); "1", "2", … → that count. Throws UserError for 0, negatives, more than
/// 4096 and anything that is not a whole number: "--threads 0: expected a count ≥ 1 or 'auto' …".
int parse_threads(const std::string& arg);

/// 0 → the CPUs this process may run on (sched_getaffinity: a Slurm or cgroup CPU set, else every core); n → n.
int resolve_threads(int requested);

}  // namespace clcp::cells
