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

namespace {

std::string slurp(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// DIR = shared_test_tmp()/<tag>_<hash of key and of the clcp-bench executable's size and mtime> (a rebuilt binary
// makes its own outputs); make(DIR) runs in the first process only, under an exclusive flock on DIR.lock, and DIR.done
// marks it made. A half-made DIR of a killed test process is made again. make returns an error ("" = made).
fs::path shared_once(const std::string& tag, const std::string& key,
                     const std::function<std::string(const fs::path&)>& make) {
  const fs::path exe(CLCP_BENCH_EXE);
  std::error_code ec;
  const auto stamp = std::to_string(fs::file_size(exe, ec)) + "@" +
                     std::to_string(fs::last_write_time(exe, ec).time_since_epoch().count());
  const fs::path dir =
      shared_test_tmp() / (tag + "_" + std::to_string(std::hash<std::string>{}(key + "\n" + stamp) % 1000000));
  const fs::path done = dir.string() + ".done";
  if (fs::exists(done)) return dir;
  fs::create_directories(dir.parent_path());
  const std::string lock_path = dir.string() + ".lock";
  const int fd = ::open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0 || ::flock(fd, LOCK_EX) != 0) throw std::runtime_error("cannot lock " + lock_path);
  std::string error;
  if (!fs::exists(done)) {
    fs::remove_all(dir);
    error = make(dir);
    if (error.empty()) std::ofstream(done) << key << "\n";
  }
  ::flock(fd, LOCK_UN);
  ::close(fd);
  if (!error.empty()) throw std::runtime_error(error);
  return dir;
}

}  // namespace

fs::path shared_synth(const std::string& tag, const std::string& synth_args) {
  return shared_once(tag, synth_args, [&](const fs::path& dir) {
    const auto r = run_cli("data synth --out " + dir.string() + " " + synth_args);
    return r.exit_code == 0 ? std::string() : "data synth failed: " + r.output;
  });
}

SharedRun shared_run(const std::string& tag, const std::string& args) {
  SharedRun run;
  run.out = shared_once(tag, args, [&](const fs::path& dir) {
    const auto r = run_cli(args + " --out " + dir.string());
    std::ofstream(dir.string() + ".output") << r.output;
    std::ofstream(dir.string() + ".exit") << r.exit_code;
    return std::string();  // a failed run is shared as it is: each test that uses it reports its output
  });
  run.exit_code = std::stoi(slurp(run.out.string() + ".exit"));
  run.output = slurp(run.out.string() + ".output");
  return run;
}

fs::path private_copy(const fs::path& shared, const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& e : fs::recursive_directory_iterator(shared)) {
    const fs::path to = dir / fs::relative(e.path(), shared);
    if (e.is_directory()) {
      fs::create_directories(to);
      continue;
    }
    std::error_code ec;  // the disk may be shared with other jobs: link what is big and only ever replaced whole
    if (e.path().extension() == ".safetensors") fs::create_hard_link(e.path(), to, ec);
    if (e.path().extension() != ".safetensors" || ec) fs::copy_file(e.path(), to);
  }
  return dir;
}

const fs::path& small_synth_root() {
  static const fs::path root =
      shared_synth("cli_synth", "--seed 5 --train-images 8 --val-images 4 --acdc-per-condition 2 --a2d2-scenes 0");
  return root;
}

const SharedRun& small_synth_ci_run() {
  static const SharedRun run =
      shared_run("cli_run_a", "run --protocol dg_acdc --scale ci --threads 2 --data-root " + small_synth_root().string());
  return run;
}

}  // namespace clcp::test
