// The statistical tier: one-sided Welch tests with a margin against a stored distribution. Expected p-values are
// scipy 1.17.1's stats.t.cdf / stats.t.sf for the same t and Welch–Satterthwaite degrees of freedom.
#include <catch2/catch.hpp>

#include <filesystem>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/gate/stat.hpp"
#include "suite/protocol/protocol.hpp"
#include "support/test_paths.hpp"

namespace fs = std::filesystem;
using clcp::gate::StatBaseline;
using Catch::Detail::Approx;

namespace {
StatBaseline reference() {
  StatBaseline b;
  b.name = "test";
  b.protocol = "dg_acdc";
  b.scale = "smoke";
  b.fingerprint = "f";
  b.init = "random";
  b.finetune_mode = "full";
  b.alpha = 0.05;
  b.metrics["source.mIoU"] = {5, 0.30, 0.01};
  b.margins["source.mIoU"] = 0.01;
  return b;
}
std::vector<std::map<std::string, double>> runs(const std::vector<double>& v) {
  std::vector<std::map<std::string, double>> out;
  for (double x : v) out.push_back({{"source.mIoU", x}});
  return out;
}
}  // namespace

TEST_CASE("three runs 3 points below the reference are a regression beyond the 1-point margin") {
  const auto c = clcp::gate::check_stat(reference(), runs({0.27, 0.28, 0.26})).at(0);
  CHECK(c.fresh.n == 3);
  CHECK(c.fresh.mean == Approx(0.27));
  CHECK(c.fresh.sd == Approx(0.01));
  CHECK(c.delta == Approx(-0.03));
  CHECK(c.se == Approx(0.007302967433402215));
  CHECK(c.df == Approx(4.338983050847457));
  CHECK(c.p_regression == Approx(0.02378602842039476).epsilon(1e-9));
  CHECK(c.p_improvement == Approx(0.9978711998712833).epsilon(1e-9));
  CHECK(c.verdict == "regression");
}

TEST_CASE("runs inside the reference spread pass both one-sided tests") {
  const auto c = clcp::gate::check_stat(reference(), runs({0.298, 0.305, 0.301})).at(0);
  CHECK(c.df == Approx(5.360464454436793));
  CHECK(c.p_regression == Approx(0.9672144665304346).epsilon(1e-9));
  CHECK(c.p_improvement == Approx(0.9330580728097836).epsilon(1e-9));
  CHECK(c.verdict == "ok");
}

TEST_CASE("a single new run borrows the reference sd and a large jump up is a suspicious improvement") {
  auto b = reference();
  b.alpha = 0.1;
  const auto c = clcp::gate::check_stat(b, runs({0.33})).at(0);
  CHECK(c.se == Approx(0.010954451150103323));
  CHECK(c.df == 4);
  CHECK(c.p_improvement == Approx(0.07096372388702775).epsilon(1e-9));
  CHECK(c.p_regression == Approx(0.9891285107673817).epsilon(1e-9));
  CHECK(c.verdict == "suspicious improvement");
  b.alpha = 0.05;  // the same run at α = 0.05 is not flagged
  CHECK(clcp::gate::check_stat(b, runs({0.33})).at(0).verdict == "ok");
}

TEST_CASE("a baseline metric that no run reports is missing, and the metric keys come from metrics.json") {
  auto b = reference();
  b.metrics["rPD"] = {5, 0.8, 0.02};
  const auto checks = clcp::gate::check_stat(b, runs({0.30}));
  REQUIRE(checks.size() == 2);
  CHECK(checks[0].key == "rPD");
  CHECK(checks[0].verdict == "missing");
  const nlohmann::json m = {{"source", {{"mIoU", 0.3}}},
                            {"target", {{"pooled", {{"mIoU", 0.2}}}, {"per_condition", {{"fog", {{"mIoU", 0.25}}},
                                                                                        {"night", {{"mIoU", nullptr}}}}}}},
                            {"rPD", 0.6667}};
  const auto keys = clcp::gate::stat_metrics(m);
  CHECK(keys == std::map<std::string, double>{{"rPD", 0.6667}, {"source.mIoU", 0.3}, {"target.fog.mIoU", 0.25},
                                              {"target.pooled.mIoU", 0.2}});
}

TEST_CASE("a stat baseline survives a round trip and a baseline of one run is refused") {
  auto b = reference();
  b.file = fs::temp_directory_path() / "clcp_stat_baseline" / "test.json";
  clcp::gate::write_stat_baseline(b);
  const auto r = clcp::gate::read_stat_baseline(b.file);
  CHECK(r.metrics.at("source.mIoU").n == 5);
  CHECK(r.margins.at("source.mIoU") == 0.01);
  b.metrics["source.mIoU"].n = 1;
  clcp::gate::write_stat_baseline(b);
  std::string e;
  try {
    clcp::gate::read_stat_baseline(b.file);
  } catch (const clcp::UserError& x) {
    e = x.what();
  }
  CHECK(e.find("needs at least 2 runs") != std::string::npos);
  fs::remove_all(b.file.parent_path());
}

// The baseline `clcp-bench gate --tier stat` uses when none is named: committed, made of real runs (n ≥ 3 seeds, as
// the docs state), and of today's smoke protocol. A change to the smoke recipe moves the fingerprint: then this test
// names the command that records the baseline again (docs/gate.md, Statistical tier).
TEST_CASE("the statistical gate's default baseline is committed, has 3 or more runs and today's smoke fingerprint") {
  const fs::path file = fs::path(CLCP_SOURCE_DIR) / "baselines/regression/dg_acdc-smoke-random.json";
  REQUIRE(fs::exists(file));
  const auto b = clcp::gate::read_stat_baseline(file);
  CHECK(b.name == "dg_acdc-smoke-random");
  CHECK(b.protocol == "dg_acdc");
  CHECK(b.scale == "smoke");
  CHECK(b.init == "random");
  CHECK(b.cells.size() >= 3);
  for (const char* key : {"source.mIoU", "target.pooled.mIoU", "rPD"}) {
    INFO(key);
    REQUIRE(b.metrics.count(key) == 1);
    CHECK(b.metrics.at(key).n >= 3);
    CHECK(b.metrics.at(key).n == static_cast<int64_t>(b.cells.size()));
  }
  const auto smoke = clcp::load_protocol("dg_acdc", "smoke");
  INFO("dg_acdc smoke changed: run it with --seed 0,1,2 and `clcp-bench gate --tier stat DIR/dg_acdc --baseline "
       "dg_acdc-smoke-random --update`, then commit the baseline");
  CHECK(b.fingerprint == smoke.fingerprint());
}

TEST_CASE("rPD follows the rPD rule: not checked where the source mIoU is not 10 points above the best constant") {
  StatBaseline b = reference();  // source mIoU mean 0.30
  b.metrics["rPD"] = {5, 0.60, 0.02};
  b.margins["rPD"] = 0.05;
  auto fresh = runs({0.30, 0.31});
  for (auto& r : fresh) r["rPD"] = 0.20;  // far below the reference: a regression where rPD means something
  // floor 0.15 + 0.10 = 0.25 < 0.30: meaningful, the drop is flagged.
  const auto checked = clcp::gate::check_stat(b, fresh, {0.15, 0.15});
  CHECK(checked.at(0).key == "rPD");
  CHECK(checked.at(0).verdict == "regression");
  // floor 0.25 + 0.10 = 0.35 ≥ 0.30: not meaningful, neither checked nor failing, with the rule's line.
  const auto skipped = clcp::gate::check_stat(b, fresh, {0.25, 0.25});
  CHECK(skipped.at(0).verdict == "not meaningful");
  CHECK(skipped.at(0).note == "reference: rPD not meaningful (source mIoU 30.00 ≤ floor 35.00)");
  CHECK(skipped.at(1).verdict == "ok");  // source.mIoU itself is still checked
  // Without the floors (old callers), rPD is checked as before.
  CHECK(clcp::gate::check_stat(b, fresh).at(0).verdict == "regression");
}
