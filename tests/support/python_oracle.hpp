// Runs a Python snippet with the test venv's interpreter (CLCP_VENV_PYTHON: torch, timm, safetensors, numpy) as a test
// oracle. The snippet receives its scratch folder as sys.argv[1]. Test-only: the product never runs Python.
#pragma once
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>

#include "suite/core/error.hpp"
#include "support/test_paths.hpp"

namespace clcp::test {

/// A fresh scratch folder under the system temp dir, removed on destruction.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("clcp_models_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

/// The temp folder shared by every test process (CLCP_TEST_SHARED_TMP, set by tests/catch_main.cpp; the
/// per-process scratch folder that temp_directory_path() returns is removed when its process exits).
inline std::filesystem::path shared_test_tmp() {
  const char* d = std::getenv("CLCP_TEST_SHARED_TMP");
  return d && *d ? std::filesystem::path(d) : std::filesystem::temp_directory_path();
}

inline bool python_available() { return std::filesystem::exists(CLCP_VENV_PYTHON); }

/// Writes `code` to dir/snippet.py and runs it; returns the exit status (0 = success). Output goes to dir/log.txt,
/// which read_log returns for failure messages.
inline int run_python(const std::filesystem::path& dir, const std::string& code) {
  std::ofstream(dir / "snippet.py") << code;
  const std::string cmd = std::string("OMP_NUM_THREADS=2 '") + CLCP_VENV_PYTHON + "' '" + (dir / "snippet.py").string() +
                          "' '" + dir.string() + "' > '" + (dir / "log.txt").string() + "' 2>&1";
  return std::system(cmd.c_str());
}

inline std::string read_log(const std::filesystem::path& dir) {
  std::ifstream in(dir / "log.txt");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// The folder of files written by fixture script `code`, created on first use and kept under the temp dir as
/// shared_test_tmp()/<tag>_<hash of code>, so the per-test-case processes CTest starts reuse it; "" when the venv's Python is
/// unavailable. Throws std::runtime_error with the script's log when it fails.
inline std::filesystem::path cached_python_fixtures(const std::string& tag, const std::string& code) {
  namespace fs = std::filesystem;
  if (!python_available()) return fs::path();
  const fs::path dir = shared_test_tmp() / (tag + "_" + std::to_string(std::hash<std::string>{}(code)));
  if (fs::exists(dir / "DONE")) return dir;
  TempDir scratch;  // on the same file system as dir, so the rename below is atomic
  if (run_python(scratch.path, code) != 0) throw std::runtime_error("fixture script failed: " + read_log(scratch.path));
  std::ofstream(scratch.path / "DONE") << "ok\n";
  std::error_code ec;
  fs::rename(scratch.path, dir, ec);  // another test process may have won the race: then use its folder
  if (ec && !fs::exists(dir / "DONE")) throw std::runtime_error("cannot keep fixtures at " + dir.string());
  return dir;
}

/// The message of the UserError `f` throws, or "(no error)".
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const clcp::UserError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace clcp::test
