#include "suite/core/signals.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstring>

namespace clcp {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};

void write_stderr(const char* s) {
  const ssize_t n = ::write(STDERR_FILENO, s, std::strlen(s));
  (void)n;
}

// Async-signal-safe: atomics, write(2) and _exit(2) only.
void on_stop_signal(int sig) {
  if (g_stop.exchange(true)) {
    write_stderr("\nclcp-bench: second stop signal: exiting now; the next run resumes from the last checkpoint\n");
    ::_exit(128 + sig);
  }
  g_signal = sig;
  write_stderr(sig == SIGTERM ? "\nclcp-bench: SIGTERM: stopping after the current step and writing a checkpoint "
                                "(send it again to exit at once)\n"
                              : "\nclcp-bench: interrupt: stopping after the current step and writing a checkpoint "
                                "(press Ctrl-C again to exit at once)\n");
}

}  // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // reads and writes in progress continue; the loops poll the flag
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

const std::atomic<bool>& stop_requested() { return g_stop; }
int stop_signal() { return g_signal.load(); }

void request_stop(int signal) {
  g_signal = signal;
  g_stop = signal != 0;
}

}  // namespace clcp
