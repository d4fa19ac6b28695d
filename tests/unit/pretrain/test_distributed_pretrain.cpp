// The data-parallel objective (suite/pretrain/distributed.hpp) checked through two real processes over c10d Gloo
// against one process: with global negatives and the batch B split 2 × B/2, the step's loss (mean of the rank terms)
// and the averaged gradients equal the one-process loss and gradients on B — for small projection heads with a
// temperature on fixed features (float64 and float32) and for the real ClcpModel (frozen lidar tower with BatchNorm
// in eval mode, so no statistic couples the samples). With local negatives the loss is the mean of the per-rank
// InfoNCE losses, checked by hand on one-hot embeddings.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "models/clcp/clcp_model.hpp"
#include "models/clcp/info_nce.hpp"
#include "suite/dist/grad_sync.hpp"
#include "suite/pretrain/distributed.hpp"
#include "support/dist_ranks.hpp"

using namespace clcp;
using namespace clcp::test;

namespace {

// ---- a small CLCP-like model: two linear heads and the inv_exp temperature on fixed features -----------------
struct Heads {
  torch::Tensor wi, bi, wl, bl, t;
  std::vector<torch::Tensor> params() const { return {wi, bi, wl, bl, t}; }
};

Heads make_heads(torch::Dtype dtype) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(11);
  const auto o = torch::TensorOptions(dtype);
  Heads h;
  h.wi = (torch::randn({8, 16}, gen, torch::kFloat64) * 0.3).to(dtype).requires_grad_(true);
  h.bi = (torch::randn({8}, gen, torch::kFloat64) * 0.1).to(dtype).requires_grad_(true);
  h.wl = (torch::randn({8, 12}, gen, torch::kFloat64) * 0.3).to(dtype).requires_grad_(true);
  h.bl = (torch::randn({8}, gen, torch::kFloat64) * 0.1).to(dtype).requires_grad_(true);
  h.t = torch::tensor(0.07, o).requires_grad_(true);
  return h;
}

constexpr int64_t kBatch = 8;

std::pair<torch::Tensor, torch::Tensor> features(torch::Dtype dtype) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(12);
  return {torch::randn({kBatch, 16}, gen, torch::kFloat64).to(dtype),
          torch::randn({kBatch, 12}, gen, torch::kFloat64).to(dtype)};
}

std::pair<torch::Tensor, torch::Tensor> embed(const Heads& h, const torch::Tensor& fi, const torch::Tensor& fl) {
  return {torch::addmm(h.bi, fi, h.wi.t()), torch::addmm(h.bl, fl, h.wl.t())};
}

torch::Dtype dtype_from_env() {
  const char* d = std::getenv("CLCP_TEST_DTYPE");
  return d && std::string(d) == "float32" ? torch::kFloat32 : torch::kFloat64;
}

// ---- the real ClcpModel, lidar tower frozen with BatchNorm in eval mode ---------------------------------------
constexpr int64_t kModelBatch = 4;

ClcpModel frozen_bn_eval_model() {
  ClcpModel m(ClcpModelOptions{"linear"});
  m->init_weights(7);
  m->point_cloud_encoder->backbone_frozen = true;
  for (auto& p : m->named_parameters(true))
    if (p.key().rfind("point_cloud_encoder.model.", 0) == 0) p.value().requires_grad_(false);
  m->train(true);
  m->point_cloud_encoder->backbone->eval();
  return m;
}

std::vector<torch::Tensor> trainable(ClcpModel& m) {
  std::vector<torch::Tensor> out;
  for (auto& p : m->named_parameters(true))
    if (p.value().requires_grad()) out.push_back(p.value());
  return out;
}

std::pair<torch::Tensor, std::vector<torch::Tensor>> model_inputs(int64_t first, int64_t rows) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(21);
  const auto images = torch::randn({kModelBatch, 3, 224, 224}, gen);
  std::vector<torch::Tensor> clouds;
  for (int64_t i = 0; i < kModelBatch; ++i)
    clouds.push_back(torch::rand({400, 4}, gen) * torch::tensor({20.0f, 10.0f, 3.0f, 255.0f}));
  return {images.narrow(0, first, rows),
          std::vector<torch::Tensor>(clouds.begin() + first, clouds.begin() + first + rows)};
}

std::vector<torch::Tensor> grads_of(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> g;
  for (const auto& p : params) g.push_back(p.grad().defined() ? p.grad().detach().clone() : torch::zeros_like(p));
  return g;
}

struct Difference {
  double loss_abs = 0, grad_abs = 0;
  double grad_rel = 0;     // max over tensors of ‖Δg‖ / ‖g‖
  double global_rel = 0;   // ‖Δg‖ / ‖g‖ over all tensors together
  size_t worst = 0;        // the tensor of grad_rel
  double worst_norm = 0;   // its ‖g‖
};

Difference compare(double loss_dp, double loss_1, const std::vector<torch::Tensor>& g_dp,
                   const std::vector<torch::Tensor>& g_1) {
  Difference d;
  d.loss_abs = std::abs(loss_dp - loss_1);
  REQUIRE(g_dp.size() == g_1.size());
  double diff_sq = 0, ref_sq = 0;
  for (size_t k = 0; k < g_1.size(); ++k) {
    const auto a = g_dp[k].to(torch::kFloat64), b = g_1[k].to(torch::kFloat64);
    d.grad_abs = std::max(d.grad_abs, (a - b).abs().max().item<double>());
    const double nb = b.norm().item<double>(), nd = (a - b).norm().item<double>();
    diff_sq += nd * nd;
    ref_sq += nb * nb;
    if (nb > 0 && nd / nb > d.grad_rel) {
      d.grad_rel = nd / nb;
      d.worst = k;
      d.worst_norm = nb;
    }
  }
  d.global_rel = std::sqrt(diff_sq / ref_sq);
  return d;
}

// The loss of the step as pretrain() logs it: the mean of the rank terms.
double mean_over_ranks(dist::Comm& comm, const torch::Tensor& loss_r) {
  std::vector<torch::Tensor> t{torch::tensor({loss_r.item<double>()}, torch::kFloat64)};
  comm.allreduce_sum(t);
  return t[0].item<double>() / comm.world();
}

void save_rank(int rank, const std::string& name, double loss, std::vector<torch::Tensor> grads) {
  grads.insert(grads.begin(), torch::tensor({loss}, torch::kFloat64));
  torch::save(grads, (rank_out() / ("rank" + std::to_string(rank) + "." + name)).string());
}

std::pair<double, std::vector<torch::Tensor>> load_rank(const Ranks& r, int rank, const std::string& name) {
  std::vector<torch::Tensor> v;
  torch::load(v, (r.out / ("rank" + std::to_string(rank) + "." + name)).string());
  const double loss = v.front().item<double>();
  v.erase(v.begin());
  return {loss, v};
}

}  // namespace

// ---- the ranks' side ---------------------------------------------------------------------------------------------

TEST_CASE("rank: one-hot embeddings under local and global negatives", "[.rank]") {
  if (!is_rank()) return;
  auto comm = join_ranks();
  const int r = comm->rank();
  const auto z = torch::eye(4, torch::kFloat64).narrow(0, 2 * r, 2);
  const auto scale = torch::tensor(2.0, torch::kFloat64);
  const double global = mean_over_ranks(*comm, rank_contrastive_loss(*comm, z, z, scale, "global"));
  const double local = mean_over_ranks(*comm, rank_contrastive_loss(*comm, z, z, scale, "local"));
  write_rank_file(r, "losses", fmt::format("{:.17g} {:.17g}", global, local));
}

TEST_CASE("rank: heads on fixed features", "[.rank]") {
  if (!is_rank()) return;
  auto comm = join_ranks();
  const int r = comm->rank(), w = comm->world();
  const auto dtype = dtype_from_env();
  const int64_t b = kBatch / w;
  for (const std::string negatives : {"global", "local"}) {
    Heads h = make_heads(dtype);
    dist::broadcast_tensors(*comm, h.params());
    const auto [fi, fl] = features(dtype);
    const auto [zi, zl] = embed(h, fi.narrow(0, r * b, b), fl.narrow(0, r * b, b));
    const auto loss_r = rank_contrastive_loss(*comm, zi, zl, logit_scale(h.t, "inv_exp"), negatives);
    const double loss = mean_over_ranks(*comm, loss_r);
    loss_r.backward();
    dist::average_gradients(*comm, h.params());
    save_rank(r, negatives, loss, grads_of(h.params()));
  }
}

TEST_CASE("rank: the ClcpModel with a frozen lidar tower", "[.rank]") {
  if (!is_rank()) return;
  torch::set_num_threads(1);
  auto comm = join_ranks();
  const int r = comm->rank();
  const int64_t b = kModelBatch / comm->world();
  ClcpModel m = frozen_bn_eval_model();
  dist::broadcast_module(*comm, *m);
  const auto [images, clouds] = model_inputs(r * b, b);
  const auto zi = m->image_encoder->forward(images);
  const auto zl = m->point_cloud_encoder->forward(clouds);
  const auto loss_r = rank_contrastive_loss(*comm, zi, zl, logit_scale(m->temperature_param(), "inv_exp"), "global");
  const double loss = mean_over_ranks(*comm, loss_r);
  loss_r.backward();
  const auto params = trainable(m);
  dist::average_gradients(*comm, params);
  save_rank(r, "model", loss, grads_of(params));
}

// ---- the visible tests ------------------------------------------------------------------------------------------

TEST_CASE("on one-hot embeddings the global loss is ln(e^s + B - 1) - s and the local one ln(e^s + B/W - 1) - s",
          "[pretrain][dist]") {
  const Ranks r = run_ranks("rank: one-hot embeddings under local and global negatives", 2);
  INFO(r.result.what);
  REQUIRE(r.result.failed_rank == -1);
  double global = 0, local = 0;
  REQUIRE(std::sscanf(r.read(0, "losses").c_str(), "%lf %lf", &global, &local) == 2);
  CHECK(r.read(1, "losses") == r.read(0, "losses"));
  // B = 4 over W = 2, scale s = 2: each query's positive scores s, every negative 0.
  CHECK(global == Approx(std::log(std::exp(2.0) + 3) - 2).epsilon(1e-14));
  CHECK(local == Approx(std::log(std::exp(2.0) + 1) - 2).epsilon(1e-14));
  // One process on the whole batch is the global objective.
  const auto z = torch::eye(4, torch::kFloat64);
  CHECK(info_nce(z, z, torch::tensor(2.0, torch::kFloat64)).item<double>() == Approx(global).epsilon(1e-14));
}

TEST_CASE("global negatives over 2 x B/2 give one process's loss and gradients on B, local ones the mean of the "
          "per-rank losses",
          "[pretrain][dist]") {
  for (const std::string dt : {"float64", "float32"}) {
    const torch::Dtype dtype = dt == "float32" ? torch::kFloat32 : torch::kFloat64;
    const Ranks r = run_ranks("rank: heads on fixed features", 2, {{"CLCP_TEST_DTYPE", dt}});
    INFO(dt << ": " << r.result.what);
    REQUIRE(r.result.failed_rank == -1);
    const auto [fi, fl] = features(dtype);

    // global: one process, the whole batch, info_nce as the one-process loop computes it
    Heads h = make_heads(dtype);
    const auto [zi, zl] = embed(h, fi, fl);
    const auto loss_1 = info_nce(zi, zl, logit_scale(h.t, "inv_exp"));
    loss_1.backward();
    const auto g_1 = grads_of(h.params());
    for (int rank = 0; rank < 2; ++rank) {
      const auto [loss_dp, g_dp] = load_rank(r, rank, "global");
      const Difference d = compare(loss_dp, loss_1.item<double>(), g_dp, g_1);
      std::printf("[dist] heads %s, global negatives, rank %d vs one process: |loss diff| %.3g, max |grad diff| "
                  "%.3g, max relative grad diff %.3g\n",
                  dt.c_str(), rank, d.loss_abs, d.grad_abs, d.grad_rel);
      const double tol = dtype == torch::kFloat64 ? 1e-13 : 1e-5;
      CHECK(d.loss_abs <= tol * std::abs(loss_1.item<double>()));
      CHECK(d.grad_rel <= tol);
    }

    // local: the documented objective, mean over ranks of info_nce over each rank's B/2 pairs
    Heads hl = make_heads(dtype);
    const auto [zi2, zl2] = embed(hl, fi, fl);
    const auto scale = logit_scale(hl.t, "inv_exp");
    const auto loss_local = 0.5 * (info_nce(zi2.narrow(0, 0, 4), zl2.narrow(0, 0, 4), scale) +
                                   info_nce(zi2.narrow(0, 4, 4), zl2.narrow(0, 4, 4), scale));
    loss_local.backward();
    const auto g_local = grads_of(hl.params());
    const auto [loss_dp, g_dp] = load_rank(r, 0, "local");
    const Difference d = compare(loss_dp, loss_local.item<double>(), g_dp, g_local);
    std::printf("[dist] heads %s, local negatives vs the mean of the per-rank losses: |loss diff| %.3g, max "
                "relative grad diff %.3g; local loss %.6f, global loss %.6f\n",
                dt.c_str(), d.loss_abs, d.grad_rel, loss_dp, loss_1.item<double>());
    const double tol = dtype == torch::kFloat64 ? 1e-13 : 1e-5;
    CHECK(d.loss_abs <= tol * std::abs(loss_local.item<double>()));
    CHECK(d.grad_rel <= tol);
    CHECK(std::abs(loss_dp - loss_1.item<double>()) > 1e-3);  // a different objective
  }
}

TEST_CASE("the real ClcpModel over 2 ranks with global negatives has one process's loss and gradients",
          "[slow][pretrain][dist]") {
  const Ranks r = run_ranks("rank: the ClcpModel with a frozen lidar tower", 2);
  INFO(r.result.what);
  REQUIRE(r.result.failed_rank == -1);
  ClcpModel m = frozen_bn_eval_model();
  const auto [images, clouds] = model_inputs(0, kModelBatch);
  const auto loss_1 =
      info_nce(m->image_encoder->forward(images), m->point_cloud_encoder->forward(clouds),
               logit_scale(m->temperature_param(), "inv_exp"));
  loss_1.backward();
  const auto g_1 = grads_of(trainable(m));
  std::vector<std::string> names;
  for (auto& p : m->named_parameters(true))
    if (p.value().requires_grad()) names.push_back(p.key());
  double max_abs = 0;
  for (const auto& g : g_1) max_abs = std::max(max_abs, g.abs().max().item<double>());
  for (int rank = 0; rank < 2; ++rank) {
    const auto [loss_dp, g_dp] = load_rank(r, rank, "model");
    const Difference d = compare(loss_dp, loss_1.item<double>(), g_dp, g_1);
    std::printf("[dist] ClcpModel (ViT-S/16 + linear head + temperature trainable, frozen MinkUNet in eval BN), "
                "float32, B = 4 as 2 x 2, rank %d vs one process: |loss diff| %.3g (loss %.6f), max |grad diff| "
                "%.3g (largest |grad| %.3g), relative grad diff over all %zu tensors %.3g, worst tensor %s %.3g "
                "(its norm %.3g)\n",
                rank, d.loss_abs, loss_1.item<double>(), d.grad_abs, max_abs, g_1.size(), d.global_rel,
                names[d.worst].c_str(), d.grad_rel, d.worst_norm);
    CHECK(d.loss_abs <= 1e-5 * std::abs(loss_1.item<double>()));
    CHECK(d.global_rel <= 1e-4);
    CHECK(d.grad_abs <= 1e-4 * max_abs);
  }
}
