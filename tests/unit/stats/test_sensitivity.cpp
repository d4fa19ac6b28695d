// Controls, the minimum detectable effect and the rPD rule on hand-made evidence with known answers.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>

#include "stats_fixtures.hpp"
#include "suite/stats/compare.hpp"
#include "suite/stats/rpd_rule.hpp"
#include "suite/stats/sensitivity.hpp"

using namespace clcp;
using namespace clcp::stats;
namespace fs = std::filesystem;

namespace {

// Two seeds of one init (jitter by seed only, so two inits differ by quality alone).
fs::path sens_side(const fs::path& root, const std::string& init, double quality, int n_src, int n_per_cond) {
  return clcp::test::write_seeded_side(root, init, "frozen", quality, {0, 1}, "fpS", 300, n_src, n_per_cond);
}

CompareOptions sens_opts() {
  CompareOptions o;
  o.bootstrap.replicates = 400;
  o.bootstrap.seed = 3;
  return o;
}

}  // namespace

TEST_CASE("the minimum detectable effect is (z_0.975 + z_0.8) times the standard error of the paired delta") {
  // 1.959963985 + 0.841621234 = 2.801585218
  CHECK(minimum_detectable_effect(0.01, 0.05, 0.8) == Approx(0.02801585218).epsilon(1e-9));
  CHECK(minimum_detectable_effect(0.004, 0.05, 0.8) == Approx(0.01120634087).epsilon(1e-9));
  // alpha 0.01, power 0.9: 2.575829304 + 1.281551566 = 3.857380870
  CHECK(minimum_detectable_effect(0.01, 0.01, 0.9) == Approx(0.0385738087).epsilon(1e-9));
}

TEST_CASE("the rPD rule at, below and above its floor of best-constant-class mIoU plus ten points") {
  const double best = 0.0134;
  const auto at = rpd_validity(best + kRpdFloorMargin, best);
  CHECK_FALSE(at.meaningful);  // "clearly above": equal is not enough
  CHECK(at.floor == best + 0.10);
  CHECK_FALSE(rpd_validity(0.0674, best).meaningful);
  CHECK(rpd_validity(0.0674, best).note == "rPD not meaningful (source mIoU 6.74 ≤ floor 11.34)");
  CHECK(rpd_validity(best + 0.1001, best).meaningful);
  CHECK(rpd_validity(best + 0.1001, best).note.empty());
  CHECK(rpd_validity(0.60, 0.02).meaningful);  // the thesis's Cityscapes numbers are far above it
  CHECK_FALSE(rpd_validity(kNaN, best).meaningful);
  CHECK(rpd_validity(kNaN, best).note == "rPD not meaningful (no source mIoU)");
}

TEST_CASE("compare reports the delta's bootstrap standard error and applies the rPD rule to both sides") {
  const fs::path root = clcp::test::fresh_dir("sens_cmp");
  const fs::path low = sens_side(root, "low", 0.05, 20, 10), high = sens_side(root, "high", 0.5, 20, 10);
  const auto r = compare({low}, {high}, sens_opts());
  CHECK(r.miou_source.se > 0);
  CHECK(r.miou_source.se < (r.miou_source.delta.hi - r.miou_source.delta.lo));  // ~ CI width / 3.92
  CHECK_FALSE(r.rpd_a.meaningful);  // quality 0.05: source mIoU far below the floor
  CHECK(r.rpd_b.meaningful);
  CHECK(r.rpd.verdict == "not meaningful");
  CHECK(r.table().find("A: rPD not meaningful (source mIoU") != std::string::npos);
  const auto both = compare({high}, {high}, sens_opts());
  CHECK(both.rpd.verdict != "not meaningful");
  fs::remove_all(root);
}

TEST_CASE("controls: a clear effect is detected, a null effect is not better, too few images cannot detect") {
  const fs::path root = clcp::test::fresh_dir("sens_ctrl");
  const fs::path ref = sens_side(root, "random", 0.40, 20, 10);
  const fs::path good = sens_side(root, "supervised", 0.60, 20, 10);
  const fs::path same = sens_side(root, "shuffled", 0.40, 20, 10);  // same quality, same images: Δ = 0 exactly
  const auto r_good = compare({ref}, {good}, sens_opts());
  const auto r_same = compare({ref}, {same}, sens_opts());

  const auto pos = check_control("supervised", "positive", "random", r_good);
  CHECK(pos.outcome == "detected");
  CHECK(pos.passes);
  CHECK(pos.line.find("positive control supervised beats random") == 0);
  const auto neg = check_control("shuffled", "negative", "random", r_same);
  CHECK(r_same.miou_source.delta.value == 0.0);
  CHECK(neg.outcome == "not better");
  CHECK(neg.passes);
  // The null effect as a positive control is not detected; the clear effect as a negative control is "better".
  CHECK(check_control("shuffled", "positive", "random", r_same).outcome == "not detected");
  const auto bad_neg = check_control("supervised", "negative", "random", r_good);
  CHECK(bad_neg.outcome == "better");
  CHECK_FALSE(bad_neg.passes);

  // 19 source images: below the 20 a percentile CI needs, whatever the effect.
  const fs::path root2 = clcp::test::fresh_dir("sens_few");
  const auto r_few = compare({sens_side(root2, "random", 0.40, 19, 10)}, {sens_side(root2, "supervised", 0.60, 19, 10)},
                             sens_opts());
  const auto few = check_control("supervised", "positive", "random", r_few);
  CHECK(few.outcome == "cannot detect");
  CHECK_FALSE(few.passes);
  CHECK(few.line.find("19 source and 20 target images") != std::string::npos);

  // The verdict on the scale and its MDE: the root mean square of the comparisons' SEs times 2.8016.
  const auto s = assess_sensitivity("random", {pos, neg}, {&r_good, &r_same});
  CHECK(s.answers);
  CHECK(s.headline.find("Sensitivity: the controls pass") == 0);
  const double rms = std::sqrt((r_good.miou_target.se * r_good.miou_target.se +
                                r_same.miou_target.se * r_same.miou_target.se) / 2);
  CHECK(s.mde_target_points == Approx(100 * 2.801585218 * rms).epsilon(1e-8));
  CHECK(s.comparisons == 2);
  // Two seeds per side: the seeds needed for a 1-point effect are compare's own estimate, the larger of the two.
  REQUIRE(s.seeds_for_one_point);
  CHECK(*s.seeds_for_one_point == std::max(*r_good.seeds_needed.per_side, *r_same.seeds_needed.per_side));
  CHECK(s.seeds_line.find(std::to_string(*s.seeds_for_one_point) + " per side") != std::string::npos);
  const auto f = assess_sensitivity("random", {few, neg}, {&r_few});
  CHECK_FALSE(f.answers);
  CHECK(f.headline.find("This scale cannot answer the question") == 0);
  const auto none = assess_sensitivity("random", {}, {});
  CHECK_FALSE(none.seeds_for_one_point);
  CHECK(none.seeds_line.find("needs ≥ 2 seeds per side") != std::string::npos);
  CHECK_FALSE(none.answers);
  CHECK(std::isnan(none.mde_target_points));
  CHECK(missing_control("x", "positive", "no run").outcome == "not run");
  fs::remove_all(root);
  fs::remove_all(root2);
}
