// Graceful stop on SIGINT (Ctrl-C) and SIGTERM (what Slurm, Kubernetes and `kill` send before a hard kill): the
// first signal only sets a flag that the finetune loop and the evaluation check, so the run writes a checkpoint of
// the finished iterations, marks the cell "interrupted" and exits with 128 + the signal number (130 for SIGINT,
// 143 for SIGTERM, the shell's convention). A second signal ends the process at once with the same code; the next
// run then finds the cell's lock free and resumes from the last checkpoint (suite/results/cell_lock.hpp).
#pragma once
#include <atomic>
#include <string>

#include "suite/core/error.hpp"

namespace clcp {

/// Installs the handlers for SIGINT and SIGTERM (idempotent).
void install_stop_handlers();
/// Set by the first SIGINT/SIGTERM (or request_stop()); read by long loops after each unit of work.
const std::atomic<bool>& stop_requested();
/// The signal that requested the stop (SIGINT, SIGTERM), 0 if none.
int stop_signal();
/// For tests: set or clear the flag as if `signal` had arrived (0 clears).
void request_stop(int signal);

/// Thrown when a run stops because of a stop request; main() exits with exit_code() = 128 + signal.
class Interrupted : public UserError {
 public:
  Interrupted(const std::string& line, int signal) : UserError(line), signal_(signal) {}
  int signal() const { return signal_; }
  int exit_code() const { return 128 + signal_; }

 private:
  int signal_;
};

}  // namespace clcp
