// Runs the parity oracles of tests/parity/ (Python: mmseg 1.2.2, mmcv(-lite) 2.1.0, cityscapesScripts, timm) in the
// oracle environment build/oracle-venv (ci/setup.sh installs it from ci/oracle-requirements.txt). Test-only: the
// product never runs Python. A test whose oracle environment is absent skips with WARN.
#pragma once
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "support/test_paths.hpp"

namespace clcp::parity {

namespace fs = std::filesystem;

/// CLCP_ORACLE_PYTHON if set, else <source>/build/oracle-venv/bin/python.
inline std::string oracle_python() {
  if (const char* p = std::getenv("CLCP_ORACLE_PYTHON"); p && *p) return p;
  return std::string(CLCP_SOURCE_DIR) + "/build/oracle-venv/bin/python";
}

inline fs::path oracle_script(const std::string& name) { return fs::path(CLCP_SOURCE_DIR) / "tests/parity" / name; }

/// True when CLCP_TEST_TIER=full (the slow parity cases run then).
inline bool full_tier() {
  const char* t = std::getenv("CLCP_TEST_TIER");
  return t && std::string(t) == "full";
}

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Runs `python script args…` with 2 threads; stdout+stderr go to log. Returns the exit status.
inline int run_oracle(const std::string& script, const std::string& args, const fs::path& log) {
  const std::string cmd = "OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 '" + oracle_python() + "' '" +
                          oracle_script(script).string() + "' " + args + " > '" + log.string() + "' 2>&1";
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

/// Exit status of an oracle script whose imports failed (oracle_env.require_oracles); its log holds the error.
inline constexpr int kOracleUnavailable = 3;

/// Whether the oracle interpreter exists; `why` says what to do when it does not. (Whether mmseg etc. import is
/// known only when a script runs: see run_oracle_checked.)
inline bool oracle_present(std::string& why) {
  if (fs::exists(oracle_python())) return true;
  why = "no oracle python at " + oracle_python() + " (ci/setup.sh installs ci/oracle-requirements.txt there)";
  return false;
}

/// Runs oracle `script` with `args`, log in dir/log.txt. Returns false after a visible WARN (with the import error)
/// when the oracles do not import — the caller then skips; REQUIREs success otherwise (the log in the message).
inline bool run_oracle_checked(const std::string& script, const std::string& args, const fs::path& dir) {
  const int rc = run_oracle(script, args, dir / "log.txt");
  const std::string log = slurp(dir / "log.txt");
  if (rc == kOracleUnavailable) {
    WARN("skipped: parity oracles do not import: " << log);
    return false;
  }
  INFO(log);
  REQUIRE(rc == 0);
  return true;
}

/// A fresh scratch folder, removed on destruction (kept when CLCP_KEEP_PARITY_DIRS is set, for debugging).
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& tag) {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("clcp_parity_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    if (std::getenv("CLCP_KEEP_PARITY_DIRS")) return;
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace clcp::parity

/// Skips the current TEST_CASE visibly when the oracle interpreter is absent.
#define CLCP_REQUIRE_ORACLE()                                              \
  do {                                                                     \
    std::string why_;                                                      \
    if (!::clcp::parity::oracle_present(why_)) {                           \
      WARN("skipped: parity oracle environment unavailable: " << why_);    \
      return;                                                              \
    }                                                                      \
  } while (0)

