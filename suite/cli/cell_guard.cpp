#include "suite/cli/cell_guard.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <vector>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/results/integrity.hpp"

namespace clcp::cli {
namespace fs = std::filesystem;

CellLock claim_cell(const Bundle& b, const std::string& command, bool wait) {
  CellLock lock = CellLock::acquire(b.dir(), command, wait, [&](const LockOwner& owner) {
    spdlog::info("cell {}: being run by {}; waiting for it to finish (--wait)", b.dir().filename().string(),
                 owner.describe());
  });
  // Temp files of an owner that died mid-write (write_atomic's <file>.tmp.<pid>.<n>) are garbage now.
  std::error_code ec;
  std::vector<fs::path> stale;
  for (auto it = fs::recursive_directory_iterator(b.dir(), ec); !ec && it != fs::recursive_directory_iterator(); ++it)
    if (it->is_regular_file() && it->path().filename().string().find(".tmp.") != std::string::npos)
      stale.push_back(it->path());
  for (const auto& f : stale) fs::remove(f, ec);
  if (b.state() == "running") {
    // We hold the lock, so whoever wrote "running" has ended without finishing.
    std::string who = "its previous run", stage;
    try {
      const auto st = read_json(b.status_path());
      if (st.contains("pid") && st["pid"].is_number()) who = fmt::format("its previous run (pid {})", st["pid"].get<int64_t>());
      stage = st.value("stage", "");
    } catch (const UserError&) {
    }
    const std::string line = fmt::format("{} ended during {} without finishing (killed or crashed)", who,
                                         stage.empty() ? "its work" : "stage " + stage);
    spdlog::info("cell {}: interrupted: {}; running it again", b.dir().filename().string(), line);
    record_end(b, "interrupted", stage, line);
  }
  return lock;
}

void check_reusable(const Bundle& b, int threads) {
  const std::string cell = b.dir().filename().string();
  const BundleCheck check = verify_bundle(b.dir());
  if (!check.ok)
    fail("cell {}: finished, but {}; re-run it with --force (or move the bundle away)", cell, check.problem);
  int64_t done_with = 0;
  try {
    done_with = b.read_provenance().value("threads", int64_t{0});
  } catch (const std::exception&) {
  }
  if (done_with > 0 && done_with != threads)
    fail("cell {}: finished with --threads {}, this run uses {}; results are bit-identical only for the same count: "
         "run with --threads {} to reuse it, or add --force to recompute it with {}",
         cell, done_with, threads, done_with, threads);
}

void record_end(const Bundle& b, const std::string& state, const std::string& stage, const std::string& line) {
  try {
    b.write_status(state, stage, line);
  } catch (const UserError& e) {
    spdlog::warn("note: the cell's status could not be recorded ({}); `clcp-bench status` and reports show it as "
                 "interrupted once this process has ended",
                 e.what());
  }
}

}  // namespace clcp::cli
