// Paired comparison: verdicts on constructed bundles, seeds-needed formula, refusals.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>

#include "stats_fixtures.hpp"
#include "suite/core/error.hpp"
#include "suite/stats/compare.hpp"
#include "support/test_paths.hpp"

using namespace clcp;
using namespace clcp::stats;
namespace fs = std::filesystem;

namespace {

// `seeds` runs of one init (clcp::test::write_seeded_side: A and B share the images' difficulty pattern).
fs::path write_side(const fs::path& root, const std::string& init, double quality, std::vector<int64_t> seeds,
                    const std::string& fp = "fp1") {
  return clcp::test::write_seeded_side(root, init, "full", quality, seeds, fp, 100, 10, 5);
}

CompareOptions quick() {
  CompareOptions o;
  o.bootstrap.replicates = 500;
  o.bootstrap.seed = 7;
  return o;
}

}  // namespace

TEST_CASE("normal quantiles match tabulated values") {
  CHECK(normal_quantile(0.975) == Approx(1.959963984540054).epsilon(1e-12));
  CHECK(normal_quantile(0.8) == Approx(0.8416212335729143).epsilon(1e-12));
  CHECK(normal_quantile(0.5) == Approx(0.0).margin(1e-15));
  CHECK(normal_quantile(0.001) == Approx(-3.090232306167813).epsilon(1e-12));
}

TEST_CASE("seeds needed follows 2·(z_0.975 + z_0.8)²·σ²/δ² per side") {
  CompareOptions o;  // effect 1 point, power 0.8, alpha 0.05
  // σ = 1 point: 2·(1.959964 + 0.841621)² = 15.698 → 16.
  auto s = seeds_needed(0.01, 3, 0.01, 3, o);
  REQUIRE(s.per_side.has_value());
  CHECK(*s.per_side == 16);
  CHECK(s.sd == Approx(0.01));
  // σ² = (0.02² + 0.02²)/2 → σ = 2 points: 4·15.698 = 62.79 → 63.
  CHECK(*seeds_needed(0.02, 5, 0.02, 4, o).per_side == 63);
  // Pooled variance: sd 1 and 3 points → σ² = 5 → 78.49 → 79.
  CHECK(*seeds_needed(0.01, 2, 0.03, 2, o).per_side == 79);
  o.effect_points = 2.0;  // effect 2 points, σ 1 → 15.698/4 = 3.92 → 4
  CHECK(*seeds_needed(0.01, 3, 0.01, 3, o).per_side == 4);
  CHECK(*seeds_needed(0.0, 3, 0.0, 3, o).per_side == 2);  // at least 2 to estimate anything
  const auto one = seeds_needed(kNaN, 1, 0.01, 3, o);
  CHECK_FALSE(one.per_side.has_value());
  CHECK(one.note == "needs ≥ 2 seeds per side to estimate");
}

TEST_CASE("a clearly better candidate is judged better, and the reverse worse") {
  const fs::path root = clcp::test::fresh_dir("cmp_better");
  const auto a = write_side(root, "imagenet", 0.5, {0, 1, 2});
  const auto b = write_side(root, "clcp", 0.7, {0, 1, 2});
  const auto r = compare({a}, {b}, quick());
  CHECK(r.seeds == std::vector<int64_t>{0, 1, 2});
  CHECK(r.images_source == 10);
  CHECK(r.images_target == 10);
  CHECK(r.miou_source.verdict == "better");
  CHECK(r.miou_target.verdict == "better");
  CHECK(r.miou_source.p_improvement == 1.0);
  CHECK(r.miou_source.delta.value == Approx(r.miou_source.b - r.miou_source.a));
  CHECK(r.miou_source.delta.lo > 0);
  CHECK(r.seeds_needed.per_side.has_value());
  const auto rev = compare({b}, {a}, quick());
  CHECK(rev.miou_target.verdict == "worse");
  CHECK(rev.miou_target.p_improvement == 0.0);
  CHECK(rev.miou_target.delta.value == -r.miou_target.delta.value);
  fs::remove_all(root);
}

TEST_CASE("identical bundles give a zero difference and an inconclusive verdict") {
  const fs::path root = clcp::test::fresh_dir("cmp_same");
  const auto a = write_side(root, "imagenet", 0.5, {0, 1});
  const auto b = write_side(root, "imagenet_again", 0.5, {0, 1});
  const auto r = compare({a}, {b}, quick());
  for (const auto* d : {&r.miou_source, &r.miou_target, &r.rpd}) {
    CHECK(d->delta.value == 0.0);
    CHECK(d->delta.lo == 0.0);
    CHECK(d->delta.hi == 0.0);
    CHECK(d->p_improvement == 0.0);
    CHECK(d->verdict == "inconclusive");
  }
  fs::remove_all(root);
}

TEST_CASE("a candidate better on some images and worse on others is inconclusive") {
  const fs::path root = clcp::test::fresh_dir("cmp_noisy");
  std::vector<ImageEvidence> src, tgt;
  clcp::test::synthetic_evidence(0.5, 77, 16, 8, src, tgt);
  clcp::test::write_bundle(root / "a", "imagenet", "full", 0, "fp1", src, tgt);
  // B: each image's intersect moves by ±(50 + 10·i) pixels on class 0, alternating sign, so image-level gains
  // and losses nearly cancel.
  auto perturb = [](std::vector<ImageEvidence>& evs) {
    for (size_t i = 0; i < evs.size(); ++i) {
      const int64_t d = (i % 2 ? -1 : 1) * static_cast<int64_t>(50 + 10 * i);
      evs[i].intersect[0] = std::clamp<int64_t>(evs[i].intersect[0] + d, 0,
                                                std::min(evs[i].label_area[0], evs[i].pred_area[0]));
    }
  };
  perturb(src);
  perturb(tgt);
  clcp::test::write_bundle(root / "b", "clcp", "full", 0, "fp1", src, tgt);
  const auto r = compare({root / "a"}, {root / "b"}, quick());
  CHECK(r.miou_source.verdict == "inconclusive");
  CHECK(r.miou_target.verdict == "inconclusive");
  CHECK(r.miou_source.delta.lo < 0);
  CHECK(r.miou_source.delta.hi > 0);
  CHECK(r.miou_source.p_improvement > 0.05);
  CHECK(r.miou_source.p_improvement < 0.95);
  CHECK_FALSE(r.seeds_needed.per_side.has_value());  // one seed per side
  CHECK(r.seeds_needed.note == "needs ≥ 2 seeds per side to estimate");
  fs::remove_all(root);
}

TEST_CASE("compare pairs runs by seed and lists the runs left without a partner") {
  const fs::path root = clcp::test::fresh_dir("cmp_pairs");
  const auto a = write_side(root, "imagenet", 0.5, {0, 1, 2});
  const auto b = write_side(root, "clcp", 0.6, {1, 2, 3});
  const auto r = compare({a}, {b}, quick());
  CHECK(r.seeds == std::vector<int64_t>{1, 2});
  CHECK(r.unpaired.size() == 2);
  // Same inputs → identical bytes.
  CHECK(compare({a}, {b}, quick()).to_json().dump() == r.to_json().dump());
  CHECK(r.to_json()["bootstrap"]["seed"] == 7);
  fs::remove_all(root);
}

TEST_CASE("compare refuses different protocol fingerprints with one line naming both") {
  const fs::path root = clcp::test::fresh_dir("cmp_fp");
  const auto a = write_side(root, "imagenet", 0.5, {0}, "aaaa1111");
  const auto b = write_side(root, "clcp", 0.5, {0}, "bbbb2222");
  try {
    compare({a}, {b}, quick());
    FAIL("no error");
  } catch (const UserError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("aaaa1111") != std::string::npos);
    CHECK(msg.find("bbbb2222") != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }
  fs::remove_all(root);
}

TEST_CASE("the compare verb prints a table and JSON and refuses mixed protocols with exit code 2") {
  if (!clcp::test::bench_exe_exists()) {
    WARN("skipped: " << CLCP_BENCH_EXE << " is not built (ninja clcp-bench)");
    return;
  }
  const fs::path root = clcp::test::fresh_dir("cmp_cli");
  const auto a = write_side(root, "imagenet", 0.5, {0, 1});
  const auto b = write_side(root, "clcp", 0.7, {0, 1});
  const auto t = clcp::test::run_bench("compare " + a.string() + " " + b.string() + " --replicates 300 --seed 4");
  CHECK(t.exit_code == 0);
  CHECK_THAT(t.output, Catch::Contains("mIoU target (pooled)") && Catch::Contains("better") &&
                           Catch::Contains("300 replicates, seed 4"));
  const auto j = clcp::test::run_bench("compare " + a.string() + " " + b.string() + " --replicates 300 --json");
  REQUIRE(j.exit_code == 0);
  const auto parsed = nlohmann::json::parse(j.output);
  CHECK(parsed["mIoU_target"]["verdict"] == "better");
  CHECK(parsed["bootstrap"]["replicates"] == 300);
  const auto c = write_side(root, "other", 0.5, {0}, "cccc3333");
  const auto bad = clcp::test::run_bench("compare " + a.string() + " " + c.string());
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.output, Catch::Contains("fp1") && Catch::Contains("cccc3333"));
  CHECK(std::count(bad.output.begin(), bad.output.end(), '\n') == 1);
  fs::remove_all(root);
}
