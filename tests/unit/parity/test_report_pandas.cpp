// The report's CSV and JSON as a pandas user reads them (`pd.read_csv`, `pd.read_json`): the golden demo report
// (tests/golden/demo_report.*, built from the hand-computable bundles of tests/unit/report/fixtures.hpp) must parse
// into numeric columns holding the numbers the fixtures were built from.
#include <catch2/catch.hpp>

#include "oracle.hpp"
#include "support/test_paths.hpp"

using namespace clcp::parity;

TEST_CASE("pandas reads the report's CSV and JSON into the fixture numbers") {
  CLCP_REQUIRE_ORACLE();
  TempDir dir("pandas");
  const fs::path golden = fs::path(CLCP_SOURCE_DIR) / "tests/golden";
  if (!run_oracle_checked("report_pandas.py",
                          "'" + (golden / "demo_report.csv").string() + "' '" + (golden / "demo_report.json").string() +
                              "'",
                          dir.path))
    return;
  const std::string out = slurp(dir.path / "log.txt");
  INFO(out);
  // 4 groups and 8 planned runs (one failed, one never run) of the demo fixtures, one row per metric.
  CHECK(out.find("rows 501 501\n") != std::string::npos);
  CHECK(out.find("same_columns True\n") != std::string::npos);
  CHECK(out.find("numeric True\n") != std::string::npos);
  for (const std::string f : {"csv", "json"}) {
    // imagenet full: Cityscapes 60, 61, 62 over seeds 0-2 → 61 ± 1, n = 3.
    CHECK(out.find(f + "_imagenet_cityscapes 61 1 3\n") != std::string::npos);
    CHECK(out.find(f + "_imagenet_seed_values 60 61 62\n") != std::string::npos);
    // imagenet (fb): ACDC 35, 37 → 36 ± √2 with n = 2; the thesis's timm-ViT-S (fb) row has ACDC 40.00.
    CHECK(out.find(f + "_imagenet_fb_acdc 36 1.41421 2 40\n") != std::string::npos);
    // The failed run is listed with empty values.
    CHECK(out.find(f + "_failed_runs 1 True\n") != std::string::npos);
  }
}
