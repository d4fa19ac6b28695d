// `clcp-bench report` run the way a user runs it, on the hand-computable demo bundles of
// tests/unit/report/fixtures.hpp: which files appear, what the tables say, and the one-line errors for bad input.
#include <catch2/catch.hpp>

#include "cli_harness.hpp"
#include "suite/core/fsio.hpp"
#include "unit/report/fixtures.hpp"

namespace fs = std::filesystem;
using clcp::test::run_cli;

TEST_CASE("report --protocol writes every asked format under the results root, with the published numbers") {
  const fs::path root = fs::temp_directory_path() / "clcp_cli_report";
  fixtures::make_demo(root);
  const fs::path out = root / "out";
  const auto r = run_cli("report --protocol dg_acdc --results '" + root.string() + "' --format md,csv,tex --baseline "
                         "thesis-table-4.1 --bootstrap-replicates 50 --out '" + out.string() + "'");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  // It prints the written paths, one per line, and writes nothing it was not asked for.
  CHECK(r.output.find((out / "report.md").string()) != std::string::npos);
  CHECK(fs::exists(out / "report.csv"));
  CHECK(fs::exists(out / "report.tex"));
  CHECK_FALSE(fs::exists(out / "report.html"));
  const std::string md = clcp::read_file(out / "report.md");
  // imagenet full: Cityscapes 60, 61, 62 → 61.00 ± 1.00 over n = 3; the thesis's timm-ViT-S row has 68.01.
  CHECK(md.find("61.00 ± 1.00") != std::string::npos);
  CHECK(md.find("68.01") != std::string::npos);
  // The planned cell that never ran and the failed one are listed.
  CHECK(md.find("imagenet.frozen.s3-0123456789ab") != std::string::npos);
  CHECK(md.find("label missing") != std::string::npos);
  fs::remove_all(root);
}

TEST_CASE("report refuses bad input with one line naming what and how to fix it") {
  const fs::path root = fs::temp_directory_path() / "clcp_cli_report_bad";
  fixtures::make_demo(root);
  const auto unknown_format = run_cli("report '" + root.string() + "' --format docx --out '" + (root / "o").string() + "'");
  CHECK(unknown_format.exit_code != 0);
  CHECK(unknown_format.output.find("docx") != std::string::npos);
  CHECK_FALSE(fs::exists(root / "o"));  // refused before any work
  const auto no_bundles = run_cli("report '" + (root / "nothing").string() + "'");
  CHECK(no_bundles.exit_code != 0);
  CHECK(no_bundles.output.find("no result bundle") != std::string::npos);
  const auto bad_baseline = run_cli("report '" + root.string() + "' --baseline thesis-table-9 --out '" +
                                    (root / "o").string() + "'");
  CHECK(bad_baseline.exit_code != 0);
  CHECK(bad_baseline.output.find("thesis-table-9") != std::string::npos);
  fs::remove_all(root);
}
