// What `clcp-bench run` does around each cell so that nothing is lost, nothing stale is reused and nothing fails
// silently (issue 11): one owner per cell (cell_lock.hpp), a dead owner's "running" turned into "interrupted", a
// finished cell reused only when it verifies (integrity.hpp) and was computed with this run's thread count, and the
// final status written without letting a failing write (full disk) hide the error that ended the cell.
#pragma once
#include <string>

#include "suite/results/bundle.hpp"
#include "suite/results/cell_lock.hpp"

namespace clcp::cli {

/// Takes the cell's lock (wait: queue behind another owner instead of stopping with its pid and start time), then
/// removes temp files a dead owner left mid-write. If status.json still says "running", its process is gone: logs
/// that and records the cell as "interrupted".
CellLock claim_cell(const Bundle& b, const std::string& command, bool wait);

/// Throws UserError unless the finished bundle verifies and was computed with `threads` LibTorch threads.
void check_reusable(const Bundle& b, int threads);

/// Writes the cell's final status after an error (`line`: the error's one line). A status write that fails in turn
/// (the same full disk) is reported as a note; the caller rethrows the original error.
void record_end(const Bundle& b, const std::string& state, const std::string& stage, const std::string& line);

}  // namespace clcp::cli
