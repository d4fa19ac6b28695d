// Cross-check against an independent implementation: numpy replays the exported resample indices, recomputes each
// replicate's mIoU/rPD and takes np.percentile; the C++ replicates and CI endpoints must agree.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>

#include "stats_fixtures.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/stats/bootstrap.hpp"
#include "support/test_paths.hpp"

using namespace clcp;
using namespace clcp::stats;
namespace fs = std::filesystem;

TEST_CASE("numpy recomputes the same two-level bootstrap replicates and percentile CI from the exported draws") {
  if (!fs::exists(CLCP_VENV_PYTHON)) {
    WARN("skipped: " << CLCP_VENV_PYTHON << " (python with numpy) not found");
    return;
  }
  std::vector<StratifiedRun> runs;
  for (int s = 0; s < 2; ++s) {
    std::vector<ImageEvidence> src, tgt;
    clcp::test::synthetic_evidence(0.55 + 0.1 * s, 20 + s, 9, 4, src, tgt);
    runs.push_back(stratify(src, tgt, s));
  }
  BootstrapOptions o;
  o.replicates = 300;
  o.seed = 42;
  const auto reps = bootstrap_replicates({runs}, o)[0];

  nlohmann::json in;
  for (const auto& run : runs) {
    nlohmann::json strata = nlohmann::json::array();
    for (const auto& m : run.strata) {
      nlohmann::json I = nlohmann::json::array(), U = nlohmann::json::array();
      for (size_t r = 0; r < m.rows(); ++r) {
        const auto* row = m.counts.data() + r * 2 * kNumClasses;
        I.push_back(std::vector<int64_t>(row, row + kNumClasses));
        U.push_back(std::vector<int64_t>(row + kNumClasses, row + 2 * kNumClasses));
      }
      strata.push_back({{"I", I}, {"U", U}});
    }
    in["runs"].push_back({{"strata", strata}});
  }
  in["level"] = o.level;
  for (int64_t r = 0; r < o.replicates; ++r) {
    const auto which = draw_runs(o.seed, r, 2);
    nlohmann::json images = nlohmann::json::array();
    for (size_t slot = 0; slot < which.size(); ++slot) {
      nlohmann::json per = nlohmann::json::array();
      const auto& run = runs[static_cast<size_t>(which[slot])];
      for (size_t s = 0; s < run.strata.size(); ++s)
        per.push_back(draw_images(o.seed, r, slot, s, static_cast<int64_t>(run.strata[s].rows())));
      images.push_back(per);
    }
    in["replicates"].push_back({{"runs", which}, {"images", images}});
  }
  const fs::path dir = clcp::test::fresh_dir("numpy");
  write_json_atomic(dir / "in.json", in);
  const std::string cmd = std::string(CLCP_VENV_PYTHON) + " " + CLCP_SOURCE_DIR +
                          "/tests/unit/stats/bootstrap_numpy.py " + (dir / "in.json").string() + " " +
                          (dir / "out.json").string();
  REQUIRE(std::system(cmd.c_str()) == 0);
  const auto out = read_json(dir / "out.json");
  auto check = [&](const char* key, const std::vector<double>& ours) {
    const auto& theirs = out[key]["replicates"];
    REQUIRE(theirs.size() == ours.size());
    for (size_t r = 0; r < ours.size(); ++r) CHECK(theirs[r].get<double>() == Approx(ours[r]).epsilon(1e-12));
    CHECK(out[key]["ci"][0].get<double>() == Approx(percentile(ours, 0.025)).epsilon(1e-12));
    CHECK(out[key]["ci"][1].get<double>() == Approx(percentile(ours, 0.975)).epsilon(1e-12));
  };
  check("source", reps.source);
  check("target", reps.target);
  check("rpd", reps.rpd);
  fs::remove_all(dir);
}
