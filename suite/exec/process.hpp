// Running the scheduler's command-line tools (sbatch, squeue, scontrol) without a shell: arguments are passed as
// they are, so no quoting can go wrong, and stdout and stderr are kept apart (sbatch --parsable prints the job id on
// stdout and its refusals on stderr).
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace clcp {

struct ProcessResult {
  int exit_code = -1;   ///< the program's exit status; -1 when it did not start or was killed by a signal
  std::string out, err; ///< everything it wrote to stdout and to stderr
};

/// The full path of `program` found on $PATH (or `program` itself when it contains a '/'), nullopt when absent.
std::optional<std::filesystem::path> find_on_path(const std::string& program);
/// Runs argv[0] (looked up on $PATH) with argv, stdin from /dev/null, and waits for it. Never throws for a failing
/// program: a program that cannot be started gives exit_code -1 and the reason in `err`.
ProcessResult run_process(const std::vector<std::string>& argv);

}  // namespace clcp
