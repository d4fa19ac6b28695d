// Every input the fuzzers (ci/fuzz.sh) found to crash a reader, replayed in the normal build: each must now end in a
// UserError or a successful read — never another exception or a crash. Inputs live in
// tests/fuzz/regressions/<harness>/, named after what they broke.
#include <catch2/catch.hpp>

#include <filesystem>

#include "models/import/checkpoint_reader.hpp"
#include "models/import/pickle_rewrite.hpp"
#include "models/safetensors.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"

namespace fs = std::filesystem;

namespace {
std::vector<fs::path> inputs(const std::string& harness) {
  std::vector<fs::path> out;
  const fs::path dir = fs::path(CLCP_SOURCE_DIR) / "tests/fuzz/regressions" / harness;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().filename() != "README.md") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// "ok" or "UserError: <line>"; anything else is a failure of the test.
std::string outcome(const std::function<void()>& f) {
  try {
    f();
    return "ok";
  } catch (const clcp::UserError& e) {
    return std::string("UserError: ") + e.what();
  }
}
}  // namespace

TEST_CASE("safetensors inputs that once crashed the reader now end in one line") {
  for (const auto& p : inputs("fuzz_safetensors")) {
    INFO(p);
    const std::string bytes = clcp::read_file(p);
    const std::string r = outcome([&] { clcp::parse_safetensors(bytes, p.string()); });
    CHECK_THAT(r, Catch::StartsWith("ok") || Catch::StartsWith("UserError: " + p.string() + ": "));
  }
}

TEST_CASE("torch.save inputs that once crashed the reader now end in one line") {
  for (const auto& p : inputs("fuzz_torch_zip")) {
    INFO(p);
    const std::string bytes = clcp::read_file(p);
    const std::string r = outcome([&] { clcp::read_checkpoint_bytes(bytes, p.string()); });
    CHECK_THAT(r, Catch::StartsWith("ok") || Catch::StartsWith("UserError: " + p.string() + ": "));
  }
}

TEST_CASE("pickles that once crashed the rewrite are now rewritten or refused") {
  for (const auto& p : inputs("fuzz_pickle_rewrite")) {
    INFO(p);
    const auto r = clcp::rewrite_pickle_for_libtorch(clcp::read_file(p));
    CHECK((r.refused.empty() ? !r.bytes.empty() : true));
  }
}
