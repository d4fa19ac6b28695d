// Where the tests find the source tree, the genuine sample data (../shared/realdata), the clcp-bench executable and
// the test venv's Python. Resolved at run time (tests/support/test_paths.cpp: the environment variable named below,
// else the build's configured path), so that no test translation unit carries a machine path and all of them can
// share the precompiled header.
//   CLCP_TEST_SOURCE_DIR, CLCP_TEST_REALDATA_DIR, CLCP_TEST_BENCH_EXE, CLCP_TEST_VENV_PYTHON override them.
#pragma once

namespace clcp::test {
const char* source_dir();    ///< the repository root
const char* realdata_dir();  ///< ../shared/realdata next to it (may not exist: tests skip visibly)
const char* bench_exe();     ///< the clcp-bench executable of this build
const char* venv_python();   ///< build/venv/bin/python (torch, timm, safetensors, numpy)
}  // namespace clcp::test

#define CLCP_SOURCE_DIR (::clcp::test::source_dir())
#define CLCP_REALDATA_DIR (::clcp::test::realdata_dir())
#define CLCP_BENCH_EXE (::clcp::test::bench_exe())
#define CLCP_VENV_PYTHON (::clcp::test::venv_python())
