// "Recomputing any aggregate from the evidence must reproduce the mIoU stored in metrics.json exactly": a real
// `clcp-bench run --scale ci` on a tiny synthetic set, then the evidence is re-read and summarised again.
#include <catch2/catch.hpp>

#include "stats_fixtures.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/eval/metrics.hpp"
#include "suite/stats/aggregate.hpp"
#include "suite/stats/run_bundle.hpp"
#include "support/test_paths.hpp"

using namespace clcp;
using namespace clcp::stats;
namespace fs = std::filesystem;

TEST_CASE("metrics recomputed from a real run's evidence equal metrics.json bit for bit", "[slow]") {
  if (!clcp::test::bench_exe_exists()) {
    WARN("skipped: " << CLCP_BENCH_EXE << " is not built (ninja clcp-bench)");
    return;
  }
  const fs::path root = clcp::test::fresh_dir("recompute");
  const auto synth = clcp::test::run_bench("data synth --out " + (root / "data").string() +
                                           " --seed 3 --train-images 4 --val-images 2 --acdc-per-condition 1 --a2d2-scenes 0");
  REQUIRE(synth.exit_code == 0);
  const auto run = clcp::test::run_bench("run --protocol dg_acdc --scale ci --threads 2 --data-root " +
                                         (root / "data").string() + " --out " + (root / "results").string());
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  const auto dirs = find_bundle_dirs(root / "results");
  REQUIRE(!dirs.empty());
  for (const auto& dir : dirs) {
    const RunBundle b = read_run_bundle(dir);
    REQUIRE(b.state == "done");
    nlohmann::json stored = read_json(dir / "metrics.json");
    const nlohmann::json again = summarise(b.source, b.target);
    stored["source"].erase("best_constant_class_mIoU");  // added by the run, not part of summarise()
    CHECK(stored["source"].dump() == again["source"].dump());
    CHECK(stored["target"].dump() == again["target"].dump());
    CHECK(stored["rPD"].dump() == again["rPD"].dump());
    // The statistics' own fast path (summed per-image counts) gives the same doubles.
    const auto g = summarise_group({dir}, BootstrapOptions{.replicates = 50});
    REQUIRE(g.runs.size() == 1);
    CHECK(nlohmann::json(*g.runs[0].miou_source).dump() == stored["source"]["mIoU"].dump());
    CHECK(nlohmann::json(*g.runs[0].miou_target).dump() == stored["target"]["pooled"]["mIoU"].dump());
    CHECK(nlohmann::json(*g.runs[0].rpd).dump() == stored["rPD"].dump());
    for (const auto& [cond, v] : g.runs[0].miou_conditions)
      CHECK(nlohmann::json(*v).dump() == stored["target"]["per_condition"][cond]["mIoU"].dump());
  }
  fs::remove_all(root);
}
