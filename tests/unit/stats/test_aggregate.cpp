// Aggregation over seeds of one (init, mode) group: mean ± sample sd, CIs, every run listed.
#include <catch2/catch.hpp>
#include <cmath>

#include "stats_fixtures.hpp"
#include "suite/core/error.hpp"
#include "suite/eval/metrics.hpp"
#include "suite/stats/aggregate.hpp"

using namespace clcp;
using namespace clcp::stats;
namespace fs = std::filesystem;

TEST_CASE("mean_sd gives the mean and the sample standard deviation") {
  const auto m = mean_sd({1, 2, 3, 4});
  CHECK(m.mean == 2.5);
  CHECK(m.sd == Approx(std::sqrt(5.0 / 3.0)).epsilon(1e-15));
  CHECK(m.n == 4);
  CHECK(std::isnan(mean_sd({7}).sd));
  CHECK(mean_sd({7}).mean == 7);
  CHECK(std::isnan(mean_sd({}).mean));
}

TEST_CASE("a group summary averages the runs' mIoU over seeds and lists failed runs without numbers") {
  const fs::path root = clcp::test::fresh_dir("group");
  std::vector<fs::path> dirs;
  std::vector<double> src_miou, tgt_miou, rpd, fog;
  for (int s = 0; s < 3; ++s) {
    std::vector<ImageEvidence> src, tgt;
    clcp::test::synthetic_evidence(0.5 + 0.05 * s, 30 + s, 8, 4, src, tgt);
    dirs.push_back(clcp::test::write_bundle(root, "imagenet", "full", s, "fp1", src, tgt));
    const auto j = summarise(src, tgt);
    src_miou.push_back(j["source"]["mIoU"].get<double>());
    tgt_miou.push_back(j["target"]["pooled"]["mIoU"].get<double>());
    rpd.push_back(j["rPD"].get<double>());
    fog.push_back(j["target"]["per_condition"]["fog"]["mIoU"].get<double>());
  }
  dirs.push_back(clcp::test::write_bundle(root, "imagenet", "full", 3, "fp1", {}, {}, "failed"));
  BootstrapOptions o;
  o.replicates = 400;
  o.seed = 3;
  const GroupSummary g = summarise_group(dirs, o);
  CHECK(g.init == "imagenet");
  CHECK(g.finetune_mode == "full");
  CHECK(g.fingerprint == "fp1");
  REQUIRE(g.runs.size() == 4);
  CHECK(g.runs_done == 3);
  CHECK(g.runs[3].state == "failed");
  CHECK(g.runs[3].error == "out of memory");
  CHECK_FALSE(g.runs[3].miou_source.has_value());
  CHECK(*g.runs[1].miou_source == src_miou[1]);  // exactly the value summarise() writes into metrics.json
  CHECK(g.conditions == std::vector<std::string>{"fog", "night"});
  const auto ms = mean_sd(src_miou), mt = mean_sd(tgt_miou), mr = mean_sd(rpd), mf = mean_sd(fog);
  CHECK(g.miou_source.seeds.mean == ms.mean);
  CHECK(g.miou_source.seeds.sd == ms.sd);
  CHECK(g.miou_source.seeds.n == 3);
  CHECK(g.miou_target.seeds.mean == mt.mean);
  CHECK(g.rpd.seeds.mean == mr.mean);
  CHECK(g.miou_conditions.at("fog").seeds.mean == mf.mean);
  for (const auto* m : {&g.miou_source, &g.miou_target, &g.rpd, &g.miou_conditions.at("night")}) {
    CHECK(m->ci.lo <= m->ci.value);
    CHECK(m->ci.value <= m->ci.hi);
    CHECK(m->ci.lo < m->ci.hi);
  }
  const auto j = g.to_json();
  CHECK(j["bootstrap"]["replicates"] == 400);
  CHECK(j["bootstrap"]["seed"] == 3);
  CHECK(j["runs_listed"] == 4);
  // Determinism: the same bundles and options give the same bytes.
  CHECK(summarise_group(dirs, o).to_json().dump() == j.dump());
  fs::remove_all(root);
}

TEST_CASE("summarise_groups splits bundles by init and mode and refuses mixed fingerprints") {
  const fs::path root = clcp::test::fresh_dir("groups");
  std::vector<ImageEvidence> src, tgt;
  clcp::test::synthetic_evidence(0.6, 1, 4, 2, src, tgt);
  std::vector<fs::path> dirs{clcp::test::write_bundle(root, "imagenet", "full", 0, "fp1", src, tgt),
                             clcp::test::write_bundle(root, "imagenet", "frozen", 0, "fp1", src, tgt),
                             clcp::test::write_bundle(root, "clcp", "full", 0, "fp1", src, tgt)};
  BootstrapOptions o;
  o.replicates = 20;
  const auto groups = summarise_groups(dirs, o);
  REQUIRE(groups.size() == 3);
  CHECK(groups[0].init == "clcp");
  CHECK(groups[1].finetune_mode == "frozen");
  CHECK(groups[2].finetune_mode == "full");
  CHECK_THROWS_AS(summarise_group(dirs, o), UserError);  // mixed (init, mode)
  dirs.push_back(clcp::test::write_bundle(root, "imagenet", "full", 1, "fp2", src, tgt));
  CHECK_THROWS_WITH(summarise_groups(dirs, o), Catch::Contains("fp2") && Catch::Contains("fp1"));
  fs::remove_all(root);
}
