// `clcp-bench compare` with groups named INIT.MODE, looked up under RESULTS/<protocol>/ the way a user names them
// after `clcp-bench run`, on the hand-computable demo bundles of tests/unit/report/fixtures.hpp.
#include <catch2/catch.hpp>

#include "cli_harness.hpp"
#include "unit/report/fixtures.hpp"

namespace fs = std::filesystem;
using clcp::test::run_cli;

TEST_CASE("compare INIT.MODE groups pairs their finished seeds and reports the known mean difference") {
  const fs::path root = fs::temp_directory_path() / "clcp_cli_compare_groups";
  fixtures::make_demo(root);
  // imagenet.frozen: seeds 0, 1 done (Cityscapes 50, 50), seed 2 failed; imagenet.full: 60, 61, 62.
  // Paired seeds 0 and 1: Δ mIoU Cityscapes = ((60 − 50) + (61 − 50)) / 2 = 10.5 points.
  const auto r = run_cli("compare imagenet.frozen imagenet.full --results '" + root.string() + "' --replicates 200");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("paired seeds: 2 (0 1)") != std::string::npos);
  CHECK(r.output.find("+10.50") != std::string::npos);
  CHECK(r.output.back() == '\n');

  const auto typo = run_cli("compare imagenet.ful imagenet.full --results '" + root.string() + "'");
  CHECK(typo.exit_code != 0);
  // One line naming the selector and the groups that do exist.
  CHECK(typo.output.find("imagenet.ful:") != std::string::npos);
  CHECK(typo.output.find("imagenet.frozen, imagenet.full") != std::string::npos);
  fs::remove_all(root);
}
