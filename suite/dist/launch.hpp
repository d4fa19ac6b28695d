// A one-node launcher in the manner of torchrun --standalone: starts N copies of a program as ranks 0 … N−1 and waits
// for them (`clcp-bench pretrain --nproc N`, and the 2-process tests). Each rank gets the torchrun-style variables
// (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1, MASTER_PORT) and CLCP_DIST_STORE = a
// FileStore path, so no TCP port is needed; stdout and stderr are the launcher's. The ranks run in a process group
// of their own and get SIGTERM if the launcher dies (PR_SET_PDEATHSIG). SIGINT/SIGTERM sent to the launcher are
// forwarded once to every rank (each then stops as after its own first signal). When a rank fails (non-zero exit or
// killed), the others get SIGTERM — unless a stop signal was forwarded, then they are left to stop by themselves —
// and SIGKILL after `grace_s`: a rank blocked in a collective would wait for the dead one until the timeout
// otherwise.
#pragma once
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace clcp::dist {

/// The environment variable naming the FileStore of a launched rank (read by the CLI; unset → TCPStore at MASTER_*).
inline constexpr const char* kStoreEnv = "CLCP_DIST_STORE";

struct LaunchOptions {
  std::filesystem::path exe;                                      ///< the program each rank runs
  std::vector<std::string> args;                                  ///< its arguments (argv[1] …)
  int nproc = 2;                                                  ///< ranks, ≥ 1
  std::filesystem::path store_file;                               ///< the FileStore path (CLCP_DIST_STORE)
  std::vector<std::pair<std::string, std::string>> extra_env;     ///< added to every rank's environment
  double grace_s = 30;                                            ///< SIGTERM → SIGKILL delay after a failure
};

struct LaunchResult {
  int exit_code = 0;    ///< 0 when every rank exited 0; else the first failing rank's (128 + signal if killed)
  int failed_rank = -1; ///< that rank, −1 when none failed
  std::string what;     ///< "rank 1 exited with status 2", "rank 0 was killed by signal 9", "" when all passed
};

/// Starts the ranks and waits for all of them (see above). Throws UserError when nproc < 1 or a rank cannot be
/// started (fork/exec failure).
LaunchResult launch_local(const LaunchOptions& options);

/// This process's own executable (/proc/self/exe resolved).
std::filesystem::path self_exe();

}  // namespace clcp::dist
