// Multi-process tests of the data-parallel code: a visible test case starts this same test binary as N ranks
// (suite/dist/launch.hpp: RANK, WORLD_SIZE, a FileStore in a fresh folder), each running one hidden test case (tag
// [.rank]) that joins a real c10d Gloo group, and writes what it computed into the folder CLCP_TEST_OUT; the visible
// test checks the ranks' exit codes and their files.
#pragma once
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "suite/dist/comm.hpp"
#include "suite/dist/launch.hpp"

namespace clcp::test {

/// True inside a rank started by run_ranks (hidden test cases return at once otherwise).
inline bool is_rank() { return std::getenv("CLCP_TEST_OUT") && std::getenv("RANK"); }

/// The folder the ranks write into.
inline std::filesystem::path rank_out() { return std::getenv("CLCP_TEST_OUT"); }

/// This rank's group over Gloo (FileStore of run_ranks), with a short timeout so a broken test fails instead of
/// hanging.
inline std::unique_ptr<dist::Comm> join_ranks() {
  dist::CommOptions o;
  o.backend = "gloo";
  o.file_store = std::getenv(dist::kStoreEnv);
  o.timeout = std::chrono::seconds(120);
  return dist::connect(dist::rank_env(), o);
}

struct Ranks {
  dist::LaunchResult result;
  std::filesystem::path out;
  /// The text rank r wrote to <out>/<name>.
  std::string read(int r, const std::string& name) const {
    std::ifstream in(out / ("rank" + std::to_string(r) + "." + name));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
};

/// Runs the hidden test case `test_name` of this binary as `n` ranks and waits for them; `env` is added to theirs.
inline Ranks run_ranks(const std::string& test_name, int n,
                       std::vector<std::pair<std::string, std::string>> env = {}) {
  Ranks r;
  r.out = std::filesystem::temp_directory_path() /
          ("clcp_ranks_" + std::to_string(::getpid()) + "_" + std::to_string(std::rand()));
  std::filesystem::remove_all(r.out);
  std::filesystem::create_directories(r.out);
  dist::LaunchOptions o;
  o.exe = dist::self_exe();
  o.args = {test_name};
  o.nproc = n;
  o.store_file = r.out / "store";
  env.emplace_back("CLCP_TEST_OUT", r.out.string());
  o.extra_env = env;
  o.grace_s = 10;
  r.result = dist::launch_local(o);
  return r;
}

/// Writes `text` to <CLCP_TEST_OUT>/rank<r>.<name>.
inline void write_rank_file(int rank, const std::string& name, const std::string& text) {
  std::ofstream(rank_out() / ("rank" + std::to_string(rank) + "." + name)) << text;
}

}  // namespace clcp::test
