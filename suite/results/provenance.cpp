#include "suite/results/provenance.hpp"

#include <torch/torch.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <clcp/build_info.hpp>
#include <cstdio>
#include <ctime>
#include <fstream>

#include "suite/results/kernel_path.hpp"

namespace clcp {
namespace {

std::string run_capture(const std::string& cmd) {
  std::string out;
  if (FILE* f = ::popen(cmd.c_str(), "r")) {
    std::array<char, 256> buf{};
    while (std::fgets(buf.data(), buf.size(), f)) out += buf.data();
    ::pclose(f);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const auto pos = line.find(':');
      return pos == std::string::npos ? line : line.substr(pos + 2);
    }
  return "unknown";
}

}  // namespace

std::string utc_now_iso() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json collect_environment(const std::string& device, int threads) {
  const std::string src = build_info::kSourceDir;
  const std::string commit = run_capture("git -C '" + src + "' rev-parse HEAD 2>/dev/null");
  const std::string dirty = run_capture("git -C '" + src + "' status --porcelain --untracked-files=no 2>/dev/null");
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  nlohmann::json gpu = nullptr;
  if (torch::cuda::is_available()) gpu = {{"count", torch::cuda::device_count()}};
  return {
      {"clcp_bench_version", build_info::kVersion},
      {"git_commit", commit.empty() ? nlohmann::json(nullptr) : nlohmann::json(commit)},
      {"git_dirty", !dirty.empty()},
      {"build_type", build_info::kBuildType},
      {"compiler", build_info::kCompiler},
      {"libtorch_version", TORCH_VERSION},
      {"cuda_available", torch::cuda::is_available()},
      {"gpu", gpu},
      {"cpu", cpu_model()},
      {"hardware_concurrency", std::thread::hardware_concurrency()},
      {"threads", threads},
      {"kernel_path", kernel_path(threads)},
      {"device", device},
      {"host", host},
  };
}

}  // namespace clcp
