#include "cli_harness.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <functional>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/python_oracle.hpp"
#include "support/test_paths.hpp"

extern char** environ;

namespace clcp::test {
namespace fs = std::filesystem;

CommandResult run_cli(const std::string& args) {
  return run_command(std::string(CLCP_BENCH_EXE) + " " + args);
}

CommandResult run_cli_interrupt_when(const std::string& args, const fs::path& wait_for) {
  const fs::path log = fs::temp_directory_path() / ("clcp_cli_" + std::to_string(::getpid()) + ".log");
  const std::string cmd = "exec " + std::string(CLCP_BENCH_EXE) + " " + args + " > '" + log.string() + "' 2>&1";
  pid_t pid = 0;
  const char* argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
  ::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  int status = 0;
  bool exited = false;
  while (!fs::exists(wait_for) && std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!exited) {
    ::kill(pid, SIGINT);
    ::waitpid(pid, &status, 0);
  }
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  r.output = ss.str();
  fs::remove(log);
  return r;
}

CliProcess::CliProcess(const std::string& args, const std::string& env) {
  static int counter = 0;
  log_ = fs::temp_directory_path() / ("clcp_cli_bg_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".log");
  const std::string cmd = "exec " + (env.empty() ? "" : "env " + env + " ") + std::string(CLCP_BENCH_EXE) + " " +
                          args + " > '" + log_.string() + "' 2>&1";
  const char* argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
  ::posix_spawn(&pid_, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ);
}

CliProcess::~CliProcess() {
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status_, 0);
  }
  std::error_code ec;
  fs::remove(log_, ec);
}

bool CliProcess::wait_until(const std::function<bool()>& ready, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    if (!reaped_ && ::waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
    if (reaped_) return ready();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void CliProcess::signal(int sig) {
  if (!reaped_) ::kill(pid_, sig);
}

CommandResult CliProcess::finish() {
  if (!reaped_) {
    ::waitpid(pid_, &status_, 0);
    reaped_ = true;
  }
  CommandResult r;
  r.exit_code = WIFEXITED(status_) ? WEXITSTATUS(status_) : WIFSIGNALED(status_) ? 128 + WTERMSIG(status_) : -1;
  std::ifstream in(log_);
  std::stringstream ss;
  ss << in.rdbuf();
  r.output = ss.str();
  return r;
}

fs::path shared_synth(const std::string& tag, const std::string& synth_args) {
  const fs::path dir = shared_test_tmp() / (tag + "_" + std::to_string(std::hash<std::string>{}(synth_args) % 1000000));
  if (fs::exists(dir / "DONE")) return dir;
  fs::create_directories(dir.parent_path());
  const std::string lock_path = dir.string() + ".lock";
  const int fd = ::open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0 || ::flock(fd, LOCK_EX) != 0) throw std::runtime_error("cannot lock " + lock_path);
  std::string error;
  if (!fs::exists(dir / "DONE")) {  // first here: render (a half-rendered folder of a killed run is redone)
    fs::remove_all(dir);
    const auto r = run_cli("data synth --out " + dir.string() + " " + synth_args);
    if (r.exit_code == 0)
      std::ofstream(dir / "DONE") << synth_args << "\n";
    else
      error = "data synth failed: " + r.output;
  }
  ::flock(fd, LOCK_UN);
  ::close(fd);
  if (!error.empty()) throw std::runtime_error(error);
  return dir;
}

const fs::path& small_synth_root() {
  static const fs::path root =
      shared_synth("cli_synth", "--seed 5 --train-images 8 --val-images 4 --acdc-per-condition 2 --a2d2-scenes 0");
  return root;
}

}  // namespace clcp::test
