#include "suite/dist/comm.hpp"

#include <fmt/format.h>

#include <cstring>

#include "suite/core/error.hpp"
#include "suite/dist/backend_comm.hpp"

namespace clcp::dist {

std::unique_ptr<Comm> connect(const RankEnv& env, const CommOptions& options) {
  if (options.backend != "gloo" && options.backend != "nccl")
    fail("distributed backend \"{}\": expected \"gloo\" (CPU) or \"nccl\" (CUDA)", options.backend);
  if (env.world == 1) return std::make_unique<SingleComm>(options.backend == "nccl" ? torch::Device(torch::kCUDA)
                                                                                     : torch::Device(torch::kCPU));
  return options.backend == "gloo" ? detail::connect_gloo(env, options) : detail::connect_nccl(env, options);
}

bool nccl_available() { return detail::nccl_compiled(); }

std::string broadcast_string(Comm& comm, const std::string& s, int root) {
  if (comm.world() == 1) return s;
  const auto opts = torch::TensorOptions(torch::kInt64).device(comm.device());
  auto n = torch::tensor({static_cast<int64_t>(s.size())}, torch::kInt64).to(comm.device());
  comm.broadcast(n, root);
  const int64_t len = n.cpu().item<int64_t>();
  auto bytes = torch::zeros({std::max<int64_t>(len, 1)}, opts.dtype(torch::kUInt8));
  if (comm.rank() == root && len > 0) {
    auto host = torch::from_blob(const_cast<char*>(s.data()), {len}, torch::kUInt8).clone();
    bytes.copy_(host);
  }
  comm.broadcast(bytes, root);
  const auto host = bytes.cpu().contiguous();
  return std::string(reinterpret_cast<const char*>(host.data_ptr<uint8_t>()), static_cast<size_t>(len));
}

bool any_rank(Comm& comm, bool flag) {
  if (comm.world() == 1) return flag;
  std::vector<torch::Tensor> t{torch::tensor({flag ? 1.0 : 0.0}, torch::kFloat64).to(comm.device())};
  comm.allreduce_sum(t);
  return t[0].cpu().item<double>() > 0;
}

std::vector<int> ranks_differing_from_root(Comm& comm, const std::string& value) {
  if (comm.world() == 1) return {};
  const std::string root = broadcast_string(comm, value, 0);
  // One flag per rank, summed: every rank learns who differs.
  auto flags = torch::zeros({comm.world()}, torch::kFloat64);
  flags[comm.rank()] = root == value ? 0.0 : 1.0;
  std::vector<torch::Tensor> t{flags.to(comm.device())};
  comm.allreduce_sum(t);
  const auto host = t[0].cpu();
  std::vector<int> out;
  for (int r = 0; r < comm.world(); ++r)
    if (host[r].item<double>() > 0) out.push_back(r);
  return out;
}

void require_same_plan(Comm& comm, const std::string& plan) {
  if (comm.world() == 1) return;
  const std::string root = broadcast_string(comm, plan, 0);
  const std::vector<int> differ = ranks_differing_from_root(comm, plan);
  if (differ.empty()) return;
  if (plan != root)
    fail("rank {} of {}: plan {} differs from rank 0's {}; every rank must run the same command on the same data, "
         "inits and protocol: refusing to start",
         comm.rank(), comm.world(), plan, root);
  std::string list;
  for (const int r : differ) list += (list.empty() ? "" : ", ") + std::to_string(r);
  fail("rank {} of {}: rank{} {} disagree{} with rank 0's plan {} (their errors name theirs): refusing to start",
       comm.rank(), comm.world(), differ.size() > 1 ? "s" : "", list, differ.size() > 1 ? "" : "s", root);
}

void root_first(Comm& comm, const std::string& what, const std::function<void()>& f) {
  if (comm.world() == 1) return f();
  std::exception_ptr error;
  if (comm.rank() == 0) {
    try {
      f();
    } catch (...) {
      error = std::current_exception();
    }
  }
  auto ok = torch::tensor({error ? int64_t{0} : int64_t{1}}, torch::kInt64).to(comm.device());
  comm.broadcast(ok, 0);
  if (comm.rank() == 0) {
    if (error) std::rethrow_exception(error);
    return;
  }
  if (ok.cpu().item<int64_t>() == 0)
    fail("rank {} of {}: rank 0 failed while {} (its error is above); stopping too", comm.rank(), comm.world(), what);
  f();
}

}  // namespace clcp::dist
