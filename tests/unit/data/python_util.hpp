// Python oracles for the data tests (test-only; the product never runs Python):
//  - build/venv's python (CLCP_VENV_PYTHON: numpy 2.3) for .npz checks;
//  - build/albu-venv's python (CLCP_ALBU_PYTHON if set): albumentations 1.4.14 + albucore 0.0.13 with numpy 1.24.4 and
//    opencv-python-headless 4.10.0.84, the thesis's pretraining versions (ci/albumentations-requirements.txt). It is a
//    venv of its own because albucore 0.0.13 requires numpy < 2 while the other oracles run on numpy 2.
// A snippet gets its scratch folder as sys.argv[1] and further arguments after it; exit status 3 means "the oracle
// does not import" (the caller skips visibly).
#pragma once
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>

#include "support/test_paths.hpp"  // venv_python(), CLCP_SOURCE_DIR

namespace clcp::test {

inline std::string albu_python() {
  if (const char* p = std::getenv("CLCP_ALBU_PYTHON"); p && *p) return p;
  return std::string(CLCP_SOURCE_DIR) + "/build/albu-venv/bin/python";
}

/// Writes `code` to dir/snippet.py, runs `python snippet.py dir args…` with 2 threads; output in dir/log.txt.
/// Returns the exit status (−1 when the interpreter is missing).
inline int run_snippet(const std::string& python, const std::filesystem::path& dir, const std::string& code,
                       const std::string& args = "") {
  if (!std::filesystem::exists(python)) return -1;
  std::ofstream(dir / "snippet.py") << code;
  const std::string cmd = "OMP_NUM_THREADS=2 NO_ALBUMENTATIONS_UPDATE=1 '" + python + "' '" +
                          (dir / "snippet.py").string() + "' '" + dir.string() + "' " + args + " > '" +
                          (dir / "log.txt").string() + "' 2>&1";
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

inline std::string snippet_log(const std::filesystem::path& dir) {
  std::ifstream in(dir / "log.txt");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace clcp::test
