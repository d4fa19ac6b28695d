// The Siamese family's losses, heads and EMA (suite/pretrain/methods/siamese/): values computed by hand, the
// stop-gradient of every target, DiSiam's assistant term as SimSiam on the assistant alone, and parity with lightly
// 1.6.0's NegativeCosineSimilarity, SimSiam/BYOL heads and cosine_schedule plus a PyTorch EMA loop on the same float64
// tensors (build/lightly-venv; skipped visibly without it).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <sys/wait.h>

#include "models/safetensors.hpp"
#include "suite/core/error.hpp"
#include "suite/pretrain/methods/siamese/siamese_loss.hpp"
#include "suite/pretrain/methods/siamese/siamese_model.hpp"
#include "support/python_oracle.hpp"
#include "support/test_paths.hpp"

using namespace clcp;
using namespace clcp::siamese;
namespace fs = std::filesystem;

namespace {
torch::Tensor sm_rows(std::initializer_list<std::initializer_list<double>> rows) {
  std::vector<torch::Tensor> out;
  for (const auto& r : rows) out.push_back(torch::tensor(std::vector<double>(r), torch::kFloat64));
  return torch::stack(out);
}
double sm_value(const torch::Tensor& t) { return t.item<double>(); }

// A tiny branch (24-wide one-block ViT) whose heads the parity test loads with lightly's weights.
SiameseBranch sm_branch(const std::string& projector, int64_t hidden, int64_t out, int64_t predictor_hidden) {
  BranchOptions o;
  o.encoder.img_size = 32;
  o.encoder.embed_dim = 24;
  o.encoder.depth = 1;
  o.encoder.num_heads = 2;
  o.projector = projector;
  o.projector_hidden = hidden;
  o.out = out;
  o.predictor_hidden = predictor_hidden;
  SiameseBranch b(o);
  b->init_weights(1, "branch");
  return b;
}

// Copies lightly's `<name>.layers.<key>` tensors into a Sequential's `<key>` parameters and buffers.
void sm_load(torch::nn::Sequential& s, const std::map<std::string, torch::Tensor>& w, const std::string& name) {
  torch::NoGradGuard ng;
  int copied = 0;
  auto copy = [&](const std::string& key, torch::Tensor t) {
    const auto it = w.find(name + ".layers." + key);
    if (it == w.end()) return;
    REQUIRE(t.sizes() == it->second.sizes());
    t.copy_(it->second);
    ++copied;
  };
  for (auto& p : s->named_parameters(true)) copy(p.key(), p.value());
  for (auto& b : s->named_buffers(true))
    if (b.value().is_floating_point()) copy(b.key(), b.value());
  CHECK(copied > 0);
}
}  // namespace

TEST_CASE("the Siamese losses on hand-made embeddings equal the values computed by hand", "[methods][siamese]") {
  // D(p, z) = −mean cos: cos([1,0],[1,0]) = 1, cos([0,1],[1,1]) = 1/√2
  CHECK(sm_value(negative_cosine(sm_rows({{1, 0}, {0, 1}}), sm_rows({{1, 0}, {1, 1}}))) ==
        Approx(-(1 + 1 / std::sqrt(2.0)) / 2).epsilon(1e-12));
  const auto e1 = sm_rows({{1, 0}}), e2 = sm_rows({{0, 1}});
  // SimSiam ½[D(p1, z2) + D(p2, z1)]: both aligned → −1; one aligned, one orthogonal → −½
  CHECK(sm_value(simsiam_loss(e1, e2, e2, e1)) == Approx(-1.0));
  CHECK(sm_value(simsiam_loss(e1, e2, e1, e1)) == Approx(-0.5));
  // BYOL (2 − 2cos(p1, t2)) + (2 − 2cos(p2, t1)): 0 + 2; perfect → 0; opposite → 8
  CHECK(sm_value(byol_loss(e1, e2, e1, e1)) == Approx(2.0));
  CHECK(sm_value(byol_loss(e1, e2, e2, e1)) == Approx(0.0).margin(1e-12));
  CHECK(sm_value(byol_loss(e1, e1, -e1, -e1)) == Approx(8.0));
  // FastSiam, M = 3, every p = [1,0], z = [1,0], [0,1], [0,−1]: Σ_{j≠k} cos = 2·1 + 2·0 + 2·0 → −2/6
  CHECK(sm_value(fastsiam_loss({e1, e1, e1}, {e1, e2, -e2})) == Approx(-1.0 / 3));
  // M = 2 FastSiam is SimSiam
  const auto a = sm_rows({{0.3, -1.2, 2.0}, {1.0, 0.5, -0.7}}), b = sm_rows({{-0.4, 0.9, 1.1}, {2.0, -0.3, 0.2}});
  const auto c = sm_rows({{1.5, 0.2, -0.1}, {0.1, 0.1, 0.9}}), d = sm_rows({{-1.0, -1.0, 0.5}, {0.7, 2.2, -0.4}});
  CHECK(sm_value(fastsiam_loss({a, b}, {c, d})) == Approx(sm_value(simsiam_loss(a, b, c, d))).epsilon(1e-14));
  // DiSiam: online p = e1, e2 against the assistant's z = e2, e1 → ½[D(e1, e1) + D(e2, e2)] = −1; the assistant's
  // own p = e1, e1 → ½[D(e1, e1) + D(e1, e2)] = −½; L = −1.5
  const DisiamTerms t = disiam_loss({e1, e2}, {e1, e1}, {e2, e1});
  CHECK(sm_value(t.online) == Approx(-1.0));
  CHECK(sm_value(t.assistant) == Approx(-0.5));
  CHECK(sm_value(t.loss) == Approx(-1.5));
  CHECK_THROWS_WITH(negative_cosine(a, sm_rows({{1, 2}})), Catch::Contains("expected two [N, D] tensors"));
}

TEST_CASE("DiSiam's assistant term is SimSiam's loss on the assistant alone, for 2 and for 3 views",
          "[methods][siamese]") {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(11);
  std::vector<torch::Tensor> p_on, p_as, z_as;
  for (int v = 0; v < 3; ++v) {
    p_on.push_back(torch::randn({5, 8}, gen, torch::kFloat64));
    p_as.push_back(torch::randn({5, 8}, gen, torch::kFloat64));
    z_as.push_back(torch::randn({5, 8}, gen, torch::kFloat64));
  }
  const DisiamTerms two = disiam_loss({p_on[0], p_on[1]}, {p_as[0], p_as[1]}, {z_as[0], z_as[1]});
  CHECK(sm_value(two.assistant) == Approx(sm_value(simsiam_loss(p_as[0], p_as[1], z_as[0], z_as[1]))).epsilon(1e-14));
  CHECK(sm_value(two.loss) == Approx(sm_value(two.online) + sm_value(two.assistant)).epsilon(1e-14));
  const DisiamTerms three = disiam_loss(p_on, p_as, z_as);  // DiSiam+: FastSiam averaging over the 6 ordered pairs
  CHECK(sm_value(three.assistant) == Approx(sm_value(fastsiam_loss(p_as, z_as))).epsilon(1e-14));
  CHECK(sm_value(three.online) == Approx(sm_value(fastsiam_loss(p_on, z_as))).epsilon(1e-14));
}

TEST_CASE("stop-gradient: targets get no gradient, and DiSiam's online term reaches no assistant parameter",
          "[methods][siamese]") {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(2);
  auto leaf = [&] { return torch::randn({4, 6}, gen, torch::kFloat64).requires_grad_(true); };
  const auto p1 = leaf(), p2 = leaf(), z1 = leaf(), z2 = leaf();
  simsiam_loss(p1, p2, z1, z2).backward();
  CHECK(p1.grad().defined());
  CHECK(p1.grad().abs().sum().item<double>() > 0);
  CHECK(!z1.grad().defined());
  CHECK(!z2.grad().defined());
  const auto q1 = leaf(), q2 = leaf(), t1 = leaf(), t2 = leaf();
  byol_loss(q1, q2, t1, t2).backward();
  CHECK(q2.grad().abs().sum().item<double>() > 0);
  CHECK(!t1.grad().defined());
  CHECK(!t2.grad().defined());

  // On the networks: the online term's backward leaves the assistant's parameters without gradient; the assistant
  // term's reaches them.
  SiameseBranch online = sm_branch("simsiam", 16, 12, 8), assistant = sm_branch("simsiam", 20, 12, 8);
  const auto x = torch::randn({4, 3, 32, 32}, gen, torch::kFloat32);
  const auto xa = x.narrow(0, 0, 2), xb = x.narrow(0, 2, 2);
  auto on = online->forward(torch::cat({xa, xb})), as = assistant->forward(torch::cat({xa, xb}));
  auto terms = disiam_loss(on.p.chunk(2), as.p.chunk(2), as.z.chunk(2));
  terms.online.backward();
  for (const auto& p : assistant->parameters()) CHECK(!p.grad().defined());
  double online_grad = 0;
  for (const auto& p : online->parameters())
    if (p.grad().defined()) online_grad += p.grad().abs().sum().item<double>();
  CHECK(online_grad > 0);
  on = online->forward(torch::cat({xa, xb}));
  as = assistant->forward(torch::cat({xa, xb}));
  terms = disiam_loss(on.p.chunk(2), as.p.chunk(2), as.z.chunk(2));
  terms.assistant.backward();
  double assistant_grad = 0;
  for (const auto& p : assistant->predictor->parameters())
    if (p.grad().defined()) assistant_grad += p.grad().abs().sum().item<double>();
  CHECK(assistant_grad > 0);
}

TEST_CASE("BYOL's momentum schedule and EMA update equal hand-computed values", "[methods][siamese]") {
  // lightly's cosine_schedule(k, 5, 0.996, 1): 1 − 0.004·(cos(πk/4) + 1)/2
  CHECK(cosine_schedule(0, 5, 0.996, 1.0) == Approx(0.996).epsilon(1e-15));
  CHECK(cosine_schedule(1, 5, 0.996, 1.0) == Approx(1 - 0.004 * (std::cos(std::acos(-1.0) / 4) + 1) / 2));
  CHECK(cosine_schedule(2, 5, 0.996, 1.0) == Approx(0.998).epsilon(1e-15));
  CHECK(cosine_schedule(4, 5, 0.996, 1.0) == 1.0);
  CHECK(cosine_schedule(9, 5, 0.996, 1.0) == 1.0);
  CHECK(cosine_schedule(0, 1, 0.996, 1.0) == 1.0);
  auto xi = torch::tensor({1.0, -2.0}, torch::kFloat64), theta = torch::tensor({3.0, 0.0}, torch::kFloat64);
  ema_update({xi}, {theta}, 0.75);  // 0.75·ξ + 0.25·θ
  CHECK(xi[0].item<double>() == 1.5);
  CHECK(xi[1].item<double>() == -1.5);
  CHECK_THROWS_WITH(ema_update({xi}, {torch::zeros({3})}, 0.5), Catch::Contains("differ in shape"));
}

TEST_CASE("the Siamese heads, negative cosine and EMA equal lightly 1.6.0 and a PyTorch loop on the same float64 "
          "tensors",
          "[methods][siamese]") {
  const std::string python = std::string(CLCP_SOURCE_DIR) + "/build/lightly-venv/bin/python";
  if (!fs::exists(python)) {
    WARN("SKIPPED: no build/lightly-venv (ci/setup.sh installs it from ci/lightly-requirements.txt)");
    return;
  }
  test::TempDir dir;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  std::map<std::string, torch::Tensor> in;
  for (const char* k : {"p1", "p2", "z1", "z2"}) in[k] = torch::randn({6, 10}, gen, torch::kFloat64);
  in["x"] = torch::randn({6, 24}, gen, torch::kFloat64);
  in["ema_xi"] = torch::randn({5, 3}, gen, torch::kFloat64);
  for (int k = 0; k < 3; ++k) in["ema_theta" + std::to_string(k)] = torch::randn({5, 3}, gen, torch::kFloat64);
  save_safetensors(dir.path / "in.safetensors", in, {});
  const int rc = std::system(("'" + python + "' '" + CLCP_SOURCE_DIR + "/tests/parity/lightly_siamese_oracle.py' '" +
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
  CHECK(std::abs(sm_value(negative_cosine(in["p1"], in["z2"])) - out.at("nc").item<double>()) <= 1e-14);
  CHECK(std::abs(sm_value(simsiam_loss(in["p1"], in["p2"], in["z1"], in["z2"])) - out.at("simsiam").item<double>()) <=
        1e-14);
  // BYOL's 2 − 2cos form is 4 + 4 × lightly's example loss on the same tensors
  CHECK(std::abs(sm_value(byol_loss(in["p1"], in["p2"], in["z1"], in["z2"])) -
                 (4 + 4 * out.at("simsiam").item<double>())) <= 1e-13);

  // heads in training mode (batch statistics), lightly's weights loaded into ours
  struct Case {
    const char* name;
    std::string projector;
    bool is_projector;
  };
  for (const Case& c : {Case{"simsiam_projector", "simsiam", true}, Case{"simsiam_predictor", "simsiam", false},
                        Case{"byol_projector", "byol", true}, Case{"byol_predictor", "byol", false}}) {
    INFO(c.name);
    const bool simsiam = c.projector == "simsiam";
    SiameseBranch b = sm_branch(c.projector, 20, 12, simsiam ? 6 : 20);
    b->to(torch::kFloat64);
    b->train();
    auto& seq = c.is_projector ? b->projector : b->predictor;
    sm_load(seq, out, c.name);
    const auto x = c.is_projector ? in["x"] : in["x"].narrow(1, 0, 12);
    const auto ours = seq->forward(x);
    const double diff = (ours - out.at(std::string(c.name) + ".out")).abs().max().item<double>();
    INFO("max |ours - lightly| = " << diff);
    CHECK(diff <= 1e-12);
  }

  // three EMA steps of a K = 5 run against the PyTorch loop
  auto xi = in["ema_xi"].clone();
  for (int k = 0; k < 3; ++k) {
    const double tau = cosine_schedule(k, 5, 0.996, 1.0);
    CHECK(std::abs(tau - out.at("tau" + std::to_string(k)).item<double>()) <= 1e-15);
    ema_update({xi}, {in["ema_theta" + std::to_string(k)]}, tau);
  }
  CHECK((xi - out.at("ema_xi3")).abs().max().item<double>() <= 1e-15);
}
