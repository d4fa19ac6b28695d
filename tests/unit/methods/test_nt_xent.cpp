// SimCLR's NT-Xent (suite/pretrain/methods/simclr/nt_xent.hpp): hand-computed values, the rank decomposition that
// global negatives rely on, the positive-pair accuracy and the collapse monitor, and parity with lightly 1.6.0's own
// NTXentLoss on the same float64 embeddings (build/lightly-venv; skipped visibly without it).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sys/wait.h>

#include "models/safetensors.hpp"
#include "suite/core/error.hpp"
#include "suite/pretrain/methods/simclr/nt_xent.hpp"
#include "support/python_oracle.hpp"
#include "support/test_paths.hpp"

using namespace clcp;
namespace fs = std::filesystem;

namespace {
torch::Tensor nx_rows(std::initializer_list<std::initializer_list<double>> rows) {
  std::vector<torch::Tensor> out;
  for (const auto& r : rows) out.push_back(torch::tensor(std::vector<double>(r), torch::kFloat64));
  return torch::stack(out);
}
}  // namespace

TEST_CASE("NT-Xent on hand-made embeddings equals the values computed by hand", "[methods][simclr]") {
  // Two images, orthogonal, each view equal to its image: every query has cos 1 to its positive and 0 to the two
  // negatives, so each of the 4 rows is −log(e / (e + 2)) = ln(1 + 2/e).
  const auto e2 = nx_rows({{1, 0}, {0, 1}});
  CHECK(nt_xent(e2, e2, 1.0).item<double>() == Approx(std::log(1 + 2 / std::exp(1.0))).epsilon(1e-15));
  // At τ 0.5 the logits are 2, 0, 0: ln(1 + 2/e²).
  CHECK(nt_xent(e2, e2, 0.5).item<double>() == Approx(std::log(1 + 2 / std::exp(2.0))).epsilon(1e-15));
  // Every embedding equal: all logits equal, the loss is chance, ln(2N − 1) = ln 3.
  const auto same = nx_rows({{3, 4}, {3, 4}});
  CHECK(nt_xent(same, same, 0.5).item<double>() == Approx(std::log(3.0)).epsilon(1e-15));
  // Scale does not matter (the embeddings are normalised inside).
  CHECK(nt_xent(e2 * 7.0, e2 * 0.5, 1.0).item<double>() == Approx(std::log(1 + 2 / std::exp(1.0))).epsilon(1e-15));
  CHECK_THROWS_AS(nt_xent(nx_rows({{1, 0}}), nx_rows({{1, 0}}), 1.0), UserError);
  CHECK_THROWS_AS(nt_xent(e2, e2, 0.0), UserError);
}

TEST_CASE("NT-Xent's rank terms average to the one-process loss, and the accuracy and z_std know their answers",
          "[methods][simclr]") {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(11);
  const auto za = torch::randn({6, 5}, gen, torch::kFloat64), zb = torch::randn({6, 5}, gen, torch::kFloat64);
  const double whole = nt_xent(za, zb, 0.3).item<double>();
  double mean = 0;
  for (int r = 0; r < 3; ++r)
    mean += nt_xent_rows(za.narrow(0, 2 * r, 2), zb.narrow(0, 2 * r, 2), za, zb, 0.3, 2 * r).item<double>() / 3;
  CHECK(mean == Approx(whole).epsilon(1e-14));
  // accuracy: views equal to their orthogonal images → every query finds its partner; views swapped → none does
  const auto e2 = nx_rows({{1, 0}, {0, 1}});
  CHECK(positive_pair_accuracy(e2, e2) == 1.0);
  CHECK(positive_pair_accuracy(e2, nx_rows({{0, 1}, {1, 0}})) == 0.0);
  // z_std: all equal → 0; ±e1 and ±e2 over 4 rows → per-dimension sample std of (1, −1, 0, 0) = √(2/3)
  CHECK(normalised_std(nx_rows({{2, 2}, {2, 2}}), nx_rows({{1, 1}, {3, 3}})) == Approx(0.0).margin(1e-15));
  CHECK(normalised_std(nx_rows({{1, 0}, {-1, 0}}), nx_rows({{0, 1}, {0, -1}})) == Approx(std::sqrt(2.0 / 3.0)));
}

TEST_CASE("NT-Xent equals lightly 1.6.0's NTXentLoss on the same float64 embeddings to 1e-12", "[methods][simclr]") {
  const std::string python = std::string(CLCP_SOURCE_DIR) + "/build/lightly-venv/bin/python";
  if (!fs::exists(python)) {
    WARN("SKIPPED: no build/lightly-venv (ci/setup.sh installs it from ci/lightly-requirements.txt)");
    return;
  }
  test::TempDir dir;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  std::map<std::string, torch::Tensor> t;
  for (int c = 0; c < 3; ++c) {
    const int64_t n = 2 + 3 * c;
    t["a" + std::to_string(c)] = torch::randn({n, 7}, gen, torch::kFloat64);
    t["b" + std::to_string(c)] = torch::randn({n, 7}, gen, torch::kFloat64);
  }
  save_safetensors(dir.path / "in.safetensors", t, {});
  const int rc = std::system(("'" + python + "' '" + CLCP_SOURCE_DIR + "/tests/parity/lightly_ntxent_oracle.py' '" +
                              dir.path.string() + "' > '" + (dir.path / "log.txt").string() + "' 2>&1")
                                 .c_str());
  const std::string log = test::read_log(dir.path);
  if (WIFEXITED(rc) && WEXITSTATUS(rc) == 3) {
    WARN("SKIPPED: lightly does not load: " << log);
    return;
  }
  INFO(log);
  REQUIRE(rc == 0);
  const auto out = load_safetensors(dir.path / "out.safetensors");
  const double taus[3] = {0.5, 0.1, 0.07};
  for (int c = 0; c < 3; ++c) {
    const auto key = std::to_string(c);
    const double ours = nt_xent(t.at("a" + key), t.at("b" + key), taus[c]).item<double>();
    const double theirs = out.at("loss" + key).item<double>();
    INFO("case " << c << ": ours " << ours << ", lightly " << theirs);
    CHECK(std::abs(ours - theirs) <= 1e-12);
  }
}
