// Protocol files the fuzzer (ci/fuzz.sh, fuzz_protocol) found to crash the reader, replayed: each must now load or
// end in one UserError line naming the file.
#include <catch2/catch.hpp>

#include <filesystem>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/protocol/pretrain_protocol.hpp"
#include "suite/protocol/protocol.hpp"
#include "support/test_paths.hpp"

namespace fs = std::filesystem;

TEST_CASE("protocol files that once crashed the reader now load or end in one line") {
  const fs::path dir = fs::path(CLCP_SOURCE_DIR) / "tests/fuzz/regressions/fuzz_protocol";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_regular_file() || e.path().filename() == "README.md") continue;
    INFO(e.path());
    nlohmann::json j;
    try {
      j = clcp::read_json(e.path());
    } catch (const clcp::UserError&) {
      continue;  // not JSON: read_json's own line
    }
    for (const char* scale : {"full", "smoke", "ci"}) {
      try {
        clcp::protocol_from_json(j, e.path(), scale);
      } catch (const clcp::UserError& err) {
        CHECK_THAT(err.what(), Catch::StartsWith(e.path().string() + ": "));
      }
      try {
        clcp::pretrain_protocol_from_json(j, e.path(), scale);
      } catch (const clcp::UserError& err) {
        CHECK_THAT(err.what(), Catch::StartsWith(e.path().string() + ": "));
      }
    }
  }
  // The one found so far: overrides that are a number, not an object.
  const fs::path found = dir / "scale-overrides-not-an-object.json";
  try {
    clcp::protocol_from_json(clcp::read_json(found), found, "full");
    FAIL("expected a UserError");
  } catch (const clcp::UserError& err) {
    CHECK(std::string(err.what()) == found.string() + ": 'scales.full.overrides' must be a JSON object of the keys it "
                                                      "overrides, got 1e+308; fix the file");
  }
}
