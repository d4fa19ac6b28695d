// Two real processes over c10d ProcessGroupGloo (a FileStore in a temp folder): every collective of the Comm
// interface on known tensors (exact), gather_with_grad's backward, gradient averaging and parameter broadcast, the
// refusal of ranks whose plans differ, and the launcher stopping the others when one rank fails.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <vector>

#include "support/dist_ranks.hpp"
#include "suite/core/error.hpp"
#include "suite/dist/gather.hpp"
#include "suite/dist/grad_sync.hpp"

using namespace clcp;
using namespace clcp::test;

namespace {

bool same(const torch::Tensor& a, const torch::Tensor& b) {
  return a.sizes() == b.sizes() && a.scalar_type() == b.scalar_type() && torch::equal(a, b);
}

}  // namespace

// ---- the ranks' side (hidden: run only by run_ranks; names without commas, which a Catch test spec splits at) -

TEST_CASE("rank: collectives on known tensors", "[.rank]") {
  if (!is_rank()) return;
  auto comm = join_ranks();
  const int r = comm->rank(), w = comm->world();
  REQUIRE(w == 2);
  REQUIRE(comm->backend() == "gloo");

  auto b = r == 0 ? torch::arange(5, torch::kFloat32) * 1.5 : torch::zeros({5}, torch::kFloat32);
  comm->broadcast(b, 0);
  CHECK(same(b, torch::arange(5, torch::kFloat32) * 1.5));
  const auto big_ints = torch::tensor({int64_t{7}, int64_t{-3}, int64_t{1} << 40}, torch::kInt64);
  auto bi = r == 1 ? big_ints.clone() : torch::zeros({3}, torch::kInt64);
  comm->broadcast(bi, 1);
  CHECK(same(bi, big_ints));

  std::vector<torch::Tensor> sums{torch::arange(1000, torch::kFloat32) + (r + 1),
                                  torch::full({3}, static_cast<double>(10 * (r + 1)), torch::kFloat64)};
  comm->allreduce_sum(sums);
  CHECK(same(sums[0], 2 * torch::arange(1000, torch::kFloat32) + 3));  // (x + 1) + (x + 2)
  CHECK(same(sums[1], torch::full({3}, 30.0, torch::kFloat64)));

  const auto x = (torch::arange(6, torch::kFloat32) + 100 * r).view({3, 2});
  const auto g = comm->allgather_into(x);
  CHECK(same(g, torch::cat({torch::arange(6, torch::kFloat32).view({3, 2}),
                             (torch::arange(6, torch::kFloat32) + 100).view({3, 2})})));

  const auto y = (torch::arange(12, torch::kFloat32) + 1000 * r).view({4, 3});
  const auto s = comm->reduce_scatter_sum(y);  // rows [2r, 2r+2) of (y_0 + y_1) = 2·arange + 1000
  CHECK(same(s, (2 * torch::arange(12, torch::kFloat32) + 1000).view({4, 3}).narrow(0, 2 * r, 2)));
  comm->barrier();

  // One 1 M-float all-reduce over loopback: the median of 10 (after one warm-up), for the README.
  std::vector<torch::Tensor> big{torch::ones({1 << 20}, torch::kFloat32)};
  comm->allreduce_sum(big);
  std::vector<double> ms;
  for (int k = 0; k < 10; ++k) {
    const auto t0 = std::chrono::steady_clock::now();
    comm->allreduce_sum(big);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  CHECK(big[0][0].item<float>() == 2048.0f);  // 1 · 2^11 after 11 all-reduces of 2 ranks
  std::sort(ms.begin(), ms.end());
  write_rank_file(r, "allreduce_ms", std::to_string(ms[5]));
  write_rank_file(r, "done", "ok");
}

TEST_CASE("rank: gather with gradient and gradient averaging and parameter broadcast", "[.rank]") {
  if (!is_rank()) return;
  auto comm = join_ranks();
  const int r = comm->rank();

  // gather_with_grad: loss_r = Σ (gathered ⊙ m) with the same m on every rank, so ∂loss_s/∂x_r = m's rows of r and
  // the reduce-scatter gives each rank 2 · m[rows of r].
  auto x = torch::full({2, 3}, static_cast<double>(r + 1), torch::kFloat64).requires_grad_(true);
  const auto m = torch::arange(12, torch::kFloat64).view({4, 3});
  const auto gathered = dist::gather_with_grad(*comm, x);
  CHECK(same(gathered.detach(), torch::cat({torch::full({2, 3}, 1.0, torch::kFloat64),
                                             torch::full({2, 3}, 2.0, torch::kFloat64)})));
  (gathered * m).sum().backward();
  CHECK(same(x.grad(), 2 * m.narrow(0, 2 * r, 2)));
  // A non-contiguous incoming gradient (through a transpose) arrives in the right rows.
  auto x2 = (torch::arange(6, torch::kFloat64).view({2, 3}) + 10 * r).requires_grad_(true);
  const auto m2 = torch::arange(12, torch::kFloat64).view({3, 4});
  (dist::gather_with_grad(*comm, x2).t() * m2).sum().backward();
  CHECK(same(x2.grad(), 2 * m2.t().narrow(0, 2 * r, 2)));

  // average_gradients: a defined gradient everywhere, one only on rank 0 (zeros on rank 1), one nowhere.
  auto p = torch::zeros({3}, torch::kFloat32).requires_grad_(true);
  auto q = torch::zeros({2}, torch::kFloat32).requires_grad_(true);
  auto u = torch::zeros({2}, torch::kFloat32).requires_grad_(true);
  p.mutable_grad() = torch::tensor({1.0f, 2.0f, 3.0f}) * static_cast<float>(r + 1);
  if (r == 0) q.mutable_grad() = torch::tensor({2.0f, 4.0f});
  dist::average_gradients(*comm, {p, q, u}, /*bucket_bytes=*/8);  // tiny buckets: several collectives
  CHECK(same(p.grad(), torch::tensor({1.5f, 3.0f, 4.5f})));
  CHECK(same(q.grad(), torch::tensor({1.0f, 2.0f})));
  CHECK_FALSE(u.grad().defined());

  // broadcast_module: rank 1's differently initialised Linear (and a buffer) become rank 0's.
  torch::manual_seed(100 + r);
  torch::nn::Linear lin(4, 3);
  auto buf = lin->register_buffer("count", torch::tensor({static_cast<int64_t>(r + 5)}));
  dist::broadcast_module(*comm, *lin);
  torch::manual_seed(100);
  torch::nn::Linear ref(4, 3);
  CHECK(same(lin->weight.detach(), ref->weight.detach()));
  CHECK(same(lin->bias.detach(), ref->bias.detach()));
  CHECK(lin->named_buffers()["count"].item<int64_t>() == 5);

  // Plans that agree pass; any_rank and broadcast_string.
  dist::require_same_plan(*comm, "fingerprint abc cell x");
  CHECK(dist::any_rank(*comm, r == 1));
  CHECK_FALSE(dist::any_rank(*comm, false));
  CHECK(dist::broadcast_string(*comm, r == 0 ? "from rank 0" : "ignored") == "from rank 0");
  CHECK(dist::broadcast_string(*comm, r == 0 ? "" : "ignored") == "");
  write_rank_file(r, "done", "ok");
}

TEST_CASE("rank: plans that differ", "[.rank]") {
  if (!is_rank()) return;
  auto comm = join_ranks();
  const int r = comm->rank();
  std::string error = "(none)";
  try {
    dist::require_same_plan(*comm, r == 0 ? "fingerprint 0375f254fe497791 cell clcp-b4-lin.s0-6fc3ff7485f9"
                                          : "fingerprint 0375f254fe497791 cell clcp-b4-lin.s1-0123456789ab");
  } catch (const UserError& e) {
    error = e.what();
  }
  write_rank_file(r, "error", error);
}

TEST_CASE("rank: one rank fails", "[.rank]") {
  if (!is_rank()) return;
  if (std::atoi(std::getenv("RANK")) == 1) std::_Exit(3);  // before joining: rank 0 waits for it forever
  auto comm = join_ranks();
  comm->barrier();
}

TEST_CASE("rank: a peer dies after joining", "[.rank]") {
  if (!is_rank()) return;
  auto comm = join_ranks();
  comm->barrier();
  if (comm->rank() == 1) std::_Exit(3);
  std::signal(SIGTERM, SIG_IGN);  // outlive the launcher's SIGTERM to see what the collective says
  std::string error = "(none)";
  try {
    std::vector<torch::Tensor> t{torch::ones({4})};
    comm->allreduce_sum(t);
  } catch (const UserError& e) {
    error = e.what();
  }
  write_rank_file(0, "error", error);
}

// ---- the visible tests ------------------------------------------------------------------------------------------

TEST_CASE("two processes over Gloo broadcast, all-reduce, all-gather and reduce-scatter known tensors exactly",
          "[dist]") {
  const Ranks r = run_ranks("rank: collectives on known tensors", 2);
  INFO(r.result.what);
  REQUIRE(r.result.failed_rank == -1);
  CHECK(r.read(0, "done") == "ok");
  CHECK(r.read(1, "done") == "ok");
  std::printf("[dist] one 1 M-float all-reduce over Gloo, 2 ranks on loopback: median %.2f ms (rank 0), %.2f ms "
              "(rank 1)\n",
              std::stod(r.read(0, "allreduce_ms")), std::stod(r.read(1, "allreduce_ms")));
}

TEST_CASE("gather_with_grad's backward reduce-scatters, gradients average with zeros for missing ones, rank 0's "
          "parameters reach every rank",
          "[dist]") {
  const Ranks r = run_ranks("rank: gather with gradient and gradient averaging and parameter broadcast", 2);
  INFO(r.result.what);
  REQUIRE(r.result.failed_rank == -1);
  CHECK(r.read(0, "done") == "ok");
  CHECK(r.read(1, "done") == "ok");
}

TEST_CASE("ranks whose plan fingerprints differ all refuse to start, each with one line", "[dist]") {
  const Ranks r = run_ranks("rank: plans that differ", 2);
  REQUIRE(r.result.failed_rank == -1);
  CHECK(r.read(1, "error") ==
        "rank 1 of 2: plan fingerprint 0375f254fe497791 cell clcp-b4-lin.s1-0123456789ab differs from rank 0's "
        "fingerprint 0375f254fe497791 cell clcp-b4-lin.s0-6fc3ff7485f9; every rank must run the same command on the "
        "same data, inits and protocol: refusing to start");
  CHECK(r.read(0, "error") ==
        "rank 0 of 2: rank 1 disagrees with rank 0's plan fingerprint 0375f254fe497791 cell "
        "clcp-b4-lin.s0-6fc3ff7485f9 (their errors name theirs): refusing to start");
}

TEST_CASE("when one rank fails the launcher stops the others and reports that rank's exit status", "[dist]") {
  const auto t0 = std::chrono::steady_clock::now();
  const Ranks r = run_ranks("rank: one rank fails", 2);
  CHECK(r.result.failed_rank == 1);
  CHECK(r.result.exit_code == 3);
  CHECK(r.result.what == "rank 1 exited with status 3");
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60));  // rank 0 did not wait for its timeout
}

TEST_CASE("a collective whose peer died fails with one line on the surviving rank", "[dist]") {
  const Ranks r = run_ranks("rank: a peer dies after joining", 2);
  CHECK(r.result.failed_rank == 1);
  const std::string error = r.read(0, "error");
  INFO(error);
  CHECK(error.rfind("rank 0 of 2: allreduce over gloo failed (", 0) == 0);
  CHECK(error.find("); another rank probably stopped or timed out: see its error") != std::string::npos);
  CHECK(error.find('\n') == std::string::npos);
}
