// One owner per cell: an advisory lock (flock(2), exclusive) on <results>/<protocol>/.locks/<cell-id>.lock, held by
// the process that runs the cell from before it reads the bundle's state until it has written its final status.
// The lock file sits outside the bundle so that `--force` can delete and recreate the bundle under the lock. The
// kernel drops a flock when its holder dies however it dies (kill -9, OOM, node reboot for local disks), so a lock
// left by a killed process is free by construction; the owner record in the file (pid, host, start time, command)
// only names who holds it while it is held. flock works on local file systems and on NFS (Linux emulates it with
// POSIX locks there since 2.6.12); on a file system without working locks two runs are not kept apart.
#pragma once
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "suite/results/bundle.hpp"

namespace clcp {

/// Who holds a cell's lock (from its owner record; fields empty/0 if the record was not yet written).
struct LockOwner {
  int64_t pid = 0;
  std::string host, started, command;  ///< started: UTC ISO 8601
  std::string describe() const;        ///< "pid 1234 on host since 2026-…Z"
};

class CellLock {
 public:
  /// <bundle_dir>/../.locks/<bundle name>.lock
  static std::filesystem::path path_for(const std::filesystem::path& bundle_dir);

  /// Takes the lock of the cell whose bundle is `bundle_dir` and writes this process's owner record (`command` is
  /// the command line shown to others). If another process holds it: with wait = false, throws UserError "cell
  /// <id>: already being run by pid N on HOST since T (CMD); let it finish, or pass --wait to start when it is
  /// done"; with wait = true, calls on_wait(owner) and blocks until the lock is free. Throws UserError naming the
  /// lock file if it cannot be created (read-only results folder).
  static CellLock acquire(const std::filesystem::path& bundle_dir, const std::string& command, bool wait,
                          const std::function<void(const LockOwner&)>& on_wait = {});

  CellLock(CellLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  CellLock& operator=(CellLock&&) = delete;
  CellLock(const CellLock&) = delete;
  ~CellLock();

 private:
  explicit CellLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

/// The process holding the lock of `bundle_dir`'s cell, or nullopt when no process holds it (no lock file, or its
/// last owner has ended). Never blocks; never throws.
std::optional<LockOwner> lock_holder(const std::filesystem::path& bundle_dir);

/// status.json's state, except that "running" with no live owner (lock_holder() empty) reads "interrupted": the
/// process that ran the cell ended without finishing it (killed, crashed, machine lost). nullopt when there is no
/// status.json.
std::optional<std::string> observed_state(const Bundle& b);

}  // namespace clcp
