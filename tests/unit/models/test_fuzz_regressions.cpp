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
#include "support/test_paths.hpp"

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

TEST_CASE("the fuzzers' finds end in the lines their fixes give") {
  const fs::path dir = fs::path(CLCP_SOURCE_DIR) / "tests/fuzz/regressions";
  // A pickle whose value is a class global made the rewrite read the opcode one past the end of its list (ASan:
  // heap-buffer-overflow when the list is exactly full, as in the 4-opcode minimal case; the sanitize tier and
  // ci/fuzz.sh replay these files). The fuzzer's input is also corrupt (memo index 107 among 4 opcodes) and is now
  // refused as such; the minimal case (PROTO, GLOBAL foo.Bar, BINPUT 0, STOP) is rewritten as it is.
  const auto found = clcp::rewrite_pickle_for_libtorch(
      clcp::read_file(dir / "fuzz_pickle_rewrite/found-value-is-a-class-global-read-past-the-last-opcode.pkl"));
  CHECK(found.refused == "memo index 107 at byte 71 in a stream of 4 opcodes");
  CHECK(found.malformed);
  const std::string minimal = clcp::read_file(dir / "fuzz_pickle_rewrite/value-is-a-class-global-minimal.pkl");
  const auto r = clcp::rewrite_pickle_for_libtorch(minimal);
  CHECK(r.refused.empty());
  CHECK(r.bytes == minimal);
  // A LONG_BINPUT of memo index ~2e9 (LibTorch would allocate a 32 GB memo table) is refused as corruption.
  const fs::path memo = dir / "fuzz_torch_zip/long-binput-memo-index-2e9-allocates-32GB.pth";
  CHECK_THAT(outcome([&] { clcp::read_checkpoint_bytes(clcp::read_file(memo), memo.string()); }),
             Catch::StartsWith("UserError: " + memo.string() + ": data.pkl is not a valid pickle (memo index ") &&
                 Catch::EndsWith("the file is truncated or corrupt: re-download it or save it again with torch.save"));
  // The same index after a construct the rewrite refuses (a memo slot stored twice): still caught, before LibTorch.
  const fs::path memo2 = dir / "fuzz_torch_zip/memo-index-after-an-unsupported-construct.pth";
  CHECK_THAT(outcome([&] { clcp::read_checkpoint_bytes(clcp::read_file(memo2), memo2.string()); }),
             Catch::StartsWith("UserError: " + memo2.string() +
                               ": data.pkl is not a valid pickle (memo index 1175087203 at byte 103 in a stream of "));
  // Shapes whose element count overflows (LibTorch threw "Storage size calculation overflowed").
  for (const char* f : {"shape-product-overflows-64-bits.safetensors", "shape-entry-beyond-int64.safetensors"}) {
    const fs::path p = dir / "fuzz_safetensors" / f;
    CHECK_THAT(outcome([&] { clcp::parse_safetensors(clcp::read_file(p), p.string()); }),
               Catch::StartsWith("UserError: " + p.string() + ": tensor 'a' has a shape whose ") &&
                   Catch::EndsWith("; the file is corrupt"));
  }
}
