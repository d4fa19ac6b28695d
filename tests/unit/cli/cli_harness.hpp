// Runs the real clcp-bench executable the way a user does, for end-to-end tests.
#pragma once
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

#include "support/run_command.hpp"

namespace clcp::test {

/// Runs `clcp-bench <args>` with a shell, capturing output and exit code.
CommandResult run_cli(const std::string& args);
/// Starts `clcp-bench <args>`, waits until `wait_for` exists (polling), sends SIGINT, and waits for the exit.
CommandResult run_cli_interrupt_when(const std::string& args, const std::filesystem::path& wait_for);
/// The embedded data `clcp-bench data synth --out DIR <synth_args>` renders, made once per test run and shared by
/// every test process (ctest runs each test case in a process of its own, two at a time): DIR is
/// shared_test_tmp()/<tag>_<hash of the arguments and of the clcp-bench executable>; the first process renders it under
/// an exclusive flock on DIR.lock and marks it with DIR.done, the others wait on the lock and reuse it. Throws
/// std::runtime_error when synth fails.
std::filesystem::path shared_synth(const std::string& tag, const std::string& synth_args);

/// `clcp-bench <args> --out DIR`, run once per test run and shared by every test process as shared_synth() shares
/// data (a failed run too: each user sees its exit code and output). DIR is read-only to its users: a test that
/// runs clcp-bench on it again works on private_copy(DIR, name).
struct SharedRun {
  std::filesystem::path out;
  int exit_code = -1;
  std::string output;
};
SharedRun shared_run(const std::string& tag, const std::string& args);
/// A copy of `shared` in this test process's own scratch folder (fs::temp_directory_path() / name), replacing any.
/// Its .safetensors files (checkpoints and exports, hundreds of MB) are hard links, not copies: clcp-bench replaces a
/// file by writing a new one and renaming it over the old name, which never writes through a link, and a test must
/// not edit such a file in place (the shared one would change).
std::filesystem::path private_copy(const std::filesystem::path& shared, const std::string& name);

/// A small embedded data set shared by the CLI tests (rendered once per test run).
const std::filesystem::path& small_synth_root();
/// `run --protocol dg_acdc --scale ci --threads 2 --data-root small_synth_root()`, run once per test run (shared_run):
/// the finished ci-scale cell several tests read or copy.
const SharedRun& small_synth_ci_run();

/// A clcp-bench process started in the background (output to a log file), for tests that signal or race it.
class CliProcess {
 public:
  /// `env`: "NAME=value …" words put before the command (e.g. "CLCP_FAULT_KILL=iteration:3").
  explicit CliProcess(const std::string& args, const std::string& env = "");
  ~CliProcess();
  /// Polls every 20 ms until `ready()` is true or the process exits; true when ready() became true first.
  bool wait_until(const std::function<bool()>& ready, std::chrono::seconds timeout = std::chrono::seconds(600));
  void signal(int sig);
  /// Waits for the exit. exit_code: the status, or 128 + signal when a signal ended it (as a shell reports it).
  CommandResult finish();
  int pid() const { return pid_; }

 private:
  int pid_ = 0;
  bool reaped_ = false;
  int status_ = 0;
  std::filesystem::path log_;
};

}  // namespace clcp::test
