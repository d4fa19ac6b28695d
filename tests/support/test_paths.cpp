// The one test source that holds the build's paths (compile definitions from tests/CMakeLists.txt).
#include "support/test_paths.hpp"

#include <cstdlib>

namespace clcp::test {
namespace {
const char* env_or(const char* name, const char* configured) {
  const char* v = std::getenv(name);
  return v && *v ? v : configured;
}
}  // namespace

const char* source_dir() { return env_or("CLCP_TEST_SOURCE_DIR", CLCP_TEST_SOURCE_DIR_DEFAULT); }
const char* realdata_dir() { return env_or("CLCP_TEST_REALDATA_DIR", CLCP_TEST_REALDATA_DIR_DEFAULT); }
const char* bench_exe() { return env_or("CLCP_TEST_BENCH_EXE", CLCP_TEST_BENCH_EXE_DEFAULT); }
const char* venv_python() { return env_or("CLCP_TEST_VENV_PYTHON", CLCP_TEST_VENV_PYTHON_DEFAULT); }

}  // namespace clcp::test
