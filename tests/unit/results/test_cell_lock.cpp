// One owner per cell: the flock on <results>/<protocol>/.locks/<cell>.lock.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/results/bundle.hpp"
#include "suite/results/cell_lock.hpp"

namespace fs = std::filesystem;
using namespace clcp;

namespace {
fs::path cell_dir(const std::string& name) {
  const fs::path root = fs::temp_directory_path() / ("clcp_lock_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "dg_acdc" / "random.full.s0-0123456789ab");
  return root / "dg_acdc" / "random.full.s0-0123456789ab";
}
}  // namespace

TEST_CASE("the lock file sits beside the bundles, outside the bundle that --force deletes") {
  CHECK(CellLock::path_for("/r/dg_acdc/random.full.s0-abc") == "/r/dg_acdc/.locks/random.full.s0-abc.lock");
  CHECK(CellLock::path_for("/r/dg_acdc/random.full.s0-abc/") == "/r/dg_acdc/.locks/random.full.s0-abc.lock");
}

TEST_CASE("a second owner of a cell is refused with the first owner's pid and start time") {
  const fs::path dir = cell_dir("second");
  CHECK(!lock_holder(dir));
  {
    const CellLock first = CellLock::acquire(dir, "clcp-bench run --scale ci", false);
    const auto holder = lock_holder(dir);
    REQUIRE(holder);
    CHECK(holder->pid == ::getpid());
    CHECK(holder->command == "clcp-bench run --scale ci");
    std::string line;
    try {
      CellLock::acquire(dir, "another", false);
    } catch (const UserError& e) {
      line = e.what();
    }
    CHECK_THAT(line, Catch::StartsWith("cell random.full.s0-0123456789ab: already being run by pid " +
                                       std::to_string(::getpid()) + " on "));
    CHECK_THAT(line, Catch::Contains(" since " + holder->started));
    CHECK_THAT(line, Catch::EndsWith("(`clcp-bench run --scale ci`); let it finish, or pass --wait to start when it "
                                     "is done"));
  }
  CHECK(!lock_holder(dir));  // released with its owner
  fs::remove_all(dir.parent_path().parent_path());
}

TEST_CASE("a waiting owner queues behind the first and gets the cell when the first is done") {
  const fs::path dir = cell_dir("wait");
  auto first = std::make_unique<CellLock>(CellLock::acquire(dir, "first", false));
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // beyond acquire()'s 0.5 s of retries
    first.reset();
  });
  int waits = 0;
  const auto t0 = std::chrono::steady_clock::now();
  const CellLock second = CellLock::acquire(dir, "second", true, [&](const LockOwner& o) {
    ++waits;
    CHECK(o.command == "first");
  });
  release.join();
  CHECK(waits == 1);
  CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(1400));
  CHECK(lock_holder(dir)->command == "second");
  fs::remove_all(dir.parent_path().parent_path());
}

TEST_CASE("a running status without a live owner reads as interrupted") {
  const fs::path dir = cell_dir("stale");
  const Bundle b(dir);
  b.write_status("running", "finetune");
  CHECK(observed_state(b) == "interrupted");  // no process holds the lock: its owner has ended
  {
    const CellLock owner = CellLock::acquire(dir, "owner", false);
    CHECK(observed_state(b) == "running");
  }
  CHECK(observed_state(b) == "interrupted");
  b.write_status("failed", "eval", "x");
  CHECK(observed_state(b) == "failed");
  fs::remove_all(dir.parent_path().parent_path());
}
