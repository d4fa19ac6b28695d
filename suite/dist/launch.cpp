#include "suite/dist/launch.hpp"

#include <fmt/format.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <set>
#include <thread>

#include "suite/core/error.hpp"

extern char** environ;

namespace clcp::dist {
namespace fs = std::filesystem;

namespace {

constexpr int kMaxRanks = 1024;
pid_t g_children[kMaxRanks];
std::atomic<int> g_count{0};
volatile sig_atomic_t g_forwarded = 0;

// Forwards the launcher's SIGINT/SIGTERM to every rank once (async-signal-safe: kill only).
void forward(int sig) {
  g_forwarded = 1;
  const int n = g_count.load();
  for (int i = 0; i < n; ++i)
    if (g_children[i] > 0) ::kill(g_children[i], sig);
}

bool launcher_var(const std::string& entry) {
  static const char* names[] = {"RANK=",         "WORLD_SIZE=",  "LOCAL_RANK=",     "LOCAL_WORLD_SIZE=",
                                "GROUP_RANK=",   "MASTER_ADDR=", "MASTER_PORT=",    "TORCHELASTIC_RESTART_COUNT=",
                                "CLCP_DIST_STORE="};
  for (const char* n : names)
    if (entry.rfind(n, 0) == 0) return true;
  return false;
}

std::string describe(int rank, int status) {
  if (WIFEXITED(status)) return fmt::format("rank {} exited with status {}", rank, WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("rank {} was killed by signal {}", rank, WTERMSIG(status));
  return fmt::format("rank {} ended abnormally", rank);
}

int code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

fs::path self_exe() { return fs::read_symlink("/proc/self/exe"); }

LaunchResult launch_local(const LaunchOptions& o) {
  if (o.nproc < 1 || o.nproc > kMaxRanks) fail("--nproc {}: expected 1 to {} local ranks", o.nproc, kMaxRanks);
  // Everything exec needs is built before fork: the child only calls async-signal-safe functions.
  std::vector<std::string> base_env;
  for (char** e = environ; *e; ++e)
    if (!launcher_var(*e)) base_env.emplace_back(*e);
  for (const auto& [k, v] : o.extra_env) base_env.push_back(k + "=" + v);
  std::vector<std::vector<std::string>> envs(static_cast<size_t>(o.nproc));
  for (int r = 0; r < o.nproc; ++r) {
    auto& env = envs[static_cast<size_t>(r)];
    env = base_env;
    env.push_back(fmt::format("RANK={}", r));
    env.push_back(fmt::format("WORLD_SIZE={}", o.nproc));
    env.push_back(fmt::format("LOCAL_RANK={}", r));
    env.push_back(fmt::format("LOCAL_WORLD_SIZE={}", o.nproc));
    env.push_back("MASTER_ADDR=127.0.0.1");
    env.push_back("MASTER_PORT=29500");
    env.push_back(std::string(kStoreEnv) + "=" + o.store_file.string());
  }
  std::vector<std::string> argv_s{o.exe.string()};
  argv_s.insert(argv_s.end(), o.args.begin(), o.args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  struct sigaction fwd {}, old_int {}, old_term {};
  fwd.sa_handler = forward;
  sigemptyset(&fwd.sa_mask);
  ::sigaction(SIGINT, &fwd, &old_int);
  ::sigaction(SIGTERM, &fwd, &old_term);
  const pid_t parent = ::getpid();
  std::vector<pid_t> pids;
  pid_t group = 0;
  g_count = 0;
  g_forwarded = 0;
  for (int r = 0; r < o.nproc; ++r) {
    std::vector<char*> envp;
    for (auto& e : envs[static_cast<size_t>(r)]) envp.push_back(e.data());
    envp.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
      const int err = errno;
      forward(SIGTERM);
      for (pid_t p : pids) ::waitpid(p, nullptr, 0);
      ::sigaction(SIGINT, &old_int, nullptr);
      ::sigaction(SIGTERM, &old_term, nullptr);
      fail("--nproc {}: could not start rank {} ({})", o.nproc, r, std::strerror(err));
    }
    if (pid == 0) {
      // The ranks form one process group, so a terminal's Ctrl-C reaches only the launcher, which forwards it once.
      ::setpgid(0, group);
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(143);  // the launcher died before prctl took effect
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      ::sigaction(SIGINT, &dfl, nullptr);
      ::sigaction(SIGTERM, &dfl, nullptr);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::setpgid(pid, group);  // also from the parent, so there is no race with the child's own call
    if (group == 0) group = pid;
    g_children[r] = pid;
    g_count = r + 1;
    pids.push_back(pid);
  }

  LaunchResult result;
  std::set<pid_t> running(pids.begin(), pids.end());
  auto rank_of = [&](pid_t p) {
    for (size_t i = 0; i < pids.size(); ++i)
      if (pids[i] == p) return static_cast<int>(i);
    return -1;
  };
  std::chrono::steady_clock::time_point kill_at{};
  bool terminating = false;
  while (!running.empty()) {
    int status = 0;
    const pid_t p = ::waitpid(-group, &status, terminating ? WNOHANG : 0);
    if (p < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: nothing left
    }
    if (p == 0) {  // terminating: poll until the grace period ends
      if (std::chrono::steady_clock::now() >= kill_at) {
        for (pid_t q : running) ::kill(q, SIGKILL);
        kill_at = std::chrono::steady_clock::time_point::max();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    if (!running.erase(p)) continue;
    g_children[rank_of(p)] = -1;
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok && result.failed_rank < 0) {
      result.failed_rank = rank_of(p);
      result.exit_code = code_of(status);
      result.what = describe(result.failed_rank, status);
      // After a forwarded stop signal the others are stopping on their own (rank 0 records the interruption): a
      // second signal would end them at once, so they only get the SIGKILL after the grace period.
      if (!g_forwarded)
        for (pid_t q : running) ::kill(q, SIGTERM);
      terminating = true;
      kill_at = std::chrono::steady_clock::now() +
                std::chrono::milliseconds(static_cast<int64_t>(o.grace_s * 1000.0));
    }
  }
  g_count = 0;
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  return result;
}

}  // namespace clcp::dist
