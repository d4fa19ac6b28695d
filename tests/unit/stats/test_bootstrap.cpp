// Image-level and two-level bootstrap: hand-enumerated resamples, percentiles, stratification, determinism.
#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "stats_fixtures.hpp"
#include "suite/core/error.hpp"
#include "suite/eval/metrics.hpp"
#include "suite/stats/bootstrap.hpp"

using namespace clcp;
using namespace clcp::stats;
using clcp::test::one_class_image;

namespace {

// Two source images (class 0): X has I=1, P=2, L=2 (U=3); Y has I=3, P=3, L=4 (U=4). One target image, T (fog).
// Resamples of the source: XX → 2/6, XY and YX → 4/7, YY → 6/8; the target is always 1/3.
struct TwoImages {
  std::vector<ImageEvidence> source{one_class_image("x", "cityscapes", "", 0, 1, 2, 2),
                                    one_class_image("y", "cityscapes", "", 0, 3, 3, 4)};
  std::vector<ImageEvidence> target{one_class_image("t", "acdc", "fog", 0, 1, 2, 2)};
};

}  // namespace

TEST_CASE("percentile follows numpy's linear rule and ignores NaN") {
  CHECK(percentile({1, 2, 3, 4}, 0.5) == 2.5);
  CHECK(percentile({4, 1, 3, 2}, 0.25) == 1.75);  // h = 0.75 → 1 + 0.75·(2 − 1)
  CHECK(percentile({1, 2, 3, 4}, 0.0) == 1);
  CHECK(percentile({1, 2, 3, 4}, 1.0) == 4);
  CHECK(percentile({5, kNaN, 7}, 0.5) == 6);
  CHECK(std::isnan(percentile({kNaN}, 0.5)));
}

TEST_CASE("summed per-image counts give the mIoU of compute_metrics bit for bit") {
  TwoImages d;
  const auto run = stratify(d.source, d.target, 0);
  const auto v = run_values(run);
  CHECK(v.source == compute_metrics(d.source).mIoU);
  CHECK(v.source == 4.0 / 7.0);
  CHECK(v.target == compute_metrics(d.target).mIoU);
  CHECK(v.rpd == compute_metrics(d.target).mIoU / compute_metrics(d.source).mIoU);
  REQUIRE(v.conditions.size() == 1);
  CHECK(v.conditions[0] == 1.0 / 3.0);
}

TEST_CASE("the two-image bootstrap takes only the four hand-enumerated resamples, in the right proportions") {
  TwoImages d;
  const auto run = stratify(d.source, d.target, 0);
  BootstrapOptions o;
  o.replicates = 2000;
  o.seed = 11;
  const auto reps = bootstrap_replicates({{run}}, o)[0];
  const double xx = 2.0 / 6.0, xy = 4.0 / 7.0, yy = 6.0 / 8.0, t = 1.0 / 3.0;
  int n_xx = 0, n_xy = 0, n_yy = 0;
  for (int64_t r = 0; r < o.replicates; ++r) {
    const double s = reps.source[static_cast<size_t>(r)];
    // Replaying the exact draws names which resample this replicate was.
    const auto idx = draw_images(o.seed, r, 0, 0, 2);
    const int ys = static_cast<int>(idx[0] + idx[1]);
    CHECK(s == (ys == 0 ? xx : ys == 1 ? xy : yy));
    n_xx += ys == 0, n_xy += ys == 1, n_yy += ys == 2;
    CHECK(reps.target[static_cast<size_t>(r)] == t);
    CHECK(reps.rpd[static_cast<size_t>(r)] == rpd_of(t, s));
  }
  CHECK(n_xx + n_xy + n_yy == 2000);
  // Binomial proportions 1/4, 1/2, 1/4 (sd ≈ 0.01 at 2000 replicates).
  CHECK(n_xx / 2000.0 == Approx(0.25).margin(0.04));
  CHECK(n_xy / 2000.0 == Approx(0.50).margin(0.04));
  CHECK(n_yy / 2000.0 == Approx(0.25).margin(0.04));
  // Each extreme holds ~25% of the mass, so the 2.5% and 97.5% percentiles are exactly the extremes.
  CHECK(percentile(reps.source, 0.025) == xx);
  CHECK(percentile(reps.source, 0.975) == yy);
  CHECK(percentile(reps.rpd, 0.025) == rpd_of(t, yy));
  CHECK(percentile(reps.rpd, 0.975) == rpd_of(t, xx));
  CHECK(percentile(reps.source, 0.5) == xy);
}

TEST_CASE("every stratum keeps its size in every replicate, so no condition loses all its images") {
  std::vector<ImageEvidence> source, target;
  clcp::test::synthetic_evidence(0.7, 3, 12, 5, source, target);
  target.push_back(one_class_image("lonely", "acdc", "rain", 4, 5, 9, 7));  // a one-image condition
  const auto run = stratify(source, target, 0);
  REQUIRE(run.conditions == std::vector<std::string>{"fog", "night", "rain"});
  BootstrapOptions o;
  o.replicates = 300;
  o.seed = 5;
  const auto reps = bootstrap_replicates({{run}}, o)[0];
  const double rain = run_values(run).conditions[2];
  for (int64_t r = 0; r < o.replicates; ++r) {
    CHECK(reps.conditions[2][static_cast<size_t>(r)] == rain);  // the only rain image is drawn every time
    // Replay: pooled target = one draw of each condition's size from that condition only.
    std::vector<ImageEvidence> resampled;
    for (uint64_t s = 1; s <= 3; ++s) {
      const auto& m = run.strata[s];
      const auto idx = draw_images(o.seed, r, 0, s, static_cast<int64_t>(m.rows()));
      REQUIRE(idx.size() == m.rows());
      for (auto i : idx) {
        REQUIRE(i >= 0);
        REQUIRE(i < static_cast<int64_t>(m.rows()));
        for (const auto& ev : target)
          if (ev.id == m.ids[static_cast<size_t>(i)]) resampled.push_back(ev);
      }
    }
    CHECK(reps.target[static_cast<size_t>(r)] == compute_metrics(resampled).mIoU);
  }
}

TEST_CASE("two-level replicates are the mean over resampled seeds of image-resampled runs") {
  std::vector<StratifiedRun> runs;
  for (int s = 0; s < 3; ++s) {
    std::vector<ImageEvidence> src, tgt;
    clcp::test::synthetic_evidence(0.5 + 0.1 * s, 10 + s, 6, 3, src, tgt);
    runs.push_back(stratify(src, tgt, s));
  }
  BootstrapOptions o;
  o.replicates = 50;
  o.seed = 9;
  const auto reps = bootstrap_replicates({runs}, o)[0];
  std::set<int64_t> distinct_first;
  for (int64_t r = 0; r < o.replicates; ++r) {
    const auto which = draw_runs(o.seed, r, 3);
    REQUIRE(which.size() == 3);
    distinct_first.insert(which[0]);
    double sum = 0;
    for (size_t slot = 0; slot < which.size(); ++slot) {
      const auto& m = runs[static_cast<size_t>(which[slot])].strata[0];
      std::vector<int64_t> sums(2 * kNumClasses, 0);
      for (auto i : draw_images(o.seed, r, slot, 0, static_cast<int64_t>(m.rows())))
        for (size_t c = 0; c < sums.size(); ++c) sums[c] += m.counts[static_cast<size_t>(i) * sums.size() + c];
      sum += miou_from_sums(sums.data());
    }
    CHECK(reps.source[static_cast<size_t>(r)] == sum / 3);
  }
  CHECK(distinct_first.size() == 3);  // the seed level really resamples runs
}

TEST_CASE("same inputs and bootstrap seed give identical replicates, another seed gives others") {
  std::vector<ImageEvidence> src, tgt;
  clcp::test::synthetic_evidence(0.6, 4, 20, 8, src, tgt);
  const auto run = stratify(src, tgt, 0);
  BootstrapOptions o;
  o.replicates = 200;
  o.seed = 1;
  const auto a = bootstrap_replicates({{run}}, o)[0];
  const auto b = bootstrap_replicates({{run}}, o)[0];
  CHECK(a.source == b.source);
  CHECK(a.rpd == b.rpd);
  o.seed = 2;
  CHECK(bootstrap_replicates({{run}}, o)[0].source != a.source);
}

TEST_CASE("stratify refuses a run without source or target images") {
  std::vector<ImageEvidence> src, tgt;
  clcp::test::synthetic_evidence(0.6, 4, 2, 2, src, tgt);
  CHECK_THROWS_AS(stratify({}, tgt, 0), UserError);
  CHECK_THROWS_AS(stratify(src, {}, 0), UserError);
}
