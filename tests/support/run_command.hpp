// Runs a shell command for end-to-end tests, capturing stdout + stderr and the exit status.
#pragma once
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace clcp::test {

struct CommandResult {
  int exit_code = -1;  ///< the command's exit status; -1 when it did not exit normally (signal) or did not start
  std::string output;  ///< stdout and stderr together, in order
};

/// Runs `cmd` with /bin/sh (stderr redirected into stdout) and waits for it.
inline CommandResult run_command(const std::string& cmd) {
  CommandResult r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  std::array<char, 4096> buf{};
  while (p && std::fgets(buf.data(), buf.size(), p)) r.output += buf.data();
  const int status = p ? ::pclose(p) : -1;
  r.exit_code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace clcp::test
