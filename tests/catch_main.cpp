// The one Catch2 main shared by every stage's test executable.
//
// Every test process gets a scratch folder of its own, made with mkdtemp under CLCP_TEST_TMP (default: the build
// tree's test-tmp/, CLCP_TEST_TMP_DEFAULT from tests/CMakeLists.txt), and TMPDIR points there, so
// std::filesystem::temp_directory_path() in the tests and in the clcp-bench processes they start all write inside it.
// The folder is removed when the process exits, so the suite leaves nothing behind on a disk it shares with others
// (checkpoints are 100-240 MB each: a CI run once filled its disk with them). CLCP_KEEP_TEST_TMP=1 keeps it.
// Fixtures meant to outlive one process (tests/support/python_oracle.hpp) use shared_test_tmp() instead.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <string>

int main(int argc, char* argv[]) {
  namespace fs = std::filesystem;
  const char* base_env = std::getenv("CLCP_TEST_TMP");
  const fs::path base = base_env && *base_env ? fs::path(base_env) : fs::path(CLCP_TEST_TMP_DEFAULT);
  std::error_code ec;
  fs::create_directories(base, ec);
  std::string tmpl = (base / "proc-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::fprintf(stderr, "%s: cannot make a scratch folder; set CLCP_TEST_TMP to a writable folder\n", tmpl.c_str());
    return 2;
  }
  // The shared folder stays reachable after TMPDIR moves (cached fixtures live there).
  ::setenv("CLCP_TEST_SHARED_TMP", base.c_str(), 0);
  ::setenv("TMPDIR", tmpl.c_str(), 1);
  const int rc = Catch::Session().run(argc, argv);
  const char* keep = std::getenv("CLCP_KEEP_TEST_TMP");
  if (keep && *keep && std::string(keep) != "0")
    std::fprintf(stderr, "scratch kept: %s\n", tmpl.c_str());
  else
    fs::remove_all(tmpl, ec);
  return rc;
}
