// Runs a Python snippet with the test venv's interpreter (CLCP_VENV_PYTHON: torch, timm, safetensors, numpy) as a test
// oracle. The snippet receives its scratch folder as sys.argv[1]. Test-only: the product never runs Python.
#pragma once
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

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

}  // namespace clcp::test
